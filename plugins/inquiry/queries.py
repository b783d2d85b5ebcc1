"""The read side of Square Inquiry: list statements, counts, the figures of
the analysis page and the dashboard — every one through core.access, so that
it keeps to the user's scope and leaves out the communities where the module
is off (district-wide lists and figures included)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.sql.elements import True_

from core import access, clock
from core.access import CURRENT
from core.extensions import db
from core.models import GridNode, Organisation, utcnow
from core.security import scope_paths
from core.web import current_community_id

from .models import (
    OPEN_STATES,
    AssignmentSheet,
    Category,
    HotspotStat,
    MonthStat,
    Problem,
)
from .services.deadlines import overdue_condition
from .services.stats import ALL, HOT_DAYS, HOT_MIN, STAT_FIELDS, detail_rows

MODULE = "inquiry"

# --- Scope --------------------------------------------------------------------------------


def problems(stmt=None, action: str | None = None, community=CURRENT):
    """A select of problems (default: all columns) restricted to what the user
    may see for `action` (default: inquiry.view, plus a handler's own unit's
    problems), in communities where the module is on."""
    return access.scoped(stmt if stmt is not None else select(Problem), Problem, action, community=community)


def count(stmt, action: str | None = None, community=CURRENT) -> int:
    """Count the rows of a select of problems, through the access layer."""
    return db.session.scalar(select(func.count()).select_from(problems(stmt, action, community).subquery())) or 0


def sheets(stmt=None, action: str | None = None, community=CURRENT):
    """A select of assignment sheets the user may see (the district's and its communities')."""
    stmt = stmt if stmt is not None else select(AssignmentSheet)
    if community == CURRENT:
        # A community's page also lists the district's sheets (they hold its problems too).
        cid = current_community_id()
        stmt = access.scoped(stmt, AssignmentSheet, action, community=None)
        if cid is not None:
            node = db.session.get(GridNode, cid)
            stmt = stmt.where(AssignmentSheet.node_id.in_([cid, node.parent_id] if node else [cid]))
        return stmt
    return access.scoped(stmt, AssignmentSheet, action, community=community)


def community_ids(action: str = "inquiry.view") -> list[int] | None:
    """The communities whose maintained totals the user may read for `action`
    — those in (or above) the user's scope, chosen for the request if one is,
    with the module on; 0 stands for the district-level problems. None: every
    row of the district (the whole district in scope and the module on
    everywhere), so the district's own totals serve."""
    paths = scope_paths(action)
    whole = any(p.count("/") == 2 for p in paths)
    cid = current_community_id()
    switch = access.module_condition(MODULE, GridNode.id)
    if whole and cid is None and isinstance(switch, True_):
        return None
    stmt = select(GridNode.id).where(GridNode.level == "community", switch)
    if not whole:
        ids = {int(p.strip("/").split("/")[1]) for p in paths if p.count("/") >= 3}
        stmt = stmt.where(GridNode.id.in_(ids or [-1]))
    if cid is not None:
        stmt = stmt.where(GridNode.id == cid)
    out = list(db.session.scalars(stmt))
    if whole and cid is None and access.module_on_at(MODULE, None):
        out.append(0)
    return out


def communities(action: str = "inquiry.view") -> list[GridNode]:
    """Communities in (or above) the user's scope for `action` with the module on (for selects)."""
    paths = scope_paths(action)
    stmt = select(GridNode).where(GridNode.level == "community", access.module_condition(MODULE, GridNode.id))
    if not any(p.count("/") == 2 for p in paths):
        ids = {int(p.strip("/").split("/")[1]) for p in paths if p.count("/") >= 3}
        stmt = stmt.where(GridNode.id.in_(ids or [-1]))
    return list(db.session.scalars(stmt.order_by(GridNode.sort_order, GridNode.id)))


def open_communities() -> list[GridNode]:
    """Every community where the module is on (the public form)."""
    stmt = select(GridNode).where(GridNode.level == "community", access.module_condition(MODULE, GridNode.id))
    return list(db.session.scalars(stmt.order_by(GridNode.sort_order, GridNode.id)))


# --- Lists -----------------------------------------------------------------------------------


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
        stmt = stmt.where(Problem.created_at >= clock.start_of_day(f.start))
    if f.end:
        stmt = stmt.where(Problem.created_at < clock.end_of_day(f.end))
    if f.q:
        q = f.q.strip()
        if q.upper().startswith("WZ"):
            stmt = stmt.where(Problem.ref == q.upper())
        else:
            stmt = stmt.where(Problem.description.contains(q, autoescape=True))
    return stmt


def list_stmt(f: Filters, ledger: bool = False):
    """The problem list (or, with `ledger`, the public-opinion ledger) as the
    page and its export show it."""
    stmt = select(Problem)
    if not ledger:
        stmt = stmt.where(Problem.state != "filed")
    stmt = filter_problems(problems(stmt), f)
    return stmt.order_by(Problem.created_at.desc(), Problem.id.desc())


def index_counts(now: dt.datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    base = select(Problem.id)
    return {
        "new": count(base.where(Problem.state.in_(("new", "returned")))),
        "triaged": count(base.where(Problem.state == "triaged", Problem.sheet_id.is_(None))),
        "issued": count(base.where(Problem.state == "issued")),
        "claimed": count(base.where(Problem.state == "claimed")),
        "overdue": count(base.where(overdue_condition(now))),
        "reported": count(base.where(Problem.state == "reported")),
        "supervised": count(base.where(Problem.supervised.is_(True),
                                       Problem.state.in_(("triaged", "issued", "claimed", "reported")))),
        "followups": count(base.where(Problem.state == "closed", Problem.followup_done_at.is_(None),
                                      Problem.followup_due <= clock.local_date(now))),
    }


def headline_figures() -> dict:
    """The headline figures: sheets issued, units reached, property problems solved."""
    cids = community_ids()
    n_sheets = db.session.scalar(select(func.count()).select_from(
        sheets(select(AssignmentSheet.id).where(AssignmentSheet.state == "issued")).subquery())) or 0
    detail = detail_rows(cids)
    stmt = select(Organisation.kind, func.count(func.distinct(MonthStat.unit_id))).join(
        Organisation, Organisation.id == MonthStat.unit_id).where(MonthStat.assigned > 0, detail)
    pm_stmt = select(func.sum(MonthStat.closed)).join(Category, Category.id == MonthStat.category_id).where(
        Category.property_management.is_(True), detail)
    all_closed = select(func.sum(MonthStat.closed)).where(detail)
    units = dict(db.session.execute(stmt.group_by(Organisation.kind)).all())
    return {
        "sheets": n_sheets,
        "departments": units.get("department", 0),
        "property_companies": units.get("property_company", 0),
        "property_solved": int(db.session.scalar(pm_stmt) or 0),
        "closed": int(db.session.scalar(all_closed) or 0),
    }


def place_labels(problems) -> dict[int, str]:
    """"Estate building zone" for each problem, from one query for the whole page."""
    ids = set()
    for p in problems:
        ids.update(int(x) for x in p.node_path.strip("/").split("/")[2:] if x)
    names = dict(db.session.execute(select(GridNode.id, GridNode.name).where(GridNode.id.in_(ids))).all()) if ids else {}
    out = {}
    for p in problems:
        parts = [names.get(int(x), "") for x in p.node_path.strip("/").split("/")[2:] if x]
        out[p.id] = " ".join(x for x in parts if x) or (p.community.name if p.community_id and p.community else "")
    return out


# --- Analysis -------------------------------------------------------------------------------


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
