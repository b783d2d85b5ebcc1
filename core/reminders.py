"""The core's reminders: a B-post is told when the A-post's leave starts and
when it ends (run every morning for each community; de-duplicated by key, so
a second run on the same day, or a second consumer, sends nothing more)."""

from __future__ import annotations

from sqlalchemy import or_, select

from . import clock
from .extensions import db
from .i18n import N_
from .models import GridNode, GridPost, Leave
from .notify import notify

LEAVE_STARTS = N_("%(worker)s is on leave from %(start)s to %(end)s: you cover the grid %(grid)s as B-post.")
LEAVE_ENDS = N_("%(worker)s's leave ends today (%(end)s): your cover of the grid %(grid)s ends with it.")


def leave_cover_reminders(community_id: int) -> int:
    """Notify the B-posts of the community's grids whose A-post's leave starts
    (or is under way and was not told yet) or ends today. Returns the number sent."""
    today = clock.today()
    rows = db.session.execute(
        select(Leave, GridPost.id, GridPost.b_user_id, GridNode.id, GridNode.name)
        .join(GridPost, GridPost.a_user_id == Leave.user_id)
        .join(GridNode, GridNode.id == GridPost.node_id)
        .where(
            or_(GridNode.community_id == community_id, GridNode.id == community_id),
            GridPost.b_user_id.isnot(None),
            Leave.start_date <= today,
            Leave.end_date >= today,
        )
        .order_by(Leave.id, GridPost.id)
    ).all()
    sent = 0
    for leave, post_id, b_user_id, node_id, grid_name in rows:
        params = {"worker": leave.user.display_name, "start": leave.start_date.isoformat(),
                  "end": leave.end_date.isoformat(), "grid": grid_name}
        common = {"users": [b_user_id], "link": ("grid.node", {"node_id": node_id}), "about": leave}
        sent += notify("core.leave_cover", LEAVE_STARTS, params, key=f"leave:{leave.id}:post:{post_id}:start", **common)
        if leave.end_date == today:
            sent += notify("core.leave_cover", LEAVE_ENDS, params, key=f"leave:{leave.id}:post:{post_id}:end", **common)
    return sent
