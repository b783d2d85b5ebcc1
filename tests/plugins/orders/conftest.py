"""Fixtures of the volunteer orders tests: two communities, their admins,
a grid worker, a unit handler, confirmed members, posts and an order —
all built through the module's services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from core import clock
from core.extensions import db
from core.models import Organisation, User
from plugins.orders.models import Order, ServicePost
from plugins.orders.services import orders as order_svc
from plugins.orders.services import posts as post_svc
from plugins.orders.services import registrations as reg_svc
from tests import factories


@dataclass
class World:
    tree: factories.Tree
    unit: Organisation
    other_unit: Organisation
    district: User
    admin1: User
    admin2: User
    worker: User
    handler: User
    other_handler: User
    members: list[User] = field(default_factory=list)
    post1: ServicePost | None = None
    post2: ServicePost | None = None

    @property
    def c1(self):
        return self.tree.communities[0]

    @property
    def c2(self):
        return self.tree.communities[1]


def register_member(username, community, *, unit=None, skills="政策宣传", address="", confirm=True, by=None):
    user = factories.make_user(username, display_name=f"党员{username}")
    reg = reg_svc.register(user, community, employer_org_id=unit.id if unit else None,
                           employer_name="" if unit else "某公司", party_branch="第一党支部", address=address,
                           phone="13800001234", skills=skills, resources="", hours_per_month=8)
    if confirm:
        reg_svc.confirm(reg, by or user)
    db.session.commit()
    return user


def place_order(world, *, post=None, node=None, needed=3, days=5, skills="", title="楼栋政策宣讲", by=None):
    post = post or world.post1
    node = node or world.c1
    start = clock.to_utc(clock.today() + dt.timedelta(days=days), dt.time(9, 0))
    o = order_svc.place(post, node, title=title, description="", starts_at=start, hours=2,
                        deadline=start - dt.timedelta(hours=12), needed=needed, skills=skills,
                        by=by or world.admin1)
    db.session.commit()
    return o


def start_order(o: Order, days_ago=1):
    """Move an order into the past (as time would): for completion reports."""
    o.starts_at = clock.utcnow() - dt.timedelta(days=days_ago)
    o.deadline = o.starts_at - dt.timedelta(hours=12)
    db.session.commit()


@pytest.fixture
def world(app) -> World:
    tree = factories.build_tree()
    unit = factories.make_org("湾沚区财政局", "partner_unit")
    other = factories.make_org("湾沚区税务局", "partner_unit")
    c1, c2 = tree.communities
    w = World(
        tree=tree, unit=unit, other_unit=other,
        district=factories.make_user("district", "district_admin", tree.district),
        admin1=factories.make_user("admin1", "community_admin", c1),
        admin2=factories.make_user("admin2", "community_admin", c2),
        worker=factories.make_user("worker1", "grid_worker", tree.estates[0]),
        handler=factories.make_user("cz1", "handler", tree.district, organisation=unit),
        other_handler=factories.make_user("sw1", "handler", tree.district, organisation=other),
    )
    w.members = [register_member("mem1", c1, unit=unit, skills="政策宣传, 法律", address="测试1社区1号小区1栋1区",
                                 by=w.admin1),
                 register_member("mem2", c1, unit=other, skills="辅导", by=w.admin1),
                 register_member("mem3", c2, unit=unit, skills="政策宣传", by=w.admin2)]
    w.post1 = post_svc.save_post(None, c1, name="政策宣传", description="宣讲", skills="政策宣传",
                                 category="party_service", grids=[], by=w.admin1)
    w.post2 = post_svc.save_post(None, c2, name="政策宣传", description="宣讲", skills="政策宣传",
                                 category="party_service", grids=[], by=w.admin2)
    db.session.commit()
    return w
