"""The read side of grid affairs: list statements, counts and figures."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, exists, func, or_, select

from core import clock
from core.extensions import db
from core.models import GridNode, subtree

from .models import (
    OCCUPANCIES,
    GroupTag,
    GroupType,
    House,
    Resident,
)
from .services.groups import active_tag_condition
from .services.totals import node_totals


def residents_stmt(scope_cond, node: GridNode | None = None, q: str = "", group_id: int | None = None,
                   today: dt.date | None = None):
    stmt = (
        select(Resident)
        .join(GridNode, GridNode.id == Resident.node_id)
        .where(scope_cond)
        .order_by(GridNode.path, Resident.name, Resident.id)
    )
    if node is not None:
        stmt = stmt.where(subtree(GridNode.path, node.path))
    q = (q or "").strip()
    if q:
        # Search by name, or by the full ID number / phone (never by fragments of them).
        stmt = stmt.where(or_(Resident.name.contains(q), Resident.id_number == q.upper(), Resident.phone == q))
    if group_id:
        today = today or clock.today()
        stmt = stmt.where(
            exists().where(
                GroupTag.resident_id == Resident.id,
                GroupTag.group_type_id == group_id,
                GroupTag.start_date <= today,
                or_(GroupTag.end_date.is_(None), GroupTag.end_date >= today),
            )
        )
    return stmt


def houses_stmt(scope_cond, node: GridNode | None = None, q: str = ""):
    stmt = (
        select(House)
        .join(GridNode, GridNode.id == House.node_id)
        .where(scope_cond)
        .order_by(GridNode.path, House.unit, House.room, House.id)
    )
    if node is not None:
        stmt = stmt.where(subtree(GridNode.path, node.path))
    if q:
        stmt = stmt.where(or_(House.room.contains(q.strip()), GridNode.name.contains(q.strip())))
    return stmt


def subtree_counts(node: GridNode) -> dict:
    """Residents, houses and occupancy of a subtree: the node's maintained totals."""
    t = node_totals([node.id])
    return {
        "residents": t.get("residents", 0),
        "houses": t.get("houses", 0),
        "occupancy": {o: t[f"occ:{o}"] for o in OCCUPANCIES if t.get(f"occ:{o}")},
        "party_members": t.get("party", 0),
        "non_registered": t.get("non_registered", 0),
    }


def group_counts(node: GridNode, today: dt.date) -> list[tuple[GroupType, int]]:
    """Members of each active group in the subtree (open periods), from the maintained totals."""
    t = node_totals([node.id])
    types = list(db.session.scalars(select(GroupType).where(GroupType.active.is_(True)).order_by(GroupType.sort_order, GroupType.id)))
    return [(g, t.get(f"group:{g.id}", 0)) for g in types]


def count_tags(stmt) -> int:
    """Count the rows of a statement over GroupTag without computing its extra columns."""
    slim = stmt.with_only_columns(GroupTag.id).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(slim)) or 0


def count_tags_upto(stmt, cap: int) -> int:
    """Count the rows of a statement over GroupTag, stopping after `cap` + 1:
    the cost is bounded whatever the size of the district."""
    slim = stmt.with_only_columns(GroupTag.id).order_by(None).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(slim)) or 0


DUE_CAP = 20


def due_figure(stmt) -> int | str:
    """How many are due, exactly up to DUE_CAP, else "20+"."""
    n = count_tags_upto(stmt, DUE_CAP)
    return f"{DUE_CAP}+" if n > DUE_CAP else n


def due_figure_of(resident_stmt) -> int | str:
    """due_figure for due_residents_stmt: people due, exactly up to DUE_CAP, else "20+"."""
    n = count_upto(resident_stmt, DUE_CAP)
    return f"{DUE_CAP}+" if n > DUE_CAP else n


def last_visit_subquery():
    """The resident's latest visit (maintained on the resident by record_visit)."""
    return Resident.last_visit_date


def due_stmt(scope_cond, today: dt.date, node: GridNode | None = None):
    """Active special-group members whose group wants a visit every N days and
    who have not had one for N days: (tag, last visit date) rows, longest-waiting first.
    For a small scope (see due_residents_stmt for a large one)."""
    last = Resident.last_visit_date.label("last_visit")
    stmt = (
        select(GroupTag, last)
        .join(Resident, Resident.id == GroupTag.resident_id)
        .join(GridNode, GridNode.id == Resident.node_id)
        .join(GroupType, GroupType.id == GroupTag.group_type_id)
        .where(scope_cond, active_tag_condition(today), GroupType.visit_interval_days.isnot(None), GroupType.active.is_(True))
    )
    if node is not None:
        stmt = stmt.where(subtree(GridNode.path, node.path))
    # The cut-off depends on the group: a visit within visit_interval_days days.
    cutoffs = [
        (gid, today - dt.timedelta(days=days))
        for gid, days in db.session.execute(
            select(GroupType.id, GroupType.visit_interval_days).where(GroupType.visit_interval_days.isnot(None))
        ).all()
    ]
    if not cutoffs:
        return stmt.where(False)
    # One condition with the cut-off looked up by group (a CASE), not an OR per
    # group: so the planner starts from the grid subtree, not from every tag.
    cutoff = case(dict(cutoffs), value=GroupTag.group_type_id)
    # A small scope starts from its grid subtree: the tags' own indexes are
    # kept out of it (group_type_id + 0), else SQLite may start from every tag.
    gid_col = GroupTag.group_type_id + 0
    return stmt.where(
        gid_col.in_([gid for gid, _c in cutoffs]),
        or_(Resident.last_visit_date.is_(None), Resident.last_visit_date <= cutoff),
    ).order_by(Resident.last_visit_date.asc().nulls_first(), Resident.id)


def _due_cutoffs(today: dt.date) -> list[tuple[int, dt.date]]:
    return [
        (gid, today - dt.timedelta(days=days))
        for gid, days in db.session.execute(
            select(GroupType.id, GroupType.visit_interval_days)
            .where(GroupType.visit_interval_days.isnot(None), GroupType.active.is_(True))
        ).all()
    ]


def _due_tag_condition(today: dt.date, cutoffs, group_id: int | None = None):
    cutoff = case(dict(cutoffs), value=GroupTag.group_type_id)
    gids = [gid for gid, _c in cutoffs if group_id is None or gid == group_id]
    return and_(
        GroupTag.resident_id == Resident.id,
        active_tag_condition(today),
        GroupTag.group_type_id.in_(gids),
        or_(Resident.last_visit_date.is_(None), Resident.last_visit_date <= cutoff),
    )


def due_residents_stmt(scope_cond, today: dt.date, node: GridNode | None = None, group_id: int | None = None):
    """The residents due for a visit, longest-waiting first, for a scope that
    holds much of the district: read along the last-visit index, each resident
    checked by two correlated EXISTS (a due period; a grid in scope), so a
    page stops at its LIMIT (a join here made SQLite build a filter over every
    tag, and the cost grew with the district)."""
    cutoffs = _due_cutoffs(today)
    if not cutoffs:
        return select(Resident.id).where(False)
    in_grid = exists().where(GridNode.id == Resident.node_id, scope_cond)
    if node is not None:
        in_grid = exists().where(GridNode.id == Resident.node_id, scope_cond, subtree(GridNode.path.concat(""), node.path))
    return (
        select(Resident.id)
        .where(exists().where(_due_tag_condition(today, cutoffs, group_id)), in_grid)
        .order_by(Resident.last_visit_date.asc().nulls_first(), Resident.id)
    )


def due_rows_of(resident_ids: list[int], today: dt.date, options=()) -> list[tuple]:
    """(tag, last visit) rows of the due periods of these residents, in their order."""
    if not resident_ids:
        return []
    cutoffs = _due_cutoffs(today)
    rows = db.session.execute(
        select(GroupTag, Resident.last_visit_date.label("last_visit"))
        .join(Resident, Resident.id == GroupTag.resident_id)
        .where(Resident.id.in_(resident_ids), _due_tag_condition(today, cutoffs))
        .options(*options)
    ).all()
    order = {rid: i for i, rid in enumerate(resident_ids)}
    return sorted(rows, key=lambda r: (order[r[0].resident_id], r[0].group_type_id))


def count_upto(stmt, cap: int) -> int:
    slim = stmt.order_by(None).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(slim)) or 0


