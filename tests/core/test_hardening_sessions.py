"""Sessions end when they should (issue 11, item 4): sign-out and a new
password end every session and remember cookie of the account; a password set
by an administrator is changed at first sign-in; common passwords are refused;
a failed sign-in takes as long for an unknown name as for a known one."""

from __future__ import annotations

import datetime as dt
import time

from flask import url_for
from sqlalchemy import select

from core.extensions import db
from core.models import User
from tests import factories


def _signed_in(client) -> bool:
    return client.get("/").status_code == 200


def _cookie(client, name):
    c = client.get_cookie(name)
    return c.value if c else None


def _sign_in(client, username, password=factories.PASSWORD, remember=False):
    data = {"username": username, "password": password}
    if remember:
        data["remember"] = "y"
    resp = client.post("/login", data=data)
    assert resp.status_code == 302, resp.data[:300]
    return resp


def test_a_copied_session_cookie_is_dead_after_sign_out(app, tree):
    factories.make_user("zhang", "grid_worker", tree.zones[0])
    a = app.test_client()
    _sign_in(a, "zhang")
    stolen = _cookie(a, "session")
    thief = app.test_client()
    thief.set_cookie("session", stolen, domain="localhost")
    assert _signed_in(thief)
    a.post("/logout")
    assert not _signed_in(thief)


def test_sign_out_on_one_device_ends_the_others_and_their_remember_cookies(app, tree):
    factories.make_user("zhang", "grid_worker", tree.zones[0])
    phone, desk = app.test_client(), app.test_client()
    _sign_in(phone, "zhang", remember=True)
    _sign_in(desk, "zhang")
    token = _cookie(phone, "remember_token")
    assert token
    desk.post("/logout")
    assert not _signed_in(phone)
    fresh = app.test_client()
    fresh.set_cookie("remember_token", token, domain="localhost")
    assert not _signed_in(fresh)


def test_the_remember_cookie_differs_per_sign_in_and_lives_two_weeks(app, tree):
    factories.make_user("zhang", "grid_worker", tree.zones[0])
    a, b = app.test_client(), app.test_client()
    r1 = _sign_in(a, "zhang", remember=True)
    _sign_in(b, "zhang", remember=True)
    assert _cookie(a, "remember_token") != _cookie(b, "remember_token")
    header = next(h for h in r1.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    expires = header.split("Expires=")[1].split(";")[0]
    left = dt.datetime.strptime(expires, "%a, %d %b %Y %H:%M:%S GMT") - dt.datetime.utcnow()  # noqa: DTZ003 - cookie dates are GMT
    assert dt.timedelta(days=13) < left <= dt.timedelta(days=14, minutes=1)
    # A remember cookie alone signs in (until the session version moves on).
    fresh = app.test_client()
    fresh.set_cookie("remember_token", _cookie(a, "remember_token"), domain="localhost")
    assert _signed_in(fresh)


def test_a_new_password_ends_the_other_sessions_but_not_this_one(app, tree):
    factories.make_user("zhang", "grid_worker", tree.zones[0])
    mine, other = app.test_client(), app.test_client()
    _sign_in(mine, "zhang")
    _sign_in(other, "zhang", remember=True)
    resp = mine.post("/password", data={"current": factories.PASSWORD, "new": "bamboo-river-42", "confirm": "bamboo-river-42"})
    assert resp.status_code == 302
    assert _signed_in(mine)
    assert not _signed_in(other)


def test_an_old_style_session_id_is_refused(app, tree):
    user = factories.make_user("zhang", "grid_worker", tree.zones[0])
    db.session.commit()
    c = app.test_client()
    with c.session_transaction() as s:
        s["_user_id"] = str(user.id)
        s["_fresh"] = True
    assert not _signed_in(c)


def test_common_passwords_are_refused_with_a_message(client, tree, login):
    factories.make_user("zhang", "grid_worker", tree.zones[0])
    login("zhang")
    for weak in ("12345678", "Password1", "woaini1314", "88888888", "zhang2026x"):
        resp = client.post("/password", data={"current": factories.PASSWORD, "new": weak, "confirm": weak})
        assert resp.status_code == 200, weak
    html = client.post("/password", data={"current": factories.PASSWORD, "new": "qwertyuiop", "confirm": "qwertyuiop"}).get_data(as_text=True)
    assert "最常见" in html
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.username == "zhang")).check_password(factories.PASSWORD)


def test_an_admin_set_password_must_be_changed_at_first_sign_in(app, client, tree, login):
    factories.make_user("boss", "district_admin", tree.district)
    login("boss")
    resp = client.post(
        "/admin/users/new",
        data={
            "username": "li.si", "display_name": "李四", "password": "given-by-admin-7",
            "active": "y", "organisation_id": "0", "g-role": "grid_worker", "g-node_code": tree.zones[0].code,
        },
    )
    assert resp.status_code == 302
    c = app.test_client()
    _sign_in(c, "li.si", "given-by-admin-7")
    for path in ("/", "/exports", "/admin/", "/grid/"):
        r = c.get(path)
        assert r.status_code == 302 and r.headers["Location"].endswith("/password"), path
    r = c.get("/", headers={"HX-Request": "true"})
    assert r.headers.get("HX-Redirect", "").endswith("/password")
    assert "管理员" in c.get("/password").get_data(as_text=True)
    r = c.post("/password", data={"current": "given-by-admin-7", "new": "my-own-lantern-9", "confirm": "my-own-lantern-9"})
    assert r.status_code == 302
    assert _signed_in(c)

    # A reset by the admin: again, and the user's sessions end.
    user = db.session.scalar(select(User).where(User.username == "li.si"))
    client.post(
        url_for("admin.user_edit", user_id=user.id, _external=False),
        data={"username": "li.si", "display_name": "李四", "password": "reset-by-admin-8", "active": "y", "organisation_id": "0"},
    )
    assert c.get("/").status_code == 302
    _sign_in(c, "li.si", "reset-by-admin-8")
    assert c.get("/").headers["Location"].endswith("/password")


def test_a_failed_sign_in_takes_as_long_for_an_unknown_name(client, tree):
    factories.make_user("zhang", "grid_worker", tree.zones[0])

    def timed(name):
        best = 10.0
        for _ in range(3):
            t = time.perf_counter()
            client.post("/login", data={"username": name, "password": "not-the-password"})
            best = min(best, time.perf_counter() - t)
        return best

    known, unknown = timed("zhang"), timed("nobody-at-all")
    assert unknown > known * 0.5
