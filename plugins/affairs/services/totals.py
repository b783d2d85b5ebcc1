"""Maintained totals per grid node (residents, houses, open special-group
periods of each subtree), kept by the services that change the rows and
recomputed after bulk work and node moves."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, insert, or_, select, update

from core.extensions import db
from core.models import GridNode, subtree

from ..models import (
    AffairTask,
    GroupTag,
    House,
    NodeTotal,
    Resident,
    SquadMember,
    SquadReport,
    Visit,
)


def paths_condition(path_column, paths: list[str]):
    """SQL condition: `path_column` lies under one of `paths` (none: nothing)."""
    if not paths:
        return False
    return or_(*[subtree(path_column, p) for p in paths])


def node_holders(node_ids) -> list[tuple]:
    out = []
    ids = list(node_ids)
    for title, model in (
        (_l("houses"), House),
        (_l("residents"), Resident),
        (_l("visits"), Visit),
        (_l("grid checklist items"), AffairTask),
        (_l("grid squad members"), SquadMember),
        (_l("squad reports"), SquadReport),
    ):
        n = db.session.scalar(select(func.count()).select_from(model).where(model.node_id.in_(ids)))
        if n:
            out.append((title, n))
    return out


# --- Maintained totals per grid node -----------------------------------------------------
#
# Keys: "residents", "party", "non_registered", "houses", "occ:<occupancy>" and
# "group:<group type id>" (open periods: no end date). Each node holds the
# totals of its whole subtree, itself included.


def _ancestor_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def _node_path(node_id: int) -> str:
    return db.session.scalar(select(GridNode.path).where(GridNode.id == node_id)) or ""


def bump_totals(node_id: int, deltas: dict[str, int]) -> None:
    """Add `deltas` to the totals of the node and of every ancestor."""
    deltas = {k: v for k, v in deltas.items() if v}
    if not deltas or node_id is None:
        return
    ids = _ancestor_ids(_node_path(node_id))
    if not ids:
        return
    have = set(
        db.session.execute(
            select(NodeTotal.node_id, NodeTotal.key).where(NodeTotal.node_id.in_(ids), NodeTotal.key.in_(list(deltas)))
        ).all()
    )
    missing = [{"node_id": i, "key": k, "value": 0} for i in ids for k in deltas if (i, k) not in have]
    if missing:
        db.session.execute(insert(NodeTotal), missing)
    for k, d in deltas.items():
        db.session.execute(
            update(NodeTotal).where(NodeTotal.node_id.in_(ids), NodeTotal.key == k)
            .values(value=NodeTotal.value + d).execution_options(synchronize_session=False)
        )


def _resident_keys(party: bool, residence: str, open_groups) -> dict[str, int]:
    out = {"residents": 1, "party": 1 if party else 0, "non_registered": 1 if residence == "non_registered" else 0}
    for gid in open_groups:
        out[f"group:{gid}"] = out.get(f"group:{gid}", 0) + 1
    return out


def _open_groups(resident_id: int) -> list[int]:
    return list(db.session.scalars(
        select(GroupTag.group_type_id).where(GroupTag.resident_id == resident_id, GroupTag.end_date.is_(None))
    ))


def _diff(new: dict, old: dict, sign: int = 1) -> dict:
    keys = set(new) | set(old)
    return {k: sign * (new.get(k, 0) - old.get(k, 0)) for k in keys}


def _house_people_keys(house_id: int) -> dict[str, int]:
    """The totals the residents of a house contribute (to move them with the house)."""
    n, party, nonreg = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Resident.party_member.is_(True), 1), else_=0)), 0),
            func.coalesce(func.sum(case((Resident.residence == "non_registered", 1), else_=0)), 0),
        ).where(Resident.house_id == house_id)
    ).one()
    out = {"residents": n or 0, "party": party or 0, "non_registered": nonreg or 0}
    for gid, c in db.session.execute(
        select(GroupTag.group_type_id, func.count())
        .join(Resident, Resident.id == GroupTag.resident_id)
        .where(Resident.house_id == house_id, GroupTag.end_date.is_(None))
        .group_by(GroupTag.group_type_id)
    ):
        out[f"group:{gid}"] = c
    return out


def node_totals(node_ids) -> dict[str, int]:
    """The maintained totals of the subtrees of `node_ids` (disjoint), summed by key."""
    out: dict[str, int] = {}
    ids = list(node_ids)
    if not ids:
        return out
    for k, v in db.session.execute(
        select(NodeTotal.key, func.sum(NodeTotal.value)).where(NodeTotal.node_id.in_(ids)).group_by(NodeTotal.key)
    ):
        out[k] = int(v or 0)
    return out


def _minimal_paths(paths) -> list[str]:
    out: list[str] = []
    for p in sorted(set(paths), key=len):
        if not any(p.startswith(q) for q in out):
            out.append(p)
    return out


def recompute_totals(paths: list[str] | None = None) -> None:
    """Recompute the totals of the subtrees at `paths` (all nodes: None) from
    the rows, with grouped SQL per node, and carry the change up to the
    ancestors. Used after bulk work: the demo and each import."""
    from sqlalchemy import delete, true

    roots = _minimal_paths(paths) if paths is not None else [None]
    for root in roots:
        cond = subtree(GridNode.path, root) if root else true()
        depth = len(_ancestor_ids(root)) - 1 if root else 0
        totals: dict[tuple[int, str], int] = {}

        def add(path, key, value, _totals=totals, _depth=depth):
            if not value:
                return
            for aid in _ancestor_ids(path)[_depth:]:
                _totals[(aid, key)] = _totals.get((aid, key), 0) + int(value)

        for path, n, party, nonreg in db.session.execute(
            select(
                GridNode.path,
                func.count(),
                func.coalesce(func.sum(case((Resident.party_member.is_(True), 1), else_=0)), 0),
                func.coalesce(func.sum(case((Resident.residence == "non_registered", 1), else_=0)), 0),
            ).join(GridNode, GridNode.id == Resident.node_id).where(cond).group_by(GridNode.path)
        ):
            add(path, "residents", n)
            add(path, "party", party)
            add(path, "non_registered", nonreg)
        for path, occ, n in db.session.execute(
            select(GridNode.path, House.occupancy, func.count())
            .join(GridNode, GridNode.id == House.node_id).where(cond).group_by(GridNode.path, House.occupancy)
        ):
            add(path, "houses", n)
            add(path, f"occ:{occ}", n)
        for path, gid, n in db.session.execute(
            select(GridNode.path, GroupTag.group_type_id, func.count())
            .join(Resident, Resident.id == GroupTag.resident_id)
            .join(GridNode, GridNode.id == Resident.node_id)
            .where(cond, GroupTag.end_date.is_(None))
            .group_by(GridNode.path, GroupTag.group_type_id)
        ):
            add(path, f"group:{gid}", n)
        if root is None:
            db.session.execute(delete(NodeTotal))
        else:
            root_id = _ancestor_ids(root)[-1]
            old = node_totals([root_id])
            new = {k: v for (nid, k), v in totals.items() if nid == root_id}
            above = _ancestor_ids(root)[:-1]
            if above:
                bump_totals(above[-1], _diff(new, old))
            db.session.execute(
                delete(NodeTotal).where(NodeTotal.node_id.in_(select(GridNode.id).where(cond)))
                .execution_options(synchronize_session=False)
            )
        rows = [{"node_id": nid, "key": k, "value": v} for (nid, k), v in totals.items()]
        for i in range(0, len(rows), 5000):
            db.session.execute(insert(NodeTotal), rows[i:i + 5000])
    db.session.flush()


def follow_node_move(old_path: str, new_path: str) -> None:
    """A grid node moved: its old and new parents' subtrees (and so all their
    ancestors) get their totals recomputed; the moved subtree's own totals
    are unchanged."""

    def parent(path: str) -> str:
        return path[: path.rstrip("/").rfind("/") + 1]

    recompute_totals([parent(old_path)])
    recompute_totals([parent(new_path)])
