"""Privilege through organisations (issue 11, item 1): only a district admin
binds an account to a department or property company, or changes it."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from core.extensions import db
from core.models import User
from tests import factories


def _new_user(client, node, org_id, username="li.si"):
    return client.post(
        "/admin/users/new",
        data={
            "username": username, "display_name": "李四", "password": "given-by-admin-7", "active": "y",
            "organisation_id": str(org_id), "g-role": "handler", "g-node_code": node.code,
        },
    )


def test_a_community_admin_cannot_create_an_account_bound_to_a_department(client, tree, login):
    dept = factories.make_org("城管局")
    factories.make_user("ca", "community_admin", tree.communities[0])
    login("ca")
    html = client.get("/admin/users/new").get_data(as_text=True)
    assert "城管局" not in html
    resp = _new_user(client, tree.communities[0], dept.id)
    assert resp.status_code == 200
    assert db.session.scalar(select(User).where(User.username == "li.si")) is None
    # Without an organisation it works.
    assert _new_user(client, tree.communities[0], 0).status_code == 302


def test_a_community_admin_cannot_re_point_an_organisation(client, tree, login):
    dept, other = factories.make_org("城管局"), factories.make_org("物业公司甲", kind="property_company")
    handler = factories.make_user("h", "handler", tree.communities[0], organisation=dept)
    factories.make_user("ca", "community_admin", tree.communities[0])
    login("ca")
    edit = url_for("admin.user_edit", user_id=handler.id, _external=False)
    page = client.get(edit).get_data(as_text=True)
    assert "城管局" in page and "物业公司甲" not in page
    base = {"username": "h", "display_name": "处置人", "active": "y"}
    resp = client.post(edit, data={**base, "organisation_id": str(other.id)})
    assert resp.status_code == 200
    resp = client.post(edit, data={**base, "organisation_id": "0"})
    assert resp.status_code == 200 and "区级管理员" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, handler.id).organisation_id == dept.id
    # Keeping it as it is saves the other fields.
    assert client.post(edit, data={**base, "display_name": "新名字", "organisation_id": str(dept.id)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, handler.id).display_name == "新名字"


def test_a_district_admin_binds_and_re_points(client, tree, login):
    dept, other = factories.make_org("城管局"), factories.make_org("物业公司甲", kind="property_company")
    factories.make_user("boss", "district_admin", tree.district)
    login("boss")
    assert _new_user(client, tree.communities[0], dept.id).status_code == 302
    user = db.session.scalar(select(User).where(User.username == "li.si"))
    assert user.organisation_id == dept.id
    edit = url_for("admin.user_edit", user_id=user.id, _external=False)
    resp = client.post(edit, data={"username": "li.si", "display_name": "李四", "active": "y", "organisation_id": str(other.id)})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).organisation_id == other.id
