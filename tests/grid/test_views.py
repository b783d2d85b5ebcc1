"""Grid pages per role and scope."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import AuditLog, GridNode, GridPost, Leave, Organisation
from tests.factories import make_org, make_user

from .conftest import TODAY, add_leave, row_counts


@pytest.fixture
def en(client):
    client.post("/locale", data={"locale": "en"})
    return client


def text(resp):
    return resp.get_data(as_text=True)


def test_district_admin_sees_the_tree_and_every_node(client, tree, login, en):
    make_user("boss", "district_admin", tree.district)
    login("boss")
    page = text(client.get("/grid/"))
    assert tree.district.name in page and tree.communities[1].name in page
    resp = client.get(f"/grid/node/{tree.district.id}")
    assert resp.status_code == 200
    # Counts of each level beneath it, from the maintained totals.
    body = text(resp)
    for n in ("2", "4", "8", "16"):
        assert f"<strong>{n}</strong>" in body


def test_community_admin_gets_404_for_another_community(client, tree, login):
    make_user("cadmin", "community_admin", tree.communities[0])
    login("cadmin")
    assert client.get(f"/grid/node/{tree.estates[0].id}").status_code == 200
    for node in (tree.communities[1], tree.estates[2], tree.zones[-1], tree.district):
        assert client.get(f"/grid/node/{node.id}").status_code == 404
    assert client.get(f"/grid/node/{tree.communities[1].id}/children").status_code == 404
    assert client.get(f"/grid/node/{tree.communities[1].id}/coverage").status_code == 404
    assert client.get(f"/grid/node/{tree.communities[1].id}/edit").status_code == 404
    # Search never shows what is outside the scope.
    found = text(client.get("/grid/search?q=测试"))
    assert tree.communities[0].name in found and tree.communities[1].name not in found


def test_member_and_resident_may_not_browse_the_tree(client, tree, login):
    make_user("m1", "member", tree.communities[0])
    login("m1")
    assert client.get("/grid/").status_code == 403
    assert client.get(f"/grid/node/{tree.estates[0].id}").status_code == 403


def test_signed_out_users_go_to_the_login_page(client, tree):
    resp = client.get("/grid/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_b_sees_as_grid_only_during_as_leave(client, staffed, login):
    login("wb")
    e1 = staffed["e1"]
    assert client.get(f"/grid/node/{e1.id}").status_code == 404
    add_leave(staffed["a"], TODAY - dt.timedelta(days=1), TODAY + dt.timedelta(days=1))
    resp = client.get(f"/grid/node/{e1.id}")
    assert resp.status_code == 200
    body = text(resp)
    assert "李乙" in body and "state-b" not in body  # the node page shows the covering worker
    mine = text(client.get("/grid/coverage"))
    assert e1.name in mine and "李乙" in mine


def test_community_page_warns_about_grids_with_nobody(client, staffed, login, en):
    make_user("cadmin", "community_admin", staffed["tree"].communities[0])
    login("cadmin")
    cid = staffed["tree"].communities[0].id
    assert "nobody-warning" not in text(client.get(f"/grid/node/{cid}"))
    add_leave(staffed["a"], TODAY, TODAY)
    add_leave(staffed["b"], TODAY, TODAY + dt.timedelta(days=2))
    body = text(client.get(f"/grid/node/{cid}"))
    assert "nobody-warning" in body and "2 grids have nobody present today" in body
    cov = text(client.get(f"/grid/node/{cid}/coverage"))
    assert cov.count("state-nobody") == 2
    # Tomorrow A is back: only B's own grid is uncovered... and B covers nothing.
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    cov = text(client.get(f"/grid/node/{cid}/coverage?day={tomorrow}"))
    assert cov.count("state-a") == 1 and cov.count("state-b") == 1


def test_create_edit_move_delete_through_the_pages(client, tree, login, en):
    make_user("boss", "district_admin", tree.district)
    login("boss")
    c1 = tree.communities[0]
    resp = client.post(f"/grid/node/{c1.id}/new", data={"name": "新建小区", "code": "NEW-1", "sort_order": "9", "property_company_id": "0"})
    assert resp.status_code == 302
    node = db.session.scalar(select(GridNode).where(GridNode.code == "NEW-1"))
    assert node.level == "estate" and node.parent_id == c1.id
    # Bad input: the message is next to the field and the typed name is kept.
    resp = client.post(f"/grid/node/{c1.id}/new", data={"name": "重复", "code": "NEW-1", "property_company_id": "0"})
    assert resp.status_code == 200 and "used by another grid" in text(resp) and 'value="重复"' in text(resp)
    company = make_org("芜湖安居物业管理有限公司", "property_company")
    resp = client.post(f"/grid/node/{node.id}/edit", data={"name": "新建小区二期", "code": "NEW-1", "sort_order": "1", "property_company_id": str(company.id)})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(GridNode, node.id).property_company_id == company.id
    resp = client.post(f"/grid/node/{node.id}/move", data={"parent_code": tree.communities[1].code})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(GridNode, node.id).community_id == tree.communities[1].id
    resp = client.post(f"/grid/node/{node.id}/move", data={"parent_code": tree.buildings[0].code})
    assert "cannot sit under" in text(resp)
    resp = client.post(f"/grid/node/{tree.estates[0].id}/delete", follow_redirects=True)
    assert "cannot be deleted" in text(resp)
    resp = client.post(f"/grid/node/{node.id}/delete")
    assert resp.status_code == 302 and db.session.get(GridNode, node.id) is None
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"grid.created", "grid.updated", "grid.moved", "grid.deleted"} <= actions


def test_community_admin_cannot_add_a_community(client, tree, login):
    make_user("cadmin", "community_admin", tree.communities[0])
    login("cadmin")
    assert client.get(f"/grid/node/{tree.district.id}/new").status_code == 404
    assert client.get(f"/grid/node/{tree.communities[0].id}/new").status_code == 200


def test_posts_and_leave_through_the_pages(client, staffed, login, en):
    make_user("cadmin", "community_admin", staffed["tree"].communities[0])
    login("cadmin")
    e1, a, b, c = staffed["e1"], staffed["a"], staffed["b"], staffed["c"]
    before = row_counts()
    # A worker of another community is not even offered, and is refused.
    form = text(client.get(f"/grid/node/{e1.id}/post"))
    assert "王甲" in form and "张丙" not in form
    resp = client.post(f"/grid/node/{e1.id}/post", data={"a_user_id": a.id, "b_user_id": c.id})
    assert resp.status_code == 422
    assert row_counts() == before
    new = make_user("wn", "grid_worker", e1, display_name="赵新")
    resp = client.post(f"/grid/node/{e1.id}/post", data={"a_user_id": new.id, "b_user_id": a.id})
    assert resp.status_code == 422 and "neighbouring grid" in text(resp)
    resp = client.post(f"/grid/node/{e1.id}/post", data={"a_user_id": new.id, "b_user_id": b.id})
    assert resp.status_code == 302
    assert db.session.scalar(select(GridPost.a_user_id).where(GridPost.node_id == e1.id)) == new.id
    cid = staffed["tree"].communities[0].id
    day = TODAY.isoformat()
    resp = client.post(f"/grid/node/{cid}/leave", data={"user_id": a.id, "start_date": day, "end_date": (TODAY - dt.timedelta(days=1)).isoformat(), "reason": "病假"})
    assert resp.status_code == 422 and "ends before it starts" in text(resp)
    resp = client.post(f"/grid/node/{cid}/leave", data={"user_id": a.id, "start_date": day, "end_date": day, "reason": "病假"})
    assert resp.status_code == 302
    resp = client.post(f"/grid/node/{cid}/leave", data={"user_id": a.id, "start_date": day, "end_date": day, "reason": "又病了"})
    assert resp.status_code == 422 and "overlaps" in text(resp)
    assert db.session.scalar(select(Leave.reason).where(Leave.user_id == a.id)) == "病假"
    lv = db.session.scalar(select(Leave.id).where(Leave.user_id == a.id))
    assert client.post(f"/grid/node/{cid}/leave/{lv}/delete").status_code == 302
    assert db.session.get(Leave, lv) is None


def test_a_worker_cannot_manage_posts(client, staffed, login):
    login("wa")
    assert client.get(f"/grid/node/{staffed['e1'].id}/post").status_code == 403


def test_organisation_pages(client, tree, login, en):
    make_user("boss", "district_admin", tree.district)
    dept = make_org("湾沚区住房和城乡建设局")
    company = make_org("芜湖安居物业管理有限公司", "property_company")
    partner = make_org("中国银行湾沚支行", "partner_unit")
    tree.estates[0].property_company_id = company.id
    db.session.commit()
    login("boss")
    assert dept.name in text(client.get("/grid/orgs"))
    body = text(client.get(f"/grid/orgs/{company.id}"))
    assert tree.estates[0].name in body
    resp = client.post(f"/grid/node/{tree.communities[0].id}/committee", data={"organisation_id": partner.id, "role_note": "成员单位"})
    assert resp.status_code == 302
    assert partner.name in text(client.get(f"/grid/node/{tree.communities[0].id}/committee"))
    assert tree.communities[0].name in text(client.get(f"/grid/orgs/{partner.id}"))
    resp = client.post("/grid/orgs/new", data={"kind": "department", "name": dept.name})
    assert "exists already" in text(resp)
    resp = client.post("/grid/orgs/new", data={"kind": "department", "name": "湾沚区水务局", "phone": "0553-1234567"})
    assert resp.status_code == 302
    assert db.session.scalar(select(Organisation.kind).where(Organisation.name == "湾沚区水务局")) == "department"
    assert client.get("/grid/orgs/export.xlsx?kind=department").mimetype.endswith("sheet")


def test_children_fragment_and_full_page(client, tree, login):
    make_user("boss", "district_admin", tree.district)
    login("boss")
    url = f"/grid/node/{tree.communities[0].id}/children"
    frag = text(client.get(url, headers={"HX-Request": "true"}))
    assert "<html" not in frag and tree.estates[0].name in frag
    full = text(client.get(url))
    assert "<html" in full and tree.estates[1].name in full


def test_a_community_admin_cannot_move_a_grid_out_of_their_community(client, tree, login, en):
    make_user("cadmin", "community_admin", tree.communities[0])
    login("cadmin")
    estate = tree.estates[0]
    resp = client.post(f"/grid/node/{estate.id}/move", data={"parent_code": tree.communities[1].code})
    assert resp.status_code == 200 and "no grid with this code in your area" in text(resp)
    db.session.expire_all()
    assert db.session.get(GridNode, estate.id).parent_id == tree.communities[0].id
    # Within the community a building may move to the other estate.
    building = tree.buildings[0]
    resp = client.post(f"/grid/node/{building.id}/move", data={"parent_code": tree.estates[1].code})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(GridNode, tree.estates[1].id).n_buildings == 3
