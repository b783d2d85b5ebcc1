"""Maintained totals (monthly statistics, hotspot counts) and how they follow
the grid when a node moves."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from core import clock
from core.extensions import db
from core.models import GridNode, subtree

from ..models import (
    Event,
    HotspotStat,
    MonthStat,
    Problem,
)


def month_key(moment: dt.datetime) -> str:
    return f"{clock.local_date(moment):%Y-%m}"


HOT_DAYS = 90
HOT_MIN = 3


def set_hot_count(problem: Problem) -> None:
    """Count the same building and category in the 90 days up to this problem."""
    if not problem.building_id or not problem.category_id:
        problem.hot_count = 1
        return
    problem.hot_count = db.session.scalar(
        select(func.count()).select_from(Problem).where(
            Problem.building_id == problem.building_id, Problem.category_id == problem.category_id,
            Problem.created_at >= problem.created_at - dt.timedelta(days=HOT_DAYS), Problem.created_at <= problem.created_at,
            Problem.state.notin_(("rejected", "duplicate")))
    ) or 1
    key = dict(building_id=problem.building_id, category_id=problem.category_id)
    stmt = (update(HotspotStat).where(HotspotStat.building_id == key["building_id"], HotspotStat.category_id == key["category_id"],
                                      HotspotStat.last_at <= problem.created_at)
            .values(n=problem.hot_count, last_at=problem.created_at).execution_options(synchronize_session=False))
    if db.session.execute(stmt).rowcount:
        return
    exists_ = db.session.scalar(select(HotspotStat.id).where(HotspotStat.building_id == key["building_id"],
                                                           HotspotStat.category_id == key["category_id"]))
    if exists_ is None:
        try:
            with db.session.begin_nested():
                db.session.add(HotspotStat(**key, community_id=problem.community_id, n=problem.hot_count, last_at=problem.created_at))
        except IntegrityError:
            db.session.execute(stmt)


def rebuild_hot_counts() -> None:
    rows = db.session.execute(
        select(Problem.id, Problem.building_id, Problem.category_id, Problem.created_at)
        .where(Problem.building_id.isnot(None), Problem.category_id.isnot(None), Problem.state.notin_(("rejected", "duplicate")))
        .order_by(Problem.building_id, Problem.category_id, Problem.created_at)
    ).all()
    updates = []
    window: list = []
    key = None
    latest: dict[tuple, dict] = {}
    community = dict(db.session.execute(select(GridNode.id, GridNode.community_id).where(GridNode.level == "building")).all())
    for pid, b, c, at in rows:
        if (b, c) != key:
            key, window = (b, c), []
        window.append(at)
        while window[0] < at - dt.timedelta(days=HOT_DAYS):
            window.pop(0)
        if len(window) > 1:
            updates.append({"pid": pid, "n": len(window)})
        latest[key] = {"building_id": b, "category_id": c, "community_id": community.get(b), "n": len(window), "last_at": at}
    db.session.execute(delete(HotspotStat))
    batch = list(latest.values())
    for i in range(0, len(batch), 5000):
        db.session.execute(insert(HotspotStat), batch[i : i + 5000])
    db.session.execute(update(Problem).values(hot_count=1).execution_options(synchronize_session=False))
    if updates:
        from sqlalchemy import bindparam

        stmt = update(Problem.__table__).where(Problem.__table__.c.id == bindparam("pid")).values(hot_count=bindparam("n"))
        db.session.connection().execute(stmt, updates)



# --- Maintained totals -------------------------------------------------------------------------

STAT_FIELDS = ("received", "assigned", "closed", "closed_on_time", "working_days", "visits", "satisfied", "returns", "reopens", "supervisions")


ALL = -1  # the "every community" / "every category and unit" rows of MonthStat


def detail_rows(community_ids: list[int] | None):
    """Condition for the MonthStat rows that break totals down by category and
    unit: the district rows, or the given communities' own rows."""
    if community_ids is None:
        return MonthStat.community_id == ALL
    return and_(MonthStat.community_id.in_(community_ids or [-2]), MonthStat.category_id != ALL)


def bump(month: str, community_id, category_id, unit_id, **deltas) -> None:
    """Add to the totals of one month: the community's row for this category
    and unit, the district's row for it, and the community's overall row."""
    comm, cat, unit = community_id or 0, category_id or 0, unit_id or 0
    for key in ((comm, cat, unit), (ALL, cat, unit), (comm, ALL, ALL)):
        _bump_row(dict(month=month, community_id=key[0], category_id=key[1], unit_id=key[2]), deltas)


def _bump_row(key: dict, deltas: dict) -> None:
    where = [getattr(MonthStat, k) == v for k, v in key.items()]
    values = {k: getattr(MonthStat, k) + v for k, v in deltas.items()}
    stmt = update(MonthStat).where(*where).values(**values).execution_options(synchronize_session=False)
    if db.session.execute(stmt).rowcount:
        return
    try:
        with db.session.begin_nested():
            db.session.execute(insert(MonthStat).values(**key, **deltas))
    except IntegrityError:
        db.session.execute(stmt)


def rebuild_stats(community_ids: list[int] | None = None) -> int:
    """Recompute the maintained totals from the problems and their timeline:
    all of them (and the hotspot counts), or only the rows of the given
    communities (their district-wide rows do not change when problems move
    between communities)."""
    problems = select(Problem.created_at, Problem.community_id, Problem.category_id, Problem.unit_id, Problem.state,
                      Problem.closed_at, Problem.on_time, Problem.working_days_to_close, Problem.outcome)
    events = (select(Event.at, Event.action, Event.unit_id, Problem.community_id, Problem.category_id)
              .join(Problem, Problem.id == Event.problem_id)
              .where(Event.action.in_(("issue", "return", "reopen", "supervise"))))
    if community_ids is None:
        rebuild_hot_counts()
        db.session.execute(delete(MonthStat))
    else:
        ids = sorted({c or 0 for c in community_ids})
        db.session.execute(delete(MonthStat).where(MonthStat.community_id.in_(ids)))
        mine = func.coalesce(Problem.community_id, 0).in_(ids)
        problems, events = problems.where(mine), events.where(mine)
    acc: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STAT_FIELDS, 0))
    for created, comm, cat, unit, state, closed_at, on_time, wd, outcome in db.session.execute(problems):
        acc[(month_key(created), comm or 0, cat or 0, 0)]["received"] += 1
        if state == "closed" and closed_at is not None:
            a = acc[(month_key(closed_at), comm or 0, cat or 0, unit or 0)]
            a["closed"] += 1
            a["closed_on_time"] += 1 if on_time else 0
            a["working_days"] += wd or 0
            if outcome in ("satisfied", "basically_satisfied"):
                a["visits"] += 1
                a["satisfied"] += 1
    field = {"issue": "assigned", "return": "returns", "reopen": "reopens", "supervise": "supervisions"}
    for at, action, unit, comm, cat in db.session.execute(events):
        a = acc[(month_key(at), comm or 0, cat or 0, unit or 0)]
        a[field[action]] += 1
        if action == "reopen":
            a["visits"] += 1
    full: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STAT_FIELDS, 0))
    for (month, comm, cat, unit), v in acc.items():
        keys = [(month, comm, cat, unit), (month, comm, ALL, ALL)]
        if community_ids is None:
            keys.append((month, ALL, cat, unit))
        for key in keys:
            row = full[key]
            for f, n in v.items():
                row[f] += n
    batch = [dict(month=k[0], community_id=k[1], category_id=k[2], unit_id=k[3], **v) for k, v in full.items()]
    for i in range(0, len(batch), 2000):
        db.session.execute(insert(MonthStat), batch[i : i + 2000])
    return len(batch)


def _community_in(path: str) -> int | None:
    parts = [x for x in path.strip("/").split("/") if x]
    return int(parts[1]) if len(parts) >= 2 else None


def follow_node_move(old_path: str, new_path: str) -> None:
    """A grid node moved: the problems under it take the new path and
    community (their scope and community filters read these copies), the
    hotspots of its buildings their new community, and when the node changed
    community, both communities' monthly statistics are recomputed from the
    records (the district's own totals do not change)."""
    from sqlalchemy import case, literal

    node = select(case((GridNode.level == "community", GridNode.id), else_=GridNode.community_id))
    db.session.execute(
        update(Problem)
        .where(subtree(Problem.node_path, old_path))
        .values(
            node_path=literal(new_path) + func.substr(Problem.node_path, len(old_path) + 1),
            community_id=node.where(GridNode.id == Problem.node_id).scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(HotspotStat)
        .where(HotspotStat.building_id.in_(select(GridNode.id).where(subtree(GridNode.path, new_path))))
        .values(community_id=node.where(GridNode.id == HotspotStat.building_id).scalar_subquery())
        .execution_options(synchronize_session=False)
    )
    old, new = _community_in(old_path), _community_in(new_path)
    if old != new:
        rebuild_stats([c for c in (old, new) if c is not None])
