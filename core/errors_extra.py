"""Two error pages the lead registers in core/app.py (`install(app)`):

- an expired or missing CSRF token (400): in the user's language, and when the
  form came from this site, the typed values are offered again in a form with
  a fresh token (never passwords or files), so nothing typed is lost;
- a file too large (413): in the user's language, with the limit.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, make_response, render_template, request
from flask_wtf.csrf import CSRFError

from .web import is_fragment_request

SKIP = ("csrf_token", "password", "current", "new", "confirm")


def _same_origin() -> bool:
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return bool(source) and urlsplit(source).netloc == request.host


def _typed() -> list[tuple[str, str]]:
    if request.method != "POST" or not _same_origin():
        return []
    out = []
    for key, values in request.form.lists():
        if key in SKIP or "password" in key.lower():
            continue
        for v in values:
            out.append((key, v[:5000]))
    return out[:200]


def _page(template, status, **ctx):
    if is_fragment_request():
        resp = make_response(render_template(template, fragment=True, **ctx), status)
        resp.headers["HX-Retarget"] = "#flash"
        resp.headers["HX-Reswap"] = "innerHTML"
        return resp
    return make_response(render_template(template, **ctx), status)


def csrf_expired(exc):
    return _page("errors/csrf.html", 400, typed=_typed(), action=request.path)


def too_large(exc):
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return _page("errors/413.html", 413, limit_mb=max(1, limit // (1024 * 1024)))


def install(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_expired)
    app.register_error_handler(413, too_large)
