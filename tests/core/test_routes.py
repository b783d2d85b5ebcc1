"""Every route declares who may use it, and every state change needs a CSRF token.

Both walk app.url_map of an app with every plugin loaded (the built-ins,
the entry-point plugins such as the example notice board), so a route
added by any module is covered the day it appears.
"""

from __future__ import annotations

import re

import pytest
from flask import Blueprint

from core import security
from core.extensions import csrf
from tests import factories
from tests.core.conftest import row_counts
from tests.core.fakes import module_plugin

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Blueprints exempt from CSRF because they are machine APIs with their own key
# authentication, not browser forms. Nothing else may be exempt.
CSRF_EXEMPT_BLUEPRINTS = {"open311"}


def _is_static(app, endpoint: str) -> bool:
    """Flask's own static-file endpoints: the app's and those of blueprints with a static folder."""
    if endpoint == "static":
        return app.has_static_folder
    owner, _, name = endpoint.rpartition(".")
    return name == "static" and owner in app.blueprints and app.blueprints[owner].has_static_folder


def undeclared_views(app) -> list[str]:
    """Endpoints whose view has no permission declaration (static files excepted)."""
    reg = app.extensions["wangge"].registry
    valid = {security.PUBLIC, security.SIGNED_IN, *reg.actions}
    bad = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if _is_static(app, rule.endpoint):
            continue
        declared = getattr(view, "wangge_permission", None)
        if declared not in valid:
            bad.append(f"{rule.rule} -> {rule.endpoint} ({declared!r})")
    return sorted(set(bad))


def test_every_view_declares_its_permission(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    # Plugins' blueprints are walked too (the example plugin comes via its entry point).
    assert {"auth.login", "admin.module_switch"} <= endpoints
    # Every installed module's blueprints are walked too (built-ins and entry-point plugins).
    reg = app.extensions["wangge"].registry
    assert {bp for bp, _m in reg.blueprint_module.items()} <= {e.split(".")[0] for e in endpoints}
    assert undeclared_views(app) == []


def test_the_walk_catches_a_view_without_a_declaration(app_factory):
    bp = Blueprint("careless", __name__, url_prefix="/careless")

    @bp.route("/")
    def forgot():
        return "anyone gets in"

    @bp.route("/typo")
    @security.requires("careless.veiw")
    def typo():
        return "nobody gets in"

    @bp.route("/ok")
    @security.public
    def fine():
        return "ok"

    app = app_factory(extra_plugins=[module_plugin("careless", wangge_blueprints=lambda: [bp])])
    assert undeclared_views(app) == [
        "/careless/ -> careless.forgot (None)",
        "/careless/typo -> careless.typo ('careless.veiw')",
    ]


def _csrf_token(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert m, "no CSRF token in the page"
    return m.group(1)


def _dummy_url(rule, ids: dict[str, int]) -> str:
    def fill(m):
        converter, name = m.group(1) or "default", m.group(2)
        if converter.startswith(("int", "float")):
            return str(ids.get(name, 1))
        return "x"

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", fill, rule.rule)


@pytest.fixture
def csrf_app(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app


def _sign_in_with_token(client, username):
    token = _csrf_token(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"username": username, "password": factories.PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    return client


def test_every_state_change_without_a_csrf_token_is_refused_and_saves_nothing(csrf_app):
    app = csrf_app
    t = factories.build_tree()
    admin = factories.make_user("boss", "district_admin", t.district)
    other = factories.make_user("other", "grid_worker", t.zones[0])
    client = _sign_in_with_token(app.test_client(), "boss")
    ids = {"node_id": t.estates[0].id, "user_id": other.id, "grant_id": other.grants[0].id, "org_id": 1}
    exempt_bps = {bp.name for bp in csrf._exempt_blueprints if app.blueprints.get(bp.name) is bp}
    exempt_views = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if f"{app.view_functions[rule.endpoint].__module__}.{app.view_functions[rule.endpoint].__name__}"
        in csrf._exempt_views
    }
    assert exempt_views == set()
    assert exempt_bps == CSRF_EXEMPT_BLUEPRINTS & set(app.blueprints)

    before = row_counts()
    tried = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in exempt_bps:
            continue
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            url = _dummy_url(rule, ids)
            resp = client.open(url, method=method, data={"name": "x", "title": "x", "enabled": "0"})
            tried.append(f"{method} {url}")
            assert resp.status_code == 400, f"{method} {url} ({rule.endpoint}) answered {resp.status_code}"
            assert "页面已过期" in resp.get_data(as_text=True)  # the expired-form (CSRF) page, in Chinese
    assert row_counts() == before
    assert "POST /logout" in tried and "POST /admin/modules/switch" in tried
    if "noticeboard" in app.extensions["wangge"].registry.modules:
        assert "POST /noticeboard/new" in tried
    assert admin.id  # still signed in: the session was not dropped
    assert client.get("/").status_code == 200


def test_with_the_token_the_same_form_saves(csrf_app):
    """The control: the refusal above is CSRF's, not a broken form."""
    t = factories.build_tree()
    factories.make_user("boss", "district_admin", t.district)
    client = _sign_in_with_token(csrf_app.test_client(), "boss")
    token = _csrf_token(client.get("/admin/users/new").get_data(as_text=True))
    data = {
        "username": "newbie", "display_name": "新人", "password": "long-enough-1", "active": "y",
        "organisation_id": "0", "g-role": "grid_worker", "g-node_code": t.zones[0].code,
    }
    before = row_counts()["user_account"]
    assert client.post("/admin/users/new", data=data).status_code == 400
    assert row_counts()["user_account"] == before
    resp = client.post("/admin/users/new", data={**data, "csrf_token": token})
    assert resp.status_code == 302
    assert row_counts()["user_account"] == before + 1
