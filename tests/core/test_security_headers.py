"""A strict Content-Security-Policy, and templates that need nothing looser:
no inline scripts or styles, no inline event handlers, no hx-on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import url_for

from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def template_files() -> list[Path]:
    files = list((ROOT / "templates").rglob("*.html"))
    files += list((ROOT / "plugins").glob("*/templates/**/*.html"))
    files += list((ROOT / "examples").glob("**/templates/**/*.html"))
    return sorted(files)


FORBIDDEN = {
    "inline <script> (no src)": re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.I),
    "<style> element": re.compile(r"<style\b", re.I),
    "style= attribute": re.compile(r"\sstyle\s*=", re.I),
    "hx-on handler": re.compile(r"\bhx-on", re.I),
    "on…= event handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def offences(text: str) -> list[str]:
    return [name for name, pattern in FORBIDDEN.items() if pattern.search(text)]


def test_the_template_scan_sees_every_template_folder():
    files = {str(p.relative_to(ROOT)) for p in template_files()}
    assert "templates/base.html" in files
    if (ROOT / "examples" / "wangge-noticeboard").is_dir():
        assert any(f.startswith("examples/wangge-noticeboard/") for f in files)


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<div style="color:red">',
        '<button hx-on:click="x()">',
        '<a onclick="x()">',
        '<body onload="x()">',
        "<style>p{}</style>",
        '<a href="javascript:x()">',
    ],
)
def test_the_scan_catches(snippet):
    assert offences(snippet)


def test_the_scan_allows_what_the_app_uses():
    assert offences('<script src="/static/js/app.js" defer></script><div class="x" data-confirm="ok?">') == []


def test_no_template_needs_unsafe_inline():
    bad = {
        str(p.relative_to(ROOT)): found
        for p in template_files()
        if (found := offences(p.read_text(encoding="utf-8")))
    }
    assert bad == {}


def _assert_strict_csp(resp):
    csp = resp.headers.get("Content-Security-Policy", "")
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    assert directives.get("default-src") == "'self'"
    assert directives.get("script-src") == "'self'" and directives.get("style-src") == "'self'"
    assert directives.get("object-src") == "'none'" and directives.get("frame-ancestors") == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"


def test_every_kind_of_response_carries_the_csp(client, tree, login):
    _assert_strict_csp(client.get("/login"))
    _assert_strict_csp(client.get("/no-such-page"))
    _assert_strict_csp(client.get("/static/js/app.js"))
    factories.make_user("boss", "district_admin", tree.district)
    login("boss")
    # The core's pages and the first page of every installed module.
    reg = client.application.extensions["wangge"].registry
    module_pages = [
        url_for(n.endpoint) for n in reg.nav_items
        if n.module != "core" and (not n.permission or "district_admin" in reg.actions[n.permission].default_roles)
    ]
    for url in ("/", "/admin/modules", "/admin/audit", "/exports", *module_pages):
        resp = client.get(url)
        assert resp.status_code == 200, url
        _assert_strict_csp(resp)
        assert offences(resp.get_data(as_text=True)) == [], url


def test_htmx_is_configured_not_to_inject_styles_or_eval(client):
    html = client.get("/login").get_data(as_text=True)
    meta = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html)
    assert meta and '"includeIndicatorStyles": false' in meta.group(1) and '"allowEval": false' in meta.group(1)
    # The random CSRF token may spell "cdn" by chance: leave tokens out of the check.
    without_tokens = re.sub(r'("X-CSRFToken": "|name="csrf_token" value=")[^"]*', r"\1", html)
    assert "cdn" not in without_tokens.lower()
