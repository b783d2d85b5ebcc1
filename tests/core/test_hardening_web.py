"""Hardening of the web layer (issue 11, items 8 and 14): HSTS and no-store
(core.headers), extreme parameters never a 500, the CSRF-expired and the
file-too-large pages (core.errors_extra)."""

from __future__ import annotations

import re

from flask import Blueprint
from flask_login import login_required

from core import errors_extra, headers
from core.security import requires
from tests import factories

CORE_BLUEPRINTS = {"main", "auth", "admin", "grid", "jobs", "inbox", "staffing"}


def test_hsts_only_in_production(app_factory):
    prod = app_factory(ENV_NAME="production")
    headers.install(prod)
    resp = prod.test_client().get("/login")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    dev = app_factory()
    headers.install(dev)
    assert "Strict-Transport-Security" not in dev.test_client().get("/login").headers


def test_pages_of_a_signed_in_user_and_exports_are_not_stored(app, client, tree, login):
    headers.install(app)
    factories.make_user("boss", "district_admin", tree.district)
    assert client.get("/login").headers.get("Cache-Control") != "no-store"
    login("boss")
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/admin/users/export.xlsx").headers["Cache-Control"] == "no-store"
    static = client.get("/static/css/app.css")
    assert static.headers.get("Cache-Control") != "no-store"


def _core_rules(app):
    for rule in app.url_map.iter_rules():
        bp = rule.endpoint.split(".")[0]
        if bp in CORE_BLUEPRINTS and "GET" in rule.methods and not rule.endpoint.endswith("static"):
            yield rule


def test_extreme_parameters_on_every_core_route_answer_4xx_never_500(app, client, tree, login):
    factories.make_user("boss", "district_admin", tree.district)
    login("boss")
    app.config["TESTING_RAISE"] = False  # a 500 is answered, not raised: we count them
    app.testing = False
    bad = []
    queries = [
        "page=" + "9" * 20, "page=-1", "page=0", "page=abc", "year=0001", "year=9999", "month=9999-13",
        "from=0001-01-01&to=9999-12-31", "date=9999-12-31", "day=0001-01-01", "q=" + "%00" * 5,
        "community=" + "9" * 20, "id=" + "9" * 20,
    ]
    rules = list(_core_rules(app))
    assert len(rules) > 10
    for rule in rules:
        args = {}
        for name in rule.arguments:
            conv = rule._converters[name].__class__.__name__
            args[name] = 10**20 if "Integer" in conv else "9" * 20
        try:
            path = rule.build(args, append_unknown=False)[1]
        except Exception:  # noqa: BLE001 - a converter that refuses the value: nothing to call
            continue
        for query in [""] + (queries if not rule.arguments else queries[:1]):
            resp = client.get(path + ("?" + query if query else ""))
            if resp.status_code >= 500:
                bad.append(f"{path}?{query} -> {resp.status_code}")
            if rule.arguments and "Integer" in str([c.__class__.__name__ for c in rule._converters.values()]):
                assert resp.status_code in (400, 404, 405), (path, resp.status_code)
    assert not bad, bad


def _form_app(app_factory, **config):
    app = app_factory(**{"WTF_CSRF_ENABLED": True, **config})
    errors_extra.install(app)
    bp = Blueprint("formtest", __name__)

    @bp.route("/formtest", methods=["POST"])
    @requires(None)
    @login_required
    def formtest():
        return "ok"

    app.register_blueprint(bp)
    return app


def test_the_csrf_expired_page_is_chinese_and_keeps_what_was_typed(app_factory):
    app = _form_app(app_factory)
    with app.app_context():
        c = app.test_client()
        resp = c.post(
            "/formtest", data={"title": "楼道堆放杂物", "note": "三楼\n东侧", "password": "secret-1"},
            headers={"Referer": "http://localhost/grid/"},
        )
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400
        assert "页面已过期" in html and "楼道堆放杂物" in html and "重新提交" in html
        assert "secret-1" not in html
        assert re.search(r'name="csrf_token" value="[^"]+"', html)
        # From another site: the message, not the values.
        other = c.post("/formtest", data={"title": "X-evil"}, headers={"Origin": "http://evil.example"})
        assert other.status_code == 400 and "X-evil" not in other.get_data(as_text=True)
        c.post("/locale", data={"locale": "en"})


def test_the_413_page_is_chinese_and_names_the_limit(app_factory):
    app = _form_app(app_factory, MAX_CONTENT_LENGTH=1024 * 1024, WTF_CSRF_ENABLED=False)
    with app.app_context():
        resp = app.test_client().post("/login", data={"username": "x", "password": "y" * (2 * 1024 * 1024)})
        html = resp.get_data(as_text=True)
    assert resp.status_code == 413 and "文件过大" in html and "1 MB" in html


def test_control_characters_in_forms_and_queries_are_cleaned_on_the_way_in(client, tree, login):
    from sqlalchemy import select

    from core.extensions import db
    from core.models import User

    factories.make_user("boss", "district_admin", tree.district)
    login("boss")
    assert client.get("/admin/users?q=bo%00ss").status_code == 200
    resp = client.post(
        "/admin/users/new",
        data={
            "username": "li.si", "display_name": "李\x00四\x1b", "password": "given-by-admin-7", "active": "y",
            "organisation_id": "0", "g-role": "grid_worker", "g-node_code": tree.zones[0].code,
        },
    )
    assert resp.status_code == 302
    assert db.session.scalar(select(User.display_name).where(User.username == "li.si")) == "李四"
