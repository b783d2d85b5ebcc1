"""Fixtures of the grid affairs tests: an app with only this module's plugin
(plus fakes where a test needs one), a small tree, workers on A/B posts and
a few houses and residents."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from stdnum.cn import ric

from core.extensions import db
from plugins.affairs import services as S
from plugins.affairs.models import House, Resident
from tests import factories


def make_id(birth: str = "19800101", seq: int = 1, area: str = "340221") -> str:
    body = f"{area}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture
def app(app_factory):
    app = app_factory(PLUGINS=["affairs"], LOAD_ENTRY_POINTS=False)
    with app.app_context():
        yield app


@dataclass
class World:
    tree: factories.Tree
    admin: object
    cadmin: object
    worker_a: object
    worker_b: object
    outsider: object
    house_a: House
    house_b: House
    house_other: House
    res_a: Resident
    res_b: Resident
    res_other: Resident


def add_house(node, room="101", unit="1", occupancy="owner") -> House:
    """A house, saved through the service (which keeps the node totals)."""
    return S.save_house(None, node, unit, 1, room, "residential", occupancy)


def add_resident(house, name, seq, birth="19800101", phone="13905531234") -> Resident:
    """A resident, saved through the service (which keeps the node totals)."""
    return S.save_resident(None, house=house, name=name, id_number=make_id(birth, seq), phone=phone,
                           residence="registered", party_member=False, social_security="resident",
                           employment="employed")


@pytest.fixture
def world(app) -> World:
    """Community 1: estate E1 (worker A) and E2 (worker B, A's B-post); community 2: outsider's."""
    t = factories.build_tree()
    admin = factories.make_user("admin", "district_admin", t.district, display_name="区管理员")
    cadmin = factories.make_user("cadmin", "community_admin", t.communities[0], display_name="社区管理员")
    a = factories.make_user("worker_a", "grid_worker", t.estates[0], display_name="网格员甲")
    b = factories.make_user("worker_b", "grid_worker", t.estates[1], display_name="网格员乙")
    o = factories.make_user("outsider", "grid_worker", t.estates[2], display_name="外社区网格员")
    factories.assign_post(t.estates[0], a_user=a, b_user=b)
    factories.assign_post(t.estates[1], a_user=b, b_user=a)
    factories.assign_post(t.estates[2], a_user=o)
    # zones[0] lies under estates[0]; zones[4] under estates[1]; zones[8] under estates[2] (community 2).
    ha = add_house(t.zones[0], "101")
    hb = add_house(t.zones[4], "201")
    ho = add_house(t.zones[8], "301")
    ra = add_resident(ha, "张甲", 11)
    rb = add_resident(hb, "李乙", 13)
    ro = add_resident(ho, "王丙", 15)
    db.session.commit()
    return World(t, admin, cadmin, a, b, o, ha, hb, ho, ra, rb, ro)
