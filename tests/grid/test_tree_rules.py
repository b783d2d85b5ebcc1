"""Rules of the grid tree: levels, move, delete, totals, codes, search."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.grid import services as svc
from core.models import GridNode, RoleGrant
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("english")


def totals(node):
    db.session.refresh(node)
    return (node.n_communities, node.n_estates, node.n_buildings, node.n_zones)


def test_the_factory_tree_has_right_totals_and_paths(tree):
    assert totals(tree.district) == (2, 4, 8, 16)
    assert totals(tree.communities[0]) == (0, 2, 4, 8)
    zone = tree.zones[-1]
    assert zone.path.startswith(tree.communities[1].path)
    assert zone.community_id == tree.communities[1].id
    assert zone.depth == 4


@pytest.mark.parametrize(
    ("parent_attr", "level"),
    [("district", "estate"), ("communities", "building"), ("estates", "community"), ("zones", "zone")],
)
def test_a_level_must_sit_right_under_its_parents(tree, parent_attr, level):
    parent = getattr(tree, parent_attr)
    parent = parent[0] if isinstance(parent, list) else parent
    with pytest.raises(svc.TreeError, match="cannot sit under"):
        svc.create_node(parent, level, "错层", "X-1")


def test_only_a_district_is_a_root(app):
    with pytest.raises(svc.TreeError):
        svc.create_node(None, "community", "孤儿社区", "X-2")


def test_duplicate_code_and_empty_name_are_refused(tree):
    with pytest.raises(svc.TreeError, match="used by another grid"):
        svc.create_node(tree.communities[0], "estate", "新小区", tree.estates[0].code)
    with pytest.raises(svc.TreeError, match="name"):
        svc.create_node(tree.communities[0], "estate", "  ", "X-3")


def test_moving_an_estate_moves_its_subtree_and_fixes_totals(tree):
    c1, c2 = tree.communities
    estate = tree.estates[0]
    zone_ids = [z.id for z in tree.zones[:4]]  # the zones of estate 1
    svc.move_node(estate, c2)
    db.session.commit()
    moved = db.session.get(GridNode, estate.id)
    assert moved.parent_id == c2.id
    assert moved.path == f"{c2.path}{estate.id}/"
    zones = db.session.scalars(select(GridNode).where(GridNode.id.in_(zone_ids))).all()
    assert all(z.path.startswith(moved.path) and z.community_id == c2.id for z in zones)
    assert totals(c1) == (0, 1, 2, 4)
    assert totals(c2) == (0, 3, 6, 12)
    assert totals(tree.district) == (2, 4, 8, 16)
    # The maintained totals agree with a full recount.
    before = {n.id: totals(n) for n in db.session.scalars(select(GridNode))}
    svc.recompute_counts()
    after = {n.id: totals(n) for n in db.session.scalars(select(GridNode))}
    assert before == after


def test_moving_a_building_to_another_community_changes_its_community(tree):
    building = tree.buildings[0]
    target = tree.estates[3]  # in community 2
    svc.move_node(building, target)
    db.session.commit()
    zones = db.session.scalars(select(GridNode).where(GridNode.parent_id == building.id)).all()
    assert {z.community_id for z in zones} == {tree.communities[1].id}
    assert totals(tree.estates[0]) == (0, 0, 1, 2)
    assert totals(target) == (0, 0, 3, 6)


def test_move_refuses_a_parent_of_the_wrong_level_or_itself(tree):
    with pytest.raises(svc.TreeError, match="cannot sit under"):
        svc.move_node(tree.estates[0], tree.buildings[2])
    with pytest.raises(svc.TreeError):
        svc.move_node(tree.communities[0], tree.communities[0])
    with pytest.raises(svc.TreeError, match="district"):
        svc.move_node(tree.district, tree.communities[0])


def test_delete_is_refused_with_children_and_names_what_holds_a_node(app, tree):
    pm = app.extensions["wangge"].pm
    with pytest.raises(svc.TreeError, match="2 grids beneath"):
        svc.delete_node(tree.buildings[0], pm)
    zone = tree.zones[0]
    make_user("holder", "resident", zone)
    with pytest.raises(svc.TreeError) as exc:
        svc.delete_node(zone, pm)
    assert "1" in str(exc.value) and "role grants" in str(exc.value)
    assert db.session.get(GridNode, zone.id) is not None


def test_delete_of_an_empty_leaf_updates_every_ancestor(app, tree):
    pm = app.extensions["wangge"].pm
    zone = tree.zones[0]
    svc.delete_node(zone, pm)
    db.session.commit()
    assert db.session.get(GridNode, zone.id) is None
    assert totals(tree.buildings[0])[3] == 1
    assert totals(tree.communities[0])[3] == 7
    assert totals(tree.district)[3] == 15


def test_module_holders_are_asked_before_delete(app, tree):
    from core.hookspecs import hookimpl

    class Holder:
        @hookimpl
        def wangge_node_holders(self, node_ids):
            return [("residents", 3)] if tree.zones[1].id in node_ids else []

    pm = app.extensions["wangge"].pm
    pm.register(Holder(), name="holder-test")
    try:
        with pytest.raises(svc.TreeError, match="3 residents"):
            svc.delete_node(tree.zones[1], pm)
    finally:
        pm.unregister(name="holder-test")
    assert db.session.get(GridNode, tree.zones[1].id) is not None


def test_suggested_codes_follow_the_scheme(app):
    district = svc.create_node(None, "district", "湾沚区", "340221")
    c = svc.create_node(district, "community", "城东社区", svc.suggest_code(district))
    assert c.code == "340221001"
    assert svc.suggest_code(district) == "340221002"
    e = svc.create_node(c, "estate", "锦绣花园", svc.suggest_code(c))
    assert e.code == "340221001001"
    assert svc.suggest_code(e) == "340221001001001"


def test_search_by_name_and_by_code_prefix(tree):
    from sqlalchemy import true

    found = svc.search_nodes("测试1", true())
    assert {n.id for n in found} >= {tree.communities[0].id, tree.estates[0].id}
    by_code = svc.search_nodes(tree.buildings[0].code, true())
    assert tree.buildings[0].id in {n.id for n in by_code}
    assert all(n.code.startswith(tree.buildings[0].code) for n in by_code)
    assert svc.search_nodes("没有这个名字", true()) == []


def test_bulk_insert_computes_paths_and_totals(tree):
    c = tree.communities[0]
    ids = svc.next_ids(3)
    svc.bulk_insert_nodes(
        [
            {"id": ids[0], "parent_id": c.id, "level": "estate", "name": "批量小区", "code": "B-1"},
            {"id": ids[1], "parent_id": ids[0], "level": "building", "name": "1栋", "code": "B-1-1"},
            {"id": ids[2], "parent_id": ids[1], "level": "zone", "name": "1单元", "code": "B-1-1-1"},
        ]
    )
    db.session.commit()
    z = db.session.get(GridNode, ids[2])
    assert z.path == f"{c.path}{ids[0]}/{ids[1]}/{ids[2]}/" and z.community_id == c.id
    assert totals(db.session.get(GridNode, ids[0])) == (0, 0, 1, 1)
    assert totals(c) == (0, 3, 5, 9)
    assert totals(tree.district) == (2, 5, 9, 17)
    assert db.session.scalar(select(func.count()).select_from(RoleGrant)) == 0
