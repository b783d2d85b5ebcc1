"""Accounts: sign in and out, the rate limit, passwords, users and roles."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from core.extensions import db
from core.models import AuditLog, RoleGrant, User
from tests import factories


def _signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_wrong_password_gets_a_message_and_keeps_the_username(client, tree):
    factories.make_user("zhang", "grid_worker", tree.zones[0])
    resp = client.post("/login", data={"username": "zhang", "password": "wrong-password"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "用户名或密码错误。" in html and 'value="zhang"' in html
    assert not _signed_in(client)


def test_an_unknown_user_gets_the_same_message(client, tree):
    html = client.post("/login", data={"username": "nobody", "password": "x" * 10}).get_data(as_text=True)
    assert "用户名或密码错误。" in html


def test_repeated_failed_sign_ins_are_rate_limited(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="5 per 5 minutes")
    with app.app_context():
        t = factories.build_tree()
        factories.make_user("zhang", "grid_worker", t.zones[0])
        client = app.test_client()
        for _ in range(5):
            assert client.post("/login", data={"username": "zhang", "password": "guess"}).status_code == 200
        resp = client.post("/login", data={"username": "zhang", "password": factories.PASSWORD})
        assert resp.status_code == 429
        assert "尝试次数过多" in resp.get_data(as_text=True)
        assert not _signed_in(client)
        # Reading the login page is not limited.
        assert client.get("/login").status_code == 200


def test_a_disabled_account_cannot_sign_in(client, tree):
    user = factories.make_user("gone", "grid_worker", tree.zones[0])
    user.active = False
    db.session.commit()
    resp = client.post("/login", data={"username": "gone", "password": factories.PASSWORD})
    assert resp.status_code == 200 and "该账号已停用" in resp.get_data(as_text=True)
    assert not _signed_in(client)


def test_a_session_ends_when_the_account_is_disabled(client, tree, login):
    user = factories.make_user("soon-gone", "grid_worker", tree.zones[0])
    login("soon-gone")
    assert _signed_in(client)
    user.active = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_sign_out_is_a_post_and_ends_the_session(client, tree, login):
    factories.make_user("zhang", "grid_worker", tree.zones[0])
    login("zhang")
    assert client.get("/logout").status_code == 405
    assert _signed_in(client)
    resp = client.post("/logout")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert not _signed_in(client)


def test_sign_in_never_redirects_off_site(client, tree):
    factories.make_user("zhang", "grid_worker", tree.zones[0])
    resp = client.post(
        "/login?next=https://evil.example/steal", data={"username": "zhang", "password": factories.PASSWORD}
    )
    assert resp.status_code == 302 and "evil.example" not in resp.headers["Location"]


def test_session_cookie_is_httponly_and_samesite(client, tree):
    factories.make_user("zhang", "grid_worker", tree.zones[0])
    resp = client.post("/login", data={"username": "zhang", "password": factories.PASSWORD})
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_change_password(client, tree, login):
    factories.make_user("zhang", "grid_worker", tree.zones[0])
    login("zhang")
    resp = client.post("/password", data={"current": "not-it", "new": "brand-new-pass", "confirm": "brand-new-pass"})
    assert resp.status_code == 200 and "当前密码不正确。" in resp.get_data(as_text=True)
    resp = client.post("/password", data={"current": factories.PASSWORD, "new": "short", "confirm": "short"})
    assert resp.status_code == 200 and 'class="error"' in resp.get_data(as_text=True)
    resp = client.post(
        "/password", data={"current": factories.PASSWORD, "new": "brand-new-pass", "confirm": "brand-new-pass"}
    )
    assert resp.status_code == 302
    assert "密码已修改。" in client.get(resp.headers["Location"]).get_data(as_text=True)
    client.post("/logout")
    assert client.post("/login", data={"username": "zhang", "password": factories.PASSWORD}).status_code == 200
    assert client.post("/login", data={"username": "zhang", "password": "brand-new-pass"}).status_code == 302


def test_a_district_admin_creates_a_user_grants_and_removes_roles_and_disables_them(client, tree, login):
    factories.make_user("boss", "district_admin", tree.district)
    login("boss")
    zone = tree.zones[0]
    resp = client.post(
        "/admin/users/new",
        data={
            "username": "li.si", "display_name": "李四", "phone": "13800000001", "password": "first-password",
            "active": "y", "organisation_id": "0", "g-role": "grid_worker", "g-node_code": zone.code,
        },
    )
    assert resp.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "li.si"))
    assert [(g.role, g.node_id) for g in user.grants] == [("grid_worker", zone.id)]
    page = client.get(url_for("admin.user_edit", user_id=user.id, _external=False)).get_data(as_text=True)
    assert "李四" in page and zone.code in page

    resp = client.post(
        url_for("admin.grant_add", user_id=user.id, _external=False),
        data={"g-role": "community_admin", "g-node_code": tree.communities[1].code},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert {(g.role, g.node_id) for g in user.grants} == {
        ("grid_worker", zone.id), ("community_admin", tree.communities[1].id)
    }
    grant = next(g for g in user.grants if g.role == "grid_worker")
    client.post(url_for("admin.grant_delete", user_id=user.id, grant_id=grant.id, _external=False))
    db.session.expire_all()
    assert [g.role for g in user.grants] == ["community_admin"]

    # Disable: the edit form without the "active" box.
    resp = client.post(
        url_for("admin.user_edit", user_id=user.id, _external=False),
        data={"username": "li.si", "display_name": "李四", "organisation_id": "0"},
    )
    assert resp.status_code == 302
    client.post("/logout")
    resp = client.post("/login", data={"username": "li.si", "password": "first-password"})
    assert "该账号已停用" in resp.get_data(as_text=True)


def test_bad_new_user_input_keeps_the_form_and_saves_nothing(client, tree, login):
    factories.make_user("boss", "district_admin", tree.district)
    login("boss")
    n = db.session.scalar(select(db.func.count()).select_from(User))
    resp = client.post(
        "/admin/users/new",
        data={
            "username": "bad name!", "display_name": "王五", "phone": "12345", "password": "pw-long-enough",
            "organisation_id": "0", "g-role": "grid_worker", "g-node_code": "NO-SUCH-CODE",
        },
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "王五" in html and html.count('class="error"') >= 2
    assert db.session.scalar(select(db.func.count()).select_from(User)) == n


def test_a_community_admin_cannot_see_users_or_nodes_of_another_community(client, tree, login):
    c1, c2 = tree.communities
    factories.make_user("ca1", "community_admin", c1)
    mine = factories.make_user("mine", "grid_worker", next(z for z in tree.zones if z.community_id == c1.id))
    theirs = factories.make_user("theirs", "grid_worker", next(z for z in tree.zones if z.community_id == c2.id))
    login("ca1")
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "mine" in listing and "theirs" not in listing
    assert client.get(url_for("admin.user_edit", user_id=mine.id, _external=False)).status_code == 200
    assert client.get(url_for("admin.user_edit", user_id=theirs.id, _external=False)).status_code == 404
    # Nor grant anything on a grid of the other community, nor a district admin role.
    for role, code in (("grid_worker", c2.code), ("district_admin", tree.district.code)):
        client.post(url_for("admin.grant_add", user_id=mine.id, _external=False), data={"g-role": role, "g-node_code": code})
    assert db.session.scalar(select(db.func.count()).select_from(RoleGrant).where(RoleGrant.user_id == mine.id)) == 1
    estate2 = next(e for e in tree.estates if e.community_id == c2.id)
    assert client.get(f"/noticeboard/panel/{estate2.id}").status_code == 404
    assert client.get(url_for("grid.node", node_id=estate2.id, _external=False)).status_code == 404
    assert client.get(url_for("grid.node", node_id=c1.id, _external=False)).status_code == 200


def test_the_user_search_is_an_htmx_fragment(client, tree, login):
    factories.make_user("boss", "district_admin", tree.district)
    factories.make_user("zhao.liu", "grid_worker", tree.zones[0])
    login("boss")
    resp = client.get("/admin/users?q=zhao", headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "zhao.liu" in html and "boss" not in html and "<html" not in html


def test_signing_in_and_user_changes_are_audited(client, tree, login):
    factories.make_user("boss", "district_admin", tree.district)
    client.post("/login", data={"username": "boss", "password": "wrong-one"})
    login("boss")
    rows = db.session.execute(select(AuditLog.action, AuditLog.username, AuditLog.summary, AuditLog.ip).order_by(AuditLog.id)).all()
    assert [r.action for r in rows] == ["login.failed", "login"]
    assert rows[0].summary == "boss" and rows[1].username == "boss" and rows[1].ip == "127.0.0.1"


OFF_SITE = ["https://evil.example/x", "//evil.example/x", "/\\evil.example/x", "\\\\evil.example/x"]


def _stays_on_site(location: str) -> bool:
    from urllib.parse import urlsplit

    # Browsers read a backslash as a slash: "/\\evil" is "//evil", another host.
    return urlsplit(location.replace("\\", "/")).netloc in ("", "localhost")


def test_sign_in_next_never_leaves_the_site(client, tree):
    factories.make_user("zhang", "grid_worker", tree.zones[0])
    for target in OFF_SITE:
        client.post("/logout")
        resp = client.post("/login", query_string={"next": target}, data={"username": "zhang", "password": factories.PASSWORD})
        assert resp.status_code == 302 and _stays_on_site(resp.headers["Location"]), target


def test_the_language_and_community_switches_never_send_you_off_site(client, tree, login):
    factories.make_user("zhang", "grid_worker", tree.zones[0])
    login("zhang")
    for target in OFF_SITE:
        for url, data in (("/locale", {"locale": "en"}), ("/community", {"community": ""})):
            resp = client.post(url, data={**data, "next": target})
            assert resp.status_code == 302 and _stays_on_site(resp.headers["Location"]), (url, target)
            resp = client.post(url, data=data, headers={"Referer": target})
            assert _stays_on_site(resp.headers["Location"]), (url, "Referer", target)
    # A page of the site is where you go back to.
    resp = client.post("/locale", data={"locale": "zh_CN", "next": "/admin/audit?x=1"})
    assert resp.headers["Location"] == "/admin/audit?x=1"


def test_a_community_admin_cannot_take_over_an_account_that_reaches_beyond_their_area(client, tree, login):
    """A district admin who also holds a role in community 1 is not community 1's to manage:
    otherwise its admin could reset the password and sign in as the district admin."""
    c1 = tree.communities[0]
    factories.make_user("ca1", "community_admin", c1)
    big = factories.make_user("big.boss", "district_admin", tree.district)
    db.session.add(RoleGrant(user_id=big.id, role="grid_worker", node_id=tree.zones[0].id))
    db.session.commit()
    login("ca1")
    assert "big.boss" not in client.get("/admin/users").get_data(as_text=True)
    edit = url_for("admin.user_edit", user_id=big.id, _external=False)
    assert client.get(edit).status_code == 404
    resp = client.post(edit, data={"username": "big.boss", "display_name": "x", "password": "taken-over-1", "active": "y", "organisation_id": "0"})
    assert resp.status_code == 404
    client.post("/logout")
    assert client.post("/login", data={"username": "big.boss", "password": "taken-over-1"}).status_code == 200
