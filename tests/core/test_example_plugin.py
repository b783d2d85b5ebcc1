"""The example third-party plugin (examples/wangge-noticeboard), installed as
its own package and loaded through the `wangge.plugins` entry point."""

from __future__ import annotations

import io
from importlib.metadata import entry_points

import pytest
from flask import url_for
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.extensions import db
from core.plugins import ENTRY_POINT_GROUP
from tests.core.conftest import choose_community, nav_modules, row_counts, switch_module
from tests.factories import make_user

wangge_noticeboard = pytest.importorskip(
    "wangge_noticeboard", reason="install it: .venv/bin/pip install -e examples/wangge-noticeboard"
)
from wangge_noticeboard.models import Notice  # noqa: E402


def post_notice(client, node, title, body="明天上午九点开会。"):
    return client.post("/noticeboard/new", data={"node_id": node.id, "title": title, "body": body})


def test_it_is_installed_as_a_package_and_loaded_through_the_entry_point(app):
    eps = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert eps["noticeboard"].value == "wangge_noticeboard"
    state = app.extensions["wangge"]
    assert state.pm.get_plugin("noticeboard") is wangge_noticeboard
    assert str(state.registry.modules["noticeboard"].title) == "公告栏"
    assert state.registry.blueprint_module["noticeboard"] == "noticeboard"
    assert {"noticeboard.view", "noticeboard.post"} <= set(state.registry.actions)
    assert any(d.endswith("wangge_noticeboard/migrations/versions") for d in state.registry.migration_dirs)


def test_not_loaded_when_entry_points_are_off(app_factory):
    app = app_factory(LOAD_ENTRY_POINTS=False)
    assert "noticeboard" not in app.extensions["wangge"].registry.modules
    assert "noticeboard.index" not in app.view_functions


def test_community_admin_posts_and_reads_notices_in_chinese(client, tree, login, two_community_admin):
    login("ca-both")
    c1, c2 = tree.communities
    resp = post_notice(client, c1, "垃圾分类宣传周")
    assert resp.status_code == 302
    page = client.get("/noticeboard/").get_data(as_text=True)
    assert "公告栏" in page and "垃圾分类宣传周" in page
    # The panel of a building in c1 shows the community's notice; c2's does not.
    b1 = next(b for b in tree.buildings if b.community_id == c1.id)
    b2 = next(b for b in tree.buildings if b.community_id == c2.id)
    assert "垃圾分类宣传周" in client.get(f"/noticeboard/panel/{b1.id}").get_data(as_text=True)
    assert "垃圾分类宣传周" not in client.get(f"/noticeboard/panel/{b2.id}").get_data(as_text=True)


def test_bad_notice_keeps_what_was_typed_and_saves_nothing(client, tree, login, two_community_admin):
    login("ca-both")
    before = db.session.scalar(select(func.count()).select_from(Notice))
    resp = post_notice(client, tree.communities[0], "", body="只写了正文")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'class="error"' in html and "只写了正文" in html
    assert db.session.scalar(select(func.count()).select_from(Notice)) == before


def test_a_grid_worker_reads_but_cannot_post(client, tree, login):
    make_user("gw", "grid_worker", tree.estates[0])
    login("gw")
    assert client.get("/noticeboard/").status_code == 200
    assert client.get("/noticeboard/new").status_code == 403
    # A panel for a node outside the worker's grid is not there for them.
    outside = tree.estates[-1]
    assert client.get(f"/noticeboard/panel/{outside.id}").status_code == 404


def test_switch_off_for_one_community_hides_it_there_only_and_keeps_the_data(
    app, client, tree, login, two_community_admin
):
    login("ca-both")
    c1, c2 = tree.communities
    assert post_notice(client, c1, "一社区的公告").status_code == 302
    assert post_notice(client, c2, "二社区的公告").status_code == 302
    estate1 = next(e for e in tree.estates if e.community_id == c1.id)

    choose_community(client, c1.id)
    dash = client.get("/").get_data(as_text=True)
    assert "noticeboard" in nav_modules(dash)
    assert 'data-widget="noticeboard.latest"' in dash
    assert "一社区的公告" in client.get("/noticeboard/").get_data(as_text=True)

    resp = switch_module(client, "noticeboard", False, c1.id)
    assert resp.status_code == 200
    counts = row_counts()

    # In c1: no nav item, no widget, no panel; its URLs answer the module-off page.
    dash = client.get("/").get_data(as_text=True)
    assert "noticeboard" not in nav_modules(dash)
    assert "noticeboard.latest" not in dash
    off = client.get("/noticeboard/")
    assert off.status_code == 404
    text = off.get_data(as_text=True)
    assert "模块已关闭" in text and "公告栏" in text and c1.name in text
    assert client.get(f"/noticeboard/panel/{estate1.id}").status_code == 404
    node_page = client.get(url_for("grid.node", node_id=estate1.id, _external=False)).get_data(as_text=True)
    assert 'data-panel="noticeboard.notices"' not in node_page

    # In c2 (chosen in the header's switcher) everything is still there.
    choose_community(client, c2.id)
    dash = client.get("/").get_data(as_text=True)
    assert "noticeboard" in nav_modules(dash)
    assert "二社区的公告" in client.get("/noticeboard/").get_data(as_text=True)

    # Nothing was deleted; switching on again shows c1's notice again.
    assert row_counts() == counts
    assert switch_module(client, "noticeboard", True, c1.id).status_code == 200
    choose_community(client, c1.id)
    assert "noticeboard" in nav_modules(client.get("/").get_data(as_text=True))
    assert "一社区的公告" in client.get("/noticeboard/").get_data(as_text=True)
    assert "一社区的公告" in client.get(f"/noticeboard/panel/{estate1.id}").get_data(as_text=True)
    node_page = client.get(url_for("grid.node", node_id=estate1.id, _external=False)).get_data(as_text=True)
    assert 'data-panel="noticeboard.notices"' in node_page
    assert url_for("noticeboard.panel", node_id=estate1.id, _external=False) in node_page


def test_export_lists_the_notices_in_excel(client, tree, login, two_community_admin):
    login("ca-both")
    post_notice(client, tree.communities[0], "=危险公式")
    resp = client.get("/noticeboard/export.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][3] == "标题"
    assert rows[1][1] == tree.communities[0].name and rows[1][3] == "'=危险公式"


def test_exports_page_lists_it(client, tree, login, two_community_admin):
    login("ca-both")
    assert "/noticeboard/export.xlsx" in client.get("/exports").get_data(as_text=True)


def test_cli_and_node_holders_and_demo_data(app, runner, tree):
    from core.plugins import call_each

    pm = app.extensions["wangge"].pm
    # Demo data: one welcome notice per community, and only once.
    reports = []
    others = [p for p in pm.get_plugins() if pm.get_name(p) != "noticeboard"]
    demo_data = pm.subset_hook_caller("wangge_demo_data", remove_plugins=others)
    for _ in range(2):
        demo_data(scale=1, rng=None, report=reports.append)
        db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Notice)) == len(tree.communities)
    assert "noticeboard: 2 welcome notices" in reports
    out = runner.invoke(args=["noticeboard", "stats"]).output
    assert f"{tree.communities[0].name}: 1" in out
    holders = dict(
        (str(label), n)
        for name, items in call_each(pm, "wangge_node_holders", node_ids=[tree.communities[0].id])
        if name == "noticeboard"
        for label, n in items
    )
    assert holders == {"公告": 1}


def test_every_message_of_the_plugin_has_a_zh_cn_translation():
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    pkg = Path(wangge_noticeboard.__file__).parent
    with (pkg / "translations/zh_CN/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = {m.id: m.string for m in read_po(f) if m.id and m.string and not m.fuzzy}
    found = [
        msg
        for _f, _l, msg, _c, _x in extract_from_dir(
            str(pkg),
            method_map=[("migrations/**", "ignore"), ("**.py", "python"), ("**/templates/**.html", "jinja2")],
            keywords={"_": None, "_l": None, "gettext": None, "lazy_gettext": None},
        )
    ]
    assert len(found) > 10
    assert sorted({m for m in found if m not in catalog}) == []


def test_the_plugin_speaks_english_after_the_locale_switch(client, tree, login, two_community_admin):
    login("ca-both")
    assert "公告栏" in client.get("/noticeboard/").get_data(as_text=True)
    client.post("/locale", data={"locale": "en"})
    page = client.get("/noticeboard/").get_data(as_text=True)
    assert "Notice board" in page and "公告栏" not in page


def test_the_list_is_also_an_htmx_fragment(client, tree, login, two_community_admin):
    login("ca-both")
    post_notice(client, tree.communities[0], "片段里的公告")
    resp = client.get("/noticeboard/?page=1", headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "片段里的公告" in html and "<html" not in html
    assert "撤下" in html  # the take-down form (a macro imported inside the block) renders


def test_the_module_gate_follows_an_object_url_whatever_its_argument(app_factory):
    """/noticeboard/<notice_id> names no node: the gate finds the notice's community."""
    from wangge_noticeboard.models import Notice

    from core.extensions import db
    from core.modules import set_enabled
    from core.testing import sign_in
    from core.testing.factories import build_tree, make_user

    app = app_factory()
    with app.app_context():
        t = build_tree()
        make_user("dist", "district_admin", t.district)
        notice = Notice(node_id=t.estates[0].id, title="停水通知", body="明天停水")
        db.session.add(notice)
        set_enabled(t.communities[0].id, "noticeboard", False, None)
        db.session.commit()
        client = sign_in(app.test_client(), "dist")
        resp = client.get(f"/noticeboard/{notice.id}")
        assert resp.status_code == 404
        assert "模块已关闭" in resp.get_data(as_text=True)  # the "switched off here" page, not a bare 404
