"""Staffing rules: who holds which grid, A/B cover during leave.

Plain functions over the database session; no Flask request in here, so the
CLI, the views and the tests all use the same rules.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, exists, or_, select

from .extensions import db
from .models import GridNode, GridPost, Leave, User


class StaffingError(ValueError):
    """A staffing change that the rules refuse; str() is the user's message."""


def on_leave_condition(user_id_column, day: dt.date):
    return exists().where(
        Leave.user_id == user_id_column, Leave.start_date <= day, Leave.end_date >= day
    )


def is_on_leave(user_id: int, day: dt.date) -> bool:
    return db.session.scalar(select(on_leave_condition(user_id, day))) or False


def covered_paths(user_id: int, day: dt.date) -> list[str]:
    """Paths of the grids a worker is responsible for on `day`: their A posts,
    and the grids where they are B-post while the A-post worker is on leave."""
    stmt = (
        select(GridNode.path)
        .join(GridPost, GridPost.node_id == GridNode.id)
        .where(
            or_(
                GridPost.a_user_id == user_id,
                and_(
                    GridPost.b_user_id == user_id,
                    on_leave_condition(GridPost.a_user_id, day),
                ),
            )
        )
    )
    return list(db.session.scalars(stmt))


def covering_worker(post: GridPost, day: dt.date) -> User | None:
    """Who answers for this grid on `day`: A, or B while A is away, or nobody."""
    if post.a_user_id and not is_on_leave(post.a_user_id, day):
        return post.a_user
    if post.b_user_id and not is_on_leave(post.b_user_id, day):
        return post.b_user
    return None


def responsible_worker_for_node(node: GridNode, day: dt.date) -> User | None:
    """The worker to route something about `node` to: the covering worker of
    the nearest staffed grid at or above it."""
    ids = node.ancestor_ids()
    posts = {
        p.node_id: p
        for p in db.session.scalars(select(GridPost).where(GridPost.node_id.in_(ids)))
    }
    for node_id in reversed(ids):
        post = posts.get(node_id)
        if post is not None:
            worker = covering_worker(post, day)
            if worker is not None:
                return worker
    return None


def validate_leave(user_id: int, start: dt.date, end: dt.date, exclude_id: int | None = None):
    """Raise StaffingError when the leave is backwards or overlaps another."""
    from flask_babel import gettext as _

    if end < start:
        raise StaffingError(_("The leave ends before it starts."))
    stmt = select(Leave).where(
        Leave.user_id == user_id, Leave.start_date <= end, Leave.end_date >= start
    )
    if exclude_id is not None:
        stmt = stmt.where(Leave.id != exclude_id)
    clash = db.session.scalars(stmt).first()
    if clash is not None:
        raise StaffingError(
            _(
                "This leave overlaps another leave of the same worker (%(start)s to %(end)s).",
                start=clash.start_date.isoformat(),
                end=clash.end_date.isoformat(),
            )
        )
