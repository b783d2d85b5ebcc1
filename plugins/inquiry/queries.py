

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from core.extensions import db
from core.models import subtree, utcnow

from .models import (
    OPEN_STATES,
    HotspotStat,
    MonthStat,
    Problem,
)
from .services.deadlines import LOCAL_OFFSET, overdue_condition
from .services.stats import ALL, HOT_DAYS, HOT_MIN, STAT_FIELDS, detail_rows

# --- Lists and analysis ----------------------------------------------------------------------------

@dataclass
class Filters:
    state: str = ""
    unit_id: int | None = None
    community_id: int | None = None
    category_id: int | None = None
    channel: str = ""
    overdue: bool = False
    supervised: bool = False
    start: dt.date | None = None
    end: dt.date | None = None
    q: str = ""


def filter_problems(stmt, f: Filters, now: dt.datetime | None = None):
    now = now or utcnow()
    if f.state == "open":
        stmt = stmt.where(Problem.state.in_(OPEN_STATES))
    elif f.state:
        stmt = stmt.where(Problem.state == f.state)
    if f.unit_id:
        stmt = stmt.where(Problem.unit_id == f.unit_id)
    if f.community_id:
        stmt = stmt.where(Problem.community_id == f.community_id)
    if f.category_id:
        stmt = stmt.where(Problem.category_id == f.category_id)
    if f.channel:
        stmt = stmt.where(Problem.channel == f.channel)
    if f.overdue:
        stmt = stmt.where(overdue_condition(now))
    if f.supervised:
        stmt = stmt.where(Problem.supervised.is_(True))
    if f.start:
        stmt = stmt.where(Problem.created_at >= dt.datetime.combine(f.start, dt.time()) - LOCAL_OFFSET)
    if f.end:
        stmt = stmt.where(Problem.created_at < dt.datetime.combine(f.end + dt.timedelta(days=1), dt.time()) - LOCAL_OFFSET)
    if f.q:
        q = f.q.strip()
        if q.upper().startswith("WZ"):
            stmt = stmt.where(Problem.ref == q.upper())
        else:
            stmt = stmt.where(Problem.description.contains(q, autoescape=True))
    return stmt


def scope_condition(paths: list[str], district_root_paths: bool):
    """Problems under the given subtree roots (all of them for the district)."""
    if district_root_paths:
        return None
    if not paths:
        return Problem.id.is_(None)
    return or_(*[subtree(Problem.node_path, p) for p in paths])


def analysis(community_ids: list[int] | None, start_month: str, end_month: str) -> dict:
    """The 研判 figures from the maintained totals (a few hundred rows a year)."""
    period = [MonthStat.month >= start_month, MonthStat.month <= end_month]
    sums = [func.sum(getattr(MonthStat, f)).label(f) for f in STAT_FIELDS]

    def grouped(col, *where):
        return {r[0]: dict(zip(STAT_FIELDS, [int(v or 0) for v in r[1:]], strict=True))
                for r in db.session.execute(select(col, *sums).where(*period, *where).group_by(col))}

    detail = detail_rows(community_ids)
    by_month = grouped(MonthStat.month, detail)
    by_category = grouped(MonthStat.category_id, detail)
    by_unit = grouped(MonthStat.unit_id, detail)
    comm = MonthStat.community_id != ALL if community_ids is None else MonthStat.community_id.in_(community_ids or [-2])
    by_community = grouped(MonthStat.community_id, comm, MonthStat.category_id == ALL)
    totals = dict.fromkeys(STAT_FIELDS, 0)
    for row in by_month.values():
        for k, v in row.items():
            totals[k] += v
    return {"by_month": by_month, "by_category": by_category, "by_unit": by_unit,
            "by_community": by_community, "totals": totals}


def rate(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 1) if den else None


def hotspots(now: dt.datetime | None = None, community_ids: list[int] | None = None, days: int = HOT_DAYS,
             minimum: int = HOT_MIN, limit: int = 20) -> list[tuple[int, int, int]]:
    """(building_id, category_id, count): the same building and category at
    least `minimum` times within 90 days, the latest of them in the last
    `days` days. The count is the one kept when the latest problem came in."""
    now = now or utcnow()
    stmt = (
        select(HotspotStat.building_id, HotspotStat.category_id, HotspotStat.n)
        .where(HotspotStat.n >= minimum, HotspotStat.last_at >= now - dt.timedelta(days=days))
        .order_by(HotspotStat.n.desc(), HotspotStat.last_at.desc())
        .limit(limit)
    )
    if community_ids is not None:
        stmt = stmt.where(HotspotStat.community_id.in_(community_ids or [-1]))
    return [tuple(r) for r in db.session.execute(stmt)]
