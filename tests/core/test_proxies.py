"""Who is the client? X-Forwarded-For is believed only from the proxies the
operator declares (TRUSTED_PROXIES); otherwise anyone could write any address
into the audit log, or lock everyone out of signing in behind one proxy."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models import AuditLog
from tests import factories


def _last_ip():
    return db.session.scalar(select(AuditLog.ip).order_by(AuditLog.id.desc()).limit(1))


def test_a_forged_forwarded_for_is_not_believed_by_default(client, tree):
    factories.make_user("zhang", "grid_worker", tree.zones[0])
    client.post(
        "/login", data={"username": "zhang", "password": "wrong"}, headers={"X-Forwarded-For": "6.6.6.6"}
    )
    assert _last_ip() == "127.0.0.1"


def test_behind_a_declared_proxy_the_address_it_saw_is_recorded(app_factory):
    app = app_factory(TRUSTED_PROXIES=1)
    with app.app_context():
        t = factories.build_tree()
        factories.make_user("zhang", "grid_worker", t.zones[0])
        # The client forged 6.6.6.6; the proxy appended the address it really saw.
        app.test_client().post(
            "/login",
            data={"username": "zhang", "password": "wrong"},
            headers={"X-Forwarded-For": "6.6.6.6, 10.0.0.9"},
        )
        assert _last_ip() == "10.0.0.9"


def test_behind_a_proxy_the_login_limit_counts_each_client_apart(app_factory):
    app = app_factory(TRUSTED_PROXIES=1, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per 5 minutes")
    with app.app_context():
        t = factories.build_tree()
        factories.make_user("zhang", "grid_worker", t.zones[0])
        client = app.test_client()
        attacker = {"X-Forwarded-For": "10.0.0.66"}
        for _ in range(3):
            client.post("/login", data={"username": "zhang", "password": "guess"}, headers=attacker)
        assert client.post("/login", data={"username": "zhang", "password": "guess"}, headers=attacker).status_code == 429
        # Someone else behind the same proxy can still sign in.
        resp = app.test_client().post(
            "/login", data={"username": "zhang", "password": factories.PASSWORD}, headers={"X-Forwarded-For": "10.0.0.7"}
        )
        assert resp.status_code == 302
