"""Error pages in the user's language: Chinese by default, English after the switch."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import func, select

from core import security
from core.audit import record
from core.extensions import db
from core.models import AuditLog
from tests import factories
from tests.core.conftest import sign_in
from tests.core.fakes import module_plugin


def test_404_in_chinese_then_english(client):
    resp = client.get("/no-such-page")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404 and "页面不存在" in html and 'lang="zh-CN"' in html
    client.post("/locale", data={"locale": "en"})
    html = client.get("/no-such-page").get_data(as_text=True)
    assert "Page not found" in html and "页面不存在" not in html and 'lang="en"' in html


def test_403_in_chinese_then_english(client, tree, login):
    factories.make_user("gw", "grid_worker", tree.zones[0])
    login("gw")
    resp = client.get("/admin/")
    assert resp.status_code == 403 and "您没有权限" in resp.get_data(as_text=True)
    client.post("/locale", data={"locale": "en"})
    resp = client.get("/admin/")
    assert resp.status_code == 403 and "You may not do this" in resp.get_data(as_text=True)


def test_an_error_in_an_htmx_request_lands_in_the_flash_area(client, tree, login):
    factories.make_user("gw", "grid_worker", tree.zones[0])
    login("gw")
    resp = client.get("/admin/users", headers={"HX-Request": "true"})
    assert resp.status_code == 403 and resp.headers["HX-Retarget"] == "#flash"
    html = resp.get_data(as_text=True)
    assert "您没有权限" in html and "<html" not in html


def test_500_says_sorry_in_the_user_s_language_and_saves_nothing(fake_app):
    bp = Blueprint("crash", __name__, url_prefix="/crash")

    @bp.route("/", methods=["POST"])
    @security.public
    def boom():
        record("half.done", summary="this must not stay")
        db.session.flush()
        raise RuntimeError("something deep broke")

    app = fake_app(
        module_plugin("crash", wangge_blueprints=lambda: [bp]), TESTING_RAISE=False, PROPAGATE_EXCEPTIONS=False
    )
    client = app.test_client()
    before = db.session.scalar(select(func.count()).select_from(AuditLog))
    resp = client.post("/crash/")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 500 and "出错了" in html and "something deep broke" not in html
    assert "Traceback" not in html
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == before
    client.post("/locale", data={"locale": "en"})
    resp = client.post("/crash/")
    assert resp.status_code == 500 and "Something went wrong" in resp.get_data(as_text=True)


def test_a_signed_in_user_s_language_follows_them(fake_app):
    app = fake_app()
    t = factories.build_tree()
    factories.make_user("gw", "grid_worker", t.zones[0])
    first = sign_in(app.test_client(), "gw")
    first.post("/locale", data={"locale": "en"})
    # A new browser: the account's choice applies after signing in.
    second = sign_in(app.test_client(), "gw")
    assert "Page not found" in second.get("/no-such-page").get_data(as_text=True)
