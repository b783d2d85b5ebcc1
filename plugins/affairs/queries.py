"""The read side of grid affairs: list statements, counts and figures.

Every list, count, panel, widget, export and search reads through
:func:`scope` (core.access.scope_condition on the rows' grid node: the user's
scope for the action and the communities where the module is on, its default
honoured) or through core.access.scoped; figures come from the maintained
totals (services.totals) or from counts capped a few pages ahead."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import joinedload

from core import access, clock
from core.extensions import db
from core.models import GridNode, subtree

from .models import (
    FINDINGS,
    OCCUPANCIES,
    GroupTag,
    GroupType,
    House,
    Resident,
    Visit,
)
from .services.groups import active_tag_condition, ensure_group_types
from .services.totals import node_totals
from .services.visits import iso_week_of


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
    t = subtree_totals(node)
    return {
        "residents": t.get("residents", 0),
        "houses": t.get("houses", 0),
        "occupancy": {o: t[f"occ:{o}"] for o in OCCUPANCIES if t.get(f"occ:{o}")},
        "party_members": t.get("party", 0),
        "non_registered": t.get("non_registered", 0),
    }


def group_counts(node: GridNode, today: dt.date) -> list[tuple[GroupType, int]]:
    """Members of each active group in the subtree (open periods), from the maintained totals."""
    t = subtree_totals(node)
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
        in_grid = exists().where(GridNode.id == Resident.node_id, scope_cond, under(node, walk=True))
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




# --- Scope: core.access, written so that indexes serve it ----------------------------------

MODULE = "affairs"

# A list whose scope holds at least this share of the district is read along
# its ORDER BY index (with its grid checked by a correlated EXISTS); a smaller
# one starts from its grid subtree and is sorted (it is small).
WALK_SHARE = 0.05


def _columns(walk: bool):
    """The grid node's path and community columns as the scope condition reads them.

    walk (SQLite only): the same values through an expression that no index
    serves, so that SQLite's planner keeps reading along the list's ORDER BY
    index instead of turning the correlated EXISTS into a scan of the subtree.
    PostgreSQL always gets the plain columns, so its planner can use the path
    index (ix_grid_node_path) and the community index."""
    if walk and db.engine.dialect.name == "sqlite":
        return GridNode.path.concat(""), GridNode.community_id + 0
    return GridNode.path, GridNode.community_id


def scope(action: str = "affairs.view", *, walk: bool = False, community=access.CURRENT):
    """SQL condition on the grid_node of the rows (joined or correlated): in the
    user's scope for `action`, in communities where the module is on (its
    default honoured), in the community chosen for the request."""
    path, cid = _columns(walk)
    return access.scope_condition(path, cid, module=MODULE, action=action, community=community)


def under(node: GridNode, walk: bool = False):
    """SQL condition: the joined grid_node lies in `node`'s subtree."""
    path, _cid = _columns(walk)
    return subtree(path, node.path)


def subtree_totals(node: GridNode) -> dict[str, int]:
    """The maintained totals of a node's subtree; for the district, less the
    communities where the module is off."""
    total = node_totals([node.id])
    if node.level == "district":
        off = list(db.session.scalars(
            select(GridNode.id).where(GridNode.parent_id == node.id, GridNode.level == "community",
                                      not_(access.module_condition(MODULE, GridNode.id)))
        ))
        for k, v in node_totals(off).items():
            total[k] = total.get(k, 0) - v
    return total


def scope_totals(action: str = "affairs.view") -> dict[str, int]:
    """The maintained totals of what scope() covers: the user's subtrees (or the
    community chosen), less the communities where the module is off."""
    from flask import has_request_context

    from core.security import scope_paths
    from core.web import current_community_id

    cid = current_community_id() if has_request_context() else None
    roots = list(db.session.scalars(select(GridNode).where(GridNode.path.in_(scope_paths(action)))))
    if cid:
        community = db.session.get(GridNode, cid)
        if community is None:
            return {}
        roots = [r for r in roots if r.path.startswith(community.path)] or (
            [community] if any(community.path.startswith(r.path) for r in roots) else []
        )
    ids, minus = [], []
    for node in roots:
        if node.level == "district":
            ids.append(node.id)
            # The district's communities where the module is off are left out.
            minus += list(db.session.scalars(
                select(GridNode.id).where(GridNode.parent_id == node.id, GridNode.level == "community",
                                          not_(access.module_condition(MODULE, GridNode.id)))
            ))
        elif access.module_on_at(MODULE, node):
            ids.append(node.id)
    total = node_totals(ids)
    for k, v in node_totals(minus).items():
        total[k] = total.get(k, 0) - v
    return total


def listed_totals(node: GridNode | None) -> dict[str, int]:
    return subtree_totals(node) if node is not None else scope_totals()


def district_totals() -> dict[str, int]:
    roots = list(db.session.scalars(select(GridNode.id).where(GridNode.parent_id.is_(None))))
    return node_totals(roots)


def share(listed: dict, key: str) -> float:
    """The part of the district's `key` (a prefix when it ends with ':') that a list covers."""

    def pick(t):
        return sum(v for k, v in t.items() if k.startswith(key)) if key.endswith(":") else t.get(key, 0)

    everything = pick(district_totals())
    return pick(listed) / everything if everything else 0.0


def walks(listed: dict, key: str) -> bool:
    return share(listed, key) >= WALK_SHARE


def house_nodes(limit: int = 400):
    """Buildings and zones the user may put houses in (for the datalist)."""
    return db.session.execute(
        select(GridNode.code, GridNode.name, GridNode.level)
        .where(GridNode.level.in_(("building", "zone")), scope("affairs.edit"))
        .order_by(GridNode.path)
        .limit(limit)
    ).all()


def active_groups() -> list[GroupType]:
    ensure_group_types()
    return list(db.session.scalars(
        select(GroupType).where(GroupType.active.is_(True)).order_by(GroupType.sort_order, GroupType.id)
    ))


# --- Visits --------------------------------------------------------------------------------

VISIT_PLACE = (joinedload(Visit.worker), joinedload(Visit.resident),
               joinedload(Visit.house).joinedload(House.node).joinedload(GridNode.parent))
TAG_PLACE = joinedload(GroupTag.resident).joinedload(Resident.house).joinedload(House.node).joinedload(GridNode.parent)
HOUSE_PLACE = joinedload(House.node).joinedload(GridNode.parent)


def visits_stmt(*, worker_id: int | None = None, finding: str = "", walk: bool = False):
    """The visit list (newest first) in scope. walk: a large scope, read along
    ix_affairs_visit_date with its grid checked by a correlated EXISTS (a join
    made SQLite filter over every grid node)."""
    base = (
        select(Visit).where(exists().where(GridNode.id == Visit.node_id, scope(walk=True))) if walk
        else select(Visit).join(GridNode, GridNode.id == Visit.node_id).where(scope())
    )
    stmt = base.options(*VISIT_PLACE).order_by(Visit.visit_date.desc(), Visit.id.desc())
    if worker_id is not None:
        stmt = stmt.where(Visit.worker_id == worker_id)
    if finding in FINDINGS:
        stmt = stmt.where(Visit.finding == finding)
    return stmt


def visits_this_week(worker_id: int, day: dt.date) -> int:
    """A worker's visits in the ISO week of `day`, in communities where the module is on."""
    y, w = iso_week_of(day)
    return db.session.scalar(
        select(func.count()).select_from(Visit).join(GridNode, GridNode.id == Visit.node_id)
        .where(Visit.worker_id == worker_id, Visit.iso_year == y, Visit.iso_week == w,
               access.module_condition(MODULE, GridNode.community_id))
    ) or 0


def visit_targets(q: str, today: dt.date, limit: int = 15):
    """Residents in the worker's grids matching q (or due for a visit when q is
    empty), and houses matching q: (residents, houses, due?)."""
    cond = scope("affairs.visit")
    if q:
        residents = list(db.session.scalars(
            select(Resident).join(GridNode, GridNode.id == Resident.node_id).where(cond)
            .where(or_(Resident.name.contains(q), Resident.phone == q))
            .options(joinedload(Resident.house).options(HOUSE_PLACE))
            .order_by(Resident.name).limit(limit)
        ))
        houses = list(db.session.scalars(
            select(House).join(GridNode, GridNode.id == House.node_id).where(cond)
            .where(or_(House.room == q, GridNode.name.contains(q))).options(HOUSE_PLACE)
            .order_by(GridNode.path, House.room).limit(8)
        ))
        return residents, houses, False
    due = db.session.execute(due_stmt(cond, today).options(TAG_PLACE).limit(limit)).all()
    seen, residents = set(), []
    for tag, _last in due:
        if tag.resident_id not in seen:
            seen.add(tag.resident_id)
            residents.append(tag.resident)
    return residents, [], True
