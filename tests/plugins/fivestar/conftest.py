"""Fixtures of the five-star evaluation's tests: a small district with
community staff and members, and fake modules that offer service records."""

from __future__ import annotations

import datetime as dt
import types
from dataclasses import dataclass

import pytest

from core.extensions import db
from core.plugins import ServiceRecord, builtin_plugin_names
from tests import factories
from tests.core.fakes import module_plugin

MONTH = dt.date(2026, 3, 1)
AFTER = "2026-04-02 02:00"  # UTC: 10:00 on 2 April in the district


@dataclass
class World:
    tree: factories.Tree
    boss: object
    ca1: object
    ca2: object
    worker: object
    m1: object
    m2: object
    m3: object  # in community 2

    @property
    def c1(self):
        return self.tree.communities[0]

    @property
    def c2(self):
        return self.tree.communities[1]


def build_world() -> World:
    t = factories.build_tree()
    w = World(
        tree=t,
        boss=factories.make_user("boss", "district_admin", t.district),
        ca1=factories.make_user("ca1", "community_admin", t.communities[0]),
        ca2=factories.make_user("ca2", "community_admin", t.communities[1]),
        worker=factories.make_user("gw1", "grid_worker", t.estates[0]),
        m1=factories.make_user("m1", "member", t.zones[0], display_name="张三"),
        m2=factories.make_user("m2", "member", t.zones[1], display_name="李四"),
        m3=factories.make_user("m3", "member", t.zones[-1], display_name="王五"),
    )
    return w


def duty_plugin(shifts):
    """A fake 'stations' module offering duty shifts: [(member_id, date, hours, community_id)]."""
    def records(member_ids, start, end):
        return [ServiceRecord("stations", f"shift:{i}", m, d, h, "shift", "驿站值班", community_id=c,
                              evidence="站长确认", link=f"/stations/shifts/{i}")
                for i, (m, d, h, c) in enumerate(shifts) if m in member_ids and start <= d <= end]

    return module_plugin("stations", wangge_service_records=records)


def orders_plugin(orders):
    def records(member_ids, start, end):
        return [ServiceRecord("orders", f"order:{i}", m, d, 2, "order", "政策宣传岗接单", community_id=c,
                              evidence="社区验收")
                for i, (m, d, c) in enumerate(orders) if m in member_ids and start <= d <= end]

    return module_plugin("orders", wangge_service_records=records)


@pytest.fixture
def world(app):
    return build_world()


@pytest.fixture
def make_world(app_factory):
    """make(*fake_plugins) -> (app, world): an app with the built-in modules plus
    fakes; a built-in module named like a fake (the real stations or orders,
    when installed) is left out so the fake stands in for it."""
    ctxs = []

    def make(*plugins, **config):
        fakes = {p.__name__ for p in plugins}
        config.setdefault("PLUGINS", [n.removeprefix("plugins.") for n in builtin_plugin_names()
                                      if n.removeprefix("plugins.") not in fakes])
        app = app_factory(extra_plugins=list(plugins), **config)
        ctx = app.app_context()
        ctx.push()
        ctxs.append(ctx)
        return app, build_world()

    yield make
    for ctx in reversed(ctxs):
        ctx.pop()


def sign_in(client, username):
    client.post("/logout")
    resp = client.post("/login", data={"username": username, "password": factories.PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client


def ns(**kw):
    return types.SimpleNamespace(**kw)


def commit():
    db.session.commit()


def ref(app, kind: str, ident: int) -> str:
    """The signed public reference of a score, evidence file or nomination."""
    from plugins.fivestar.views.public import fs_ref

    with app.test_request_context():
        return fs_ref(kind, ident)
