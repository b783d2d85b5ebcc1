"""Staffing of the grid: A/B posts, who covers which grid on a day, leave.

Plain functions over the session (no Flask request), used by the pages,
the CLI and the reminders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, exists, or_, select

from ..extensions import db
from ..models import (
    GridNode,
    GridPost,
    Leave,
    RoleGrant,
    User,
    subtree,
)
from ..staffing import StaffingError, validate_leave

# --- staffing ------------------------------------------------------------------


@dataclass
class Coverage:
    """Who answers for one grid today."""

    post: GridPost
    a_leave: Leave | None
    b_leave: Leave | None

    @property
    def node(self) -> GridNode:
        return self.post.node

    @property
    def covering(self) -> User | None:
        if self.post.a_user_id and self.a_leave is None:
            return self.post.a_user
        if self.post.b_user_id and self.b_leave is None:
            return self.post.b_user
        return None

    @property
    def state(self) -> str:
        """'a' (A present), 'b' (B covering for A), 'nobody'."""
        if self.post.a_user_id and self.a_leave is None:
            return "a"
        if self.post.b_user_id and self.b_leave is None:
            return "b"
        return "nobody"


def leaves_on(user_ids, day: dt.date) -> dict[int, Leave]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Leave).where(Leave.user_id.in_(ids), Leave.start_date <= day, Leave.end_date >= day)
    )
    return {lv.user_id: lv for lv in rows}


def coverage(posts: list[GridPost], day: dt.date) -> list[Coverage]:
    """Coverage of each post on `day` (one query for all the leave)."""
    away = leaves_on([u for p in posts for u in (p.a_user_id, p.b_user_id)], day)
    return [Coverage(p, away.get(p.a_user_id), away.get(p.b_user_id)) for p in posts]


def posts_stmt(community: GridNode):
    return (
        select(GridPost)
        .join(GridNode, GridNode.id == GridPost.node_id)
        .where(subtree(GridNode.path, community.path))
        .order_by(GridNode.depth, GridNode.sort_order, GridNode.id)
    )


def community_coverage(community: GridNode, day: dt.date, limit: int = 500) -> list[Coverage]:
    return coverage(list(db.session.scalars(posts_stmt(community).limit(limit))), day)


def uncovered(community: GridNode, day: dt.date) -> list[Coverage]:
    """Grids of the community where nobody is present today (no worker, or A and B both away)."""
    return [c for c in community_coverage(community, day) if c.state == "nobody"]


def _community_of(node: GridNode) -> int | None:
    return node.id if node.level == "community" else node.community_id


def post_for(node: GridNode) -> GridPost | None:
    return db.session.scalar(select(GridPost).where(GridPost.node_id == node.id))


def set_post(node: GridNode, a_user_id: int | None, b_user_id: int | None) -> GridPost:
    """Assign the A-post worker of a grid and their B-post backup.

    The B-post must be a different worker holding the A post of another grid
    of the same level in the same community (the neighbouring grid).
    """
    if node.level == "district":
        raise StaffingError(_("Grid workers are assigned to communities, estates, buildings or zones, not the district."))
    if b_user_id and not a_user_id:
        raise StaffingError(_("Assign the A-post worker first."))
    if a_user_id and a_user_id == b_user_id:
        raise StaffingError(_("The A-post and B-post must be two different workers."))
    for uid in (a_user_id, b_user_id):
        if uid and db.session.get(User, uid) is None:
            raise StaffingError(_("There is no such worker."))
    if b_user_id:
        cid = _community_of(node)
        their = db.session.execute(
            select(GridNode)
            .join(GridPost, GridPost.node_id == GridNode.id)
            .where(GridPost.a_user_id == b_user_id, GridNode.id != node.id)
        ).scalars().all()
        if not their:
            raise StaffingError(_("The B-post must be the A-post worker of a neighbouring grid."))
        same = [n for n in their if _community_of(n) == cid]
        if not same:
            other = db.session.get(GridNode, _community_of(their[0]))
            raise StaffingError(
                _(
                    "A and B posts must be in the same community: this worker's grid is in %(other)s.",
                    other=other.name if other else "?",
                )
            )
        if not any(n.level == node.level for n in same):
            raise StaffingError(_("The B-post must be the A-post worker of a neighbouring grid of the same level."))
    post = post_for(node)
    if post is None:
        post = GridPost(node_id=node.id)
        db.session.add(post)
    post.a_user_id = a_user_id or None
    post.b_user_id = b_user_id or None
    db.session.flush()
    return post


def worker_candidates(community: GridNode) -> list[User]:
    """Grid workers of a community: holding the grid-worker role in its
    subtree, or a post in it."""
    granted = (
        select(RoleGrant.user_id)
        .join(GridNode, GridNode.id == RoleGrant.node_id)
        .where(RoleGrant.role == "grid_worker", subtree(GridNode.path, community.path))
    )
    posted = (
        select(GridPost.a_user_id)
        .join(GridNode, GridNode.id == GridPost.node_id)
        .where(subtree(GridNode.path, community.path), GridPost.a_user_id.isnot(None))
    )
    return list(
        db.session.scalars(
            select(User).where(User.active, or_(User.id.in_(granted), User.id.in_(posted))).order_by(User.display_name).limit(500)
        )
    )


def add_leave(user_id: int, start: dt.date, end: dt.date, reason: str, created_by_id: int | None) -> Leave:
    if not (reason or "").strip():
        raise StaffingError(_("Give a reason for the leave."))
    validate_leave(user_id, start, end)
    leave = Leave(user_id=user_id, start_date=start, end_date=end, reason=reason.strip(), created_by_id=created_by_id)
    db.session.add(leave)
    db.session.flush()
    return leave


def workers_condition(scope_condition):
    """SQL condition on User.id: the user holds a post or a grid-worker role in scope."""
    return or_(
        exists().where(
            GridPost.node_id == GridNode.id,
            or_(GridPost.a_user_id == User.id, GridPost.b_user_id == User.id),
            scope_condition,
        ),
        exists().where(
            and_(RoleGrant.user_id == User.id, RoleGrant.role == "grid_worker", RoleGrant.node_id == GridNode.id),
            scope_condition,
        ),
    )
