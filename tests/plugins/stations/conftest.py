"""Fixtures of the stations tests: two communities, their people and a station in each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from core import clock
from core.extensions import db
from core.models import Organisation, User
from plugins.stations.models import Shift, Station
from plugins.stations.services import shifts as shift_svc
from plugins.stations.services import stations as station_svc
from tests import factories


@dataclass
class World:
    tree: factories.Tree
    housing: Organisation
    power: Organisation
    district: User
    community: User
    community2: User
    worker: User
    handler: User
    power_handler: User
    other_member: User
    station: Station
    station2: Station
    members: list[User] = field(default_factory=list)


@pytest.fixture
def world(app) -> World:
    tree = factories.build_tree()
    housing = factories.make_org("区住建局", "department")
    power = factories.make_org("供电公司", "department")
    c1, c2 = tree.communities
    members = [factories.make_user(f"pm{i}", "member", tree.estates[i % 2], display_name=f"党员{i}") for i in range(6)]
    st = station_svc.create_station(tree.estates[0], name="锦绣先锋驿站", address="湾沚大道1号",
                                    served=[tree.estates[0], tree.estates[1]])
    station_svc.add_claim(st, housing, liaison_name="张联络", liaison_phone="13800000001")
    st2 = station_svc.create_station(tree.estates[2], name="二社区先锋驿站")
    station_svc.add_claim(st2, power, liaison_name="李联络")
    db.session.commit()
    return World(
        tree=tree, housing=housing, power=power,
        district=factories.make_user("district", "district_admin", tree.district),
        community=factories.make_user("comm1", "community_admin", c1),
        community2=factories.make_user("comm2", "community_admin", c2),
        worker=factories.make_user("worker1", "grid_worker", tree.estates[0]),
        handler=factories.make_user("zj1", "handler", tree.district, organisation=housing),
        power_handler=factories.make_user("gd1", "handler", tree.district, organisation=power),
        other_member=factories.make_user("pm_c2", "member", tree.estates[2], display_name="二社区党员"),
        station=st, station2=st2, members=members,
    )


def future_shift(station, days=3, needed=2, start=dt.time(9), end=dt.time(12), **kw) -> Shift:
    day = clock.today() + dt.timedelta(days=days)
    sh = shift_svc.add_shift(station, day, start, end, needed=needed, **kw)
    db.session.commit()
    return sh


def running_shift(station, needed=2) -> Shift:
    """A shift that started an hour ago and ends in two hours (district time)."""
    now = clock.now()
    start = (now - dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    end = now + dt.timedelta(hours=2)
    sh = Shift(station_id=station.id, day=start.date(), starts_at=clock.to_utc(start.date(), start.time()),
               ends_at=clock.to_utc(end.date(), end.time().replace(second=0, microsecond=0)), role="", needed=needed)
    db.session.add(sh)
    db.session.commit()
    return sh
