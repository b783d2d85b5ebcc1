"""Fixtures of the Square Inquiry tests: a small district with its people."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.extensions import db
from core.models import GridNode, Organisation, User
from tests import factories


@dataclass
class World:
    tree: factories.Tree
    housing: Organisation
    power: Organisation
    property_co: Organisation
    district: User
    community: User
    community2: User
    worker: User
    handler: User
    handler_b: User
    power_handler: User
    property_handler: User


@pytest.fixture
def world(app) -> World:
    tree = factories.build_tree()
    housing = factories.make_org("区住建局", "department")
    power = factories.make_org("供电公司", "department")
    prop = factories.make_org("皖江物业", "property_company")
    for estate in tree.estates:
        estate.property_company_id = prop.id
    db.session.commit()
    c1, c2 = tree.communities
    w = World(
        tree=tree, housing=housing, power=power, property_co=prop,
        district=factories.make_user("district", "district_admin", tree.district),
        community=factories.make_user("comm1", "community_admin", c1),
        community2=factories.make_user("comm2", "community_admin", c2),
        worker=factories.make_user("worker1", "grid_worker", tree.estates[0]),
        handler=factories.make_user("zj1", "handler", tree.district, organisation=housing),
        handler_b=factories.make_user("zj2", "handler", tree.district, organisation=housing),
        power_handler=factories.make_user("gd1", "handler", tree.district, organisation=power),
        property_handler=factories.make_user("wy1", "handler", tree.district, organisation=prop),
    )
    return w


def node(world, level="building", i=0) -> GridNode:
    return getattr(world.tree, {"community": "communities", "estate": "estates", "building": "buildings", "zone": "zones"}[level])[i]


@pytest.fixture
def live_app(app_factory):
    """The app served on 127.0.0.1 in a thread, for HTTP clients such as georeport."""
    from tests.conftest import served

    with served(app_factory(SERVER_NAME=None)) as app:
        yield app
