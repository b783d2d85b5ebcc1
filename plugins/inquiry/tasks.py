"""Periodic work of Square Inquiry (run by core.jobs consumers).

Every morning, for each community where the module is on, the handlers of the
unit that holds a running problem are told: a yellow warning when it is due
by the end of the next working day, a red one when its deadline has passed.
Each warning is sent once per problem and deadline (an extended deadline
warns again).
"""

from __future__ import annotations

from sqlalchemy import select

from core import clock
from core.extensions import db
from core.i18n import N_
from core.models import User
from core.notify import notify

from .services import deadline_warnings

NEAR = "inquiry.deadline_near"
OVERDUE = "inquiry.overdue"


def deadline_reminders(community_id: int | None) -> int:
    """Send the day's deadline warnings of one community; returns how many were created."""
    warnings = deadline_warnings(community_id, clock.today())
    units = {w.unit_id for w in warnings if w.unit_id}
    handlers: dict[int, list[int]] = {}
    if units:
        for uid, org in db.session.execute(
            select(User.id, User.organisation_id).where(User.organisation_id.in_(units), User.active.is_(True))
        ):
            handlers.setdefault(org, []).append(uid)
    sent = 0
    for w in warnings:
        users = handlers.get(w.unit_id, [])
        if not users:
            continue
        if w.level == "red":
            kind, message = OVERDUE, N_("Problem %(ref)s is past its deadline (%(due)s).")
        else:
            kind, message = NEAR, N_("Problem %(ref)s is due on %(due)s.")
        sent += notify(kind, message, {"ref": w.ref, "due": w.due.isoformat()}, users=users,
                       link=("inquiry.problem", {"problem_id": w.problem_id}),
                       key=f"{w.level}:{w.problem_id}:{w.due.isoformat()}")
    return sent
