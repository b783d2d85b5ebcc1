"""Weekly visit-quota compliance: who met their quota, per worker and per community."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select

from core import access
from core.extensions import db
from core.models import GridNode, GridPost, RoleGrant, User, subtree

from ..models import (
    AffairsSetting,
    Visit,
)
from .totals import _ancestor_ids


def workers_under(path: str):
    """Grid workers holding a post or a grid-worker role in the subtree at `path`."""
    posted = (
        select(GridPost.a_user_id.label("uid"))
        .join(GridNode, GridNode.id == GridPost.node_id)
        .where(subtree(GridNode.path, path), GridPost.a_user_id.isnot(None))
    )
    granted = (
        select(RoleGrant.user_id.label("uid"))
        .join(GridNode, GridNode.id == RoleGrant.node_id)
        .where(subtree(GridNode.path, path), RoleGrant.role == "grid_worker")
    )
    return posted.union(granted)


def works_under(user_id: int, paths: list[str]) -> bool:
    for p in paths:
        sub = workers_under(p).subquery()
        if db.session.scalar(select(sub.c.uid).where(sub.c.uid == user_id).limit(1)) is not None:
            return True
    return False


@dataclass
class WorkerWeek:
    user: User
    visits: int
    covering: int
    quota: int

    @property
    def met(self) -> bool:
        return self.visits >= self.quota


def compliance(node: GridNode, year: int, week: int, quota: int) -> list[WorkerWeek]:
    """Each grid worker under `node` with the visits credited to them in the ISO week."""
    ids = workers_under(node.path).subquery()
    counts = (
        select(
            Visit.worker_id,
            func.count().label("n"),
            func.count(Visit.covering_for_id).label("cover"),
        )
        # Only these workers' visits (ix_affairs_visit_worker_week), not the district's week.
        .where(Visit.worker_id.in_(select(ids.c.uid)), Visit.iso_year == year, Visit.iso_week == week)
        .group_by(Visit.worker_id)
        .subquery()
    )
    rows = db.session.execute(
        select(User, func.coalesce(counts.c.n, 0), func.coalesce(counts.c.cover, 0))
        .where(User.id.in_(select(ids.c.uid)), User.active.is_(True))
        .outerjoin(counts, counts.c.worker_id == User.id)
        .order_by(func.coalesce(counts.c.n, 0), User.display_name, User.id)
    ).all()
    return [WorkerWeek(u, n, c, quota) for u, n, c in rows]


def community_quotas() -> tuple[int, dict[int, int]]:
    """(district quota, {community id: its own quota})."""
    rows = db.session.execute(select(AffairsSetting.node_id, AffairsSetting.weekly_quota)).all()
    default = next((q for n, q in rows if n is None), 3)
    return default, {n: q for n, q in rows if n is not None}


def compliance_by_community(district_path: str, year: int, week: int, offset: int = 0, limit: int | None = None):
    """Per community (one page of them: offset, limit): (community, grid workers,
    how many met their quota, visits), the page's communities first, then one
    grouped query over their workers' visits of the week only."""
    default, own = community_quotas()
    # The district's children, along ix_grid_node_parent_sort (not a scan of its subtree).
    comms_stmt = (
        select(GridNode).where(GridNode.parent_id == _ancestor_ids(district_path)[-1], GridNode.level == "community",
                               access.module_condition("affairs", GridNode.id))
        .order_by(GridNode.sort_order, GridNode.id)
    )
    if limit is not None:
        comms_stmt = comms_stmt.offset(offset).limit(limit)
    comms = list(db.session.scalars(comms_stmt))
    if not comms:
        return []
    workers = (
        select(GridNode.community_id.label("cid"), GridPost.a_user_id.label("uid"))
        .join(GridPost, GridPost.node_id == GridNode.id)
        .where(GridNode.community_id.in_([c.id for c in comms]), GridPost.a_user_id.isnot(None))
        .distinct()
        .subquery()
    )
    counts = (
        select(Visit.worker_id, func.count().label("n"))
        .where(Visit.worker_id.in_(select(workers.c.uid)), Visit.iso_year == year, Visit.iso_week == week)
        .group_by(Visit.worker_id)
        .subquery()
    )
    n = func.coalesce(counts.c.n, 0)
    quota = case(own, value=workers.c.cid, else_=default) if own else default
    rows = db.session.execute(
        select(
            workers.c.cid,
            func.count(workers.c.uid),
            func.sum(case((n >= quota, 1), else_=0)),
            func.sum(n),
        )
        .outerjoin(counts, counts.c.worker_id == workers.c.uid)
        .group_by(workers.c.cid)
    ).all()
    by_id = {cid: (w, met or 0, visits or 0) for cid, w, met, visits in rows}
    return [(c, *by_id.get(c.id, (0, 0, 0)), own.get(c.id, default)) for c in comms]


def worker_history(worker_id: int, weeks: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    years = {y for y, _w in weeks}
    rows = db.session.execute(
        select(Visit.iso_year, Visit.iso_week, func.count())
        .where(Visit.worker_id == worker_id, Visit.iso_year.in_(years))
        .group_by(Visit.iso_year, Visit.iso_week)
    ).all()
    have = {(y, w): n for y, w, n in rows}
    return {k: have.get(k, 0) for k in weeks}


def communities_on(district_id: int) -> int:
    """How many of the district's communities have the module on (core.access)."""
    return db.session.scalar(
        select(func.count()).select_from(GridNode).where(
            GridNode.parent_id == district_id, GridNode.level == "community",
            access.module_condition("affairs", GridNode.id))
    ) or 0
