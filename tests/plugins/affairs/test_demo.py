"""The module's demo data: about 50 residents per zone with valid ID numbers,
special groups, households, squads and 8 weeks of visits, on whatever tree exists."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from core.extensions import db
from plugins.affairs import services as S
from plugins.affairs.models import AffairItem, GroupTag, Household, Resident, SquadMember, Visit
from tests import factories


def test_demo_data_on_a_small_tree(app):
    t = factories.build_tree()
    for i, estate in enumerate(t.estates):
        w = factories.make_user(f"w{i}", "grid_worker", estate)
        factories.assign_post(estate, a_user=w)
    lines = []
    app.extensions["wangge"].pm.hook.wangge_demo_data(scale=1, rng=random.Random(1), report=lines.append)
    db.session.commit()
    n = db.session.scalar(select(func.count()).select_from(Resident))
    assert 35 * len(t.zones) <= n <= 65 * len(t.zones)
    for number in db.session.scalars(select(Resident.id_number)):
        assert number[:6] in ("340221", "340210")  # Wuhu County, Wanzhi District since 2020
        S.parse_id_number(number)  # raises on an invalid one
    assert db.session.scalar(select(func.count()).select_from(AffairItem)) == 128
    assert db.session.scalar(select(func.count(func.distinct(AffairItem.category_id)))) == 9
    assert db.session.scalar(select(func.count()).select_from(AffairItem).where(AffairItem.admitted.is_(False))) > 0
    tags = db.session.scalar(select(func.count()).select_from(GroupTag))
    assert 0.03 * n < tags < 0.3 * n
    assert db.session.scalar(select(func.count()).select_from(Household)) > 0
    assert db.session.scalar(select(func.count()).select_from(SquadMember)) >= 4 * len(t.estates)
    weeks = db.session.execute(select(Visit.iso_year, Visit.iso_week).distinct()).all()
    assert len(weeks) == 8
    # Nodes holding demo data cannot be deleted silently.
    assert dict((str(k), v) for k, v in S.node_holders([t.zones[0].id]))


def test_demo_data_without_workers_or_zones_skips_quietly(app):
    factories.build_tree(zones=0)
    lines = []
    app.extensions["wangge"].pm.hook.wangge_demo_data(scale=1, rng=random.Random(1), report=lines.append)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0
    assert any("no grid workers" in line for line in lines)
