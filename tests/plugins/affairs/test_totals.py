"""Maintained totals per grid node (the panels' figures) stay equal to a direct
count after each kind of change: create, edit, move, delete, special-group
periods, an import and the demo."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import case, func, select

from core import clock
from core.extensions import db
from core.models import GridNode, subtree
from plugins.affairs import queries as Q
from plugins.affairs import services as S
from plugins.affairs.models import GroupTag, House, Resident

from .conftest import make_id
from .test_import import last_job, resident_row, upload, xlsx


def direct(node: GridNode) -> dict[str, int]:
    """The totals of a subtree counted from the rows."""
    cond = subtree(GridNode.path, node.path)
    n, party, nonreg = db.session.execute(
        select(func.count(), func.sum(case((Resident.party_member.is_(True), 1), else_=0)),
               func.sum(case((Resident.residence == "non_registered", 1), else_=0)))
        .join(GridNode, GridNode.id == Resident.node_id).where(cond)
    ).one()
    out = {"residents": n or 0, "party": party or 0, "non_registered": nonreg or 0}
    for occ, c in db.session.execute(
        select(House.occupancy, func.count()).join(GridNode, GridNode.id == House.node_id).where(cond).group_by(House.occupancy)
    ):
        out[f"occ:{occ}"] = c
        out["houses"] = out.get("houses", 0) + c
    for gid, c in db.session.execute(
        select(GroupTag.group_type_id, func.count()).join(Resident, Resident.id == GroupTag.resident_id)
        .join(GridNode, GridNode.id == Resident.node_id).where(cond, GroupTag.end_date.is_(None))
        .group_by(GroupTag.group_type_id)
    ):
        out[f"group:{gid}"] = c
    return {k: v for k, v in out.items() if v}


def assert_totals_right():
    for node in db.session.scalars(select(GridNode)):
        kept = {k: v for k, v in S.node_totals([node.id]).items() if v}
        assert kept == direct(node), (node.level, node.name)


def test_totals_follow_create_edit_move_and_delete(world):
    t = world.tree
    assert_totals_right()
    house = S.save_house(None, t.zones[1], "2", 3, "302", "residential", "rented")
    r = S.save_resident(None, house=house, name="赵新", id_number=make_id("19700505", 41), residence="non_registered",
                        party_member=True)
    db.session.commit()
    assert_totals_right()
    assert Q.subtree_counts(t.district)["residents"] == 4
    assert Q.subtree_counts(t.zones[1])["party_members"] == 1

    # Edit: no longer a Party member, registered residence; the house becomes owner-occupied.
    S.save_resident(r, house=house, name="赵新", id_number=r.id_number, residence="registered", party_member=False)
    S.save_house(house, t.zones[1], "2", 3, "302", "residential", "owner")
    db.session.commit()
    assert_totals_right()

    # Special-group periods: open ones count, ending one takes it off.
    groups = {g.code: g for g in S.ensure_group_types()}
    tag = S.add_tag(r, groups["hardship"], dt.date(2025, 1, 1), None, None, None)
    S.add_tag(world.res_a, groups["disability"], dt.date(2025, 1, 1), None, None, None)
    S.add_tag(world.res_b, groups["hardship"], dt.date(2024, 1, 1), dt.date(2024, 6, 1), None, None)
    db.session.commit()
    assert_totals_right()
    assert dict((g.code, n) for g, n in Q.group_counts(t.district, clock.today()))["hardship"] == 1

    # Move the resident to a house in another community, then the house to another building.
    S.save_resident(r, house=world.house_other, name="赵新", id_number=r.id_number)
    db.session.commit()
    assert_totals_right()
    S.save_house(world.house_other, t.zones[9], "1", 1, "301", "residential", "owner")
    db.session.commit()
    assert_totals_right()

    S.end_tag(tag, clock.today(), None)
    S.remove_resident(world.res_a)
    db.session.commit()
    assert_totals_right()
    assert Q.subtree_counts(t.district)["residents"] == 3


def test_totals_after_an_import_and_a_recompute(world, login):
    c = login("cadmin")
    rows = [resident_row(world, f"居民{i}", 100 + i, room=f"{500 + i // 3}", zone=i % 4) for i in range(12)]
    rows[0][8] = "是"  # a Party member
    upload(c, xlsx(rows))
    assert last_job().status == "done"
    db.session.expire_all()
    assert_totals_right()
    # Moved by a re-import: the first two into another zone.
    rows[0][3] = rows[1][3] = world.tree.zones[5].code
    upload(c, xlsx(rows))
    db.session.expire_all()
    assert_totals_right()
    # A recompute of one subtree leaves the totals as they are.
    S.recompute_totals([world.tree.estates[0].path])
    db.session.commit()
    assert_totals_right()


def test_demo_builds_the_totals(app):
    from tests import factories

    t = factories.build_tree()
    factories.assign_post(t.estates[0], a_user=factories.make_user("w0", "grid_worker", t.estates[0]))
    app.extensions["wangge"].pm.hook.wangge_demo_data(scale=1, rng=random.Random(2), report=lambda _line: None)
    db.session.commit()
    assert_totals_right()
    assert Q.subtree_counts(t.district)["residents"] == db.session.scalar(select(func.count()).select_from(Resident))


def test_totals_follow_a_grid_node_moving_to_another_community(world):
    """The tree moves an estate (wangge_node_moved): both communities' totals follow."""
    from core.grid.services import move_node

    t = world.tree
    house = S.save_house(None, t.zones[0], "9", 9, "909", "residential", "owner")
    S.save_resident(None, house=house, name="钱多", id_number=make_id("19800101", 17), residence="registered")
    db.session.commit()
    estate = db.session.get(GridNode, t.zones[0].parent.parent_id)  # the zone's estate
    target = next(c for c in t.communities if c.id != estate.community_id)
    before = S.node_totals([target.id]).get("residents", 0)
    move_node(estate, target)
    db.session.commit()
    assert S.node_totals([target.id]).get("residents", 0) > before
    assert_totals_right()


def test_a_zone_with_special_group_members_moving_to_another_community_matches_a_recomputation(world):
    """wangge_node_moved: after a zone (houses, residents, an open special-group
    period) moves under an estate of another community, every node's maintained
    totals equal a count from the rows, and a full recomputation changes nothing."""
    from core.grid.services import move_node
    from plugins.affairs.models import NodeTotal

    t = world.tree
    S.add_tag(world.res_a, S.ensure_group_types()[1], world.res_a.birth_date, None, None, None)
    db.session.commit()
    zone = db.session.get(GridNode, t.zones[0].id)
    target = db.session.get(GridNode, t.zones[8].parent_id)  # a building of community 2
    move_node(zone, target)
    db.session.commit()
    db.session.expire_all()
    assert_totals_right()
    kept = set(db.session.execute(select(NodeTotal.node_id, NodeTotal.key, NodeTotal.value)
                                  .where(NodeTotal.value != 0)).all())
    S.recompute_totals()
    db.session.commit()
    fresh = set(db.session.execute(select(NodeTotal.node_id, NodeTotal.key, NodeTotal.value)
                                   .where(NodeTotal.value != 0)).all())
    assert kept == fresh
    assert Q.subtree_counts(db.session.get(GridNode, t.communities[1].id))["residents"] == 2
