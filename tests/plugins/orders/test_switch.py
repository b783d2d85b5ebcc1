"""Switching orders off in one community hides its records from every list,
count, widget and export, answers 404 on its object URLs and panels — and
switching on again shows everything. Also: the widget and the node panel
answer 200 as an HTMX request and as a full page."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from core.extensions import db
from core.modules import set_enabled
from plugins.orders.services import orders as svc
from plugins.orders.services import projects as proj_svc

from .conftest import place_order

HX = {"HX-Request": "true"}


def _data(world):
    o1 = place_order(world, title="甲社区宣讲")
    o2 = place_order(world, post=world.post2, node=world.c2, title="乙社区宣讲", by=world.admin2)
    r = proj_svc.add_resource(world.c1, org_id=None, category="governance", kind="money", title="甲资金",
                              amount=100, unit="元", by=world.admin1)
    n = proj_svc.add_need(world.c1, category="governance", title="甲需求", description="", source="resident")
    p = proj_svc.create_project(name="甲项目", budget=1, resources=[r], needs=[n],
                                by=world.admin1)
    db.session.commit()
    return o1, o2, p


def _xlsx_names(client, url):
    ws = load_workbook(io.BytesIO(client.get(url).data)).active
    return [r[0] for r in ws.iter_rows(min_row=2, values_only=True)]


def test_switching_off_hides_one_community_everywhere(client, world, login):
    o1, o2, p = _data(world)
    row = svc.take(o1.id, world.members[0])
    login("district")
    assert "甲社区宣讲" in client.get("/orders/?show=all").get_data(as_text=True)
    set_enabled(world.c1.id, "orders", False, None)
    db.session.commit()
    page = client.get("/orders/?show=all").get_data(as_text=True)
    assert "乙社区宣讲" in page and "甲社区宣讲" not in page
    assert "甲项目" not in client.get("/orders/projects").get_data(as_text=True)
    assert "甲资金" not in client.get("/orders/resources").get_data(as_text=True)
    assert "甲需求" not in client.get("/orders/needs").get_data(as_text=True)
    reg_page = client.get("/orders/registrations?state=confirmed").get_data(as_text=True)
    assert "党员mem3" in reg_page and "党员mem1" not in reg_page
    assert _xlsx_names(client, "/orders/export/orders.xlsx") == ["乙社区宣讲"]
    assert _xlsx_names(client, "/orders/export/projects.xlsx") == []
    assert "测试1社区" not in _xlsx_names(client, "/orders/export/status.xlsx")
    widget = client.get("/orders/widget", headers=HX).get_data(as_text=True)
    assert "<strong>1</strong> 名党员已报到" in widget  # only the other community's member
    for url in (f"/orders/{o1.id}", f"/orders/projects/{p.id}", f"/orders/panel/{world.c1.id}",
                f"/orders/board/{world.c1.id}", f"/orders/takes/{row.id}/photo"):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/orders/{o2.id}").status_code == 200
    login("mem1")
    assert client.post(f"/orders/{o1.id}/withdraw").status_code == 404
    login("district")
    set_enabled(world.c1.id, "orders", True, None)
    db.session.commit()
    assert "甲社区宣讲" in client.get("/orders/?show=all").get_data(as_text=True)
    assert client.get(f"/orders/projects/{p.id}").status_code == 200
    assert sorted(_xlsx_names(client, "/orders/export/orders.xlsx")) == ["乙社区宣讲", "甲社区宣讲"]


def test_registering_with_a_community_where_orders_is_off_is_refused(client, world, login):
    from tests import factories

    set_enabled(world.c1.id, "orders", False, None)
    db.session.commit()
    factories.make_user("newbie")
    login("newbie")
    html = client.get("/orders/register").get_data(as_text=True)
    assert "测试2社区" in html and "测试1社区" not in html


def test_widget_and_panel_answer_as_fragment_and_as_page(client, world, login):
    o1, _o2, _p = _data(world)
    for user in ("admin1", "worker1", "mem1", "district"):
        login(user)
        for headers in (HX, {}):
            resp = client.get("/orders/widget", headers=headers)
            assert resp.status_code == 200, user
            node = world.tree.estates[0] if user == "worker1" else world.c1
            resp = client.get(f"/orders/panel/{node.id}", headers=headers)
            assert resp.status_code == 200, (user, headers)
            assert ("<html" in resp.get_data(as_text=True)) == (headers == {})
    login("admin1")
    assert "甲社区宣讲" in client.get(f"/orders/panel/{world.c1.id}", headers=HX).get_data(as_text=True)
