"""Reminders through the core's notifications, run every hour for each
community where orders is on (core.jobs' periodic tasks). Each reminder has a
key, so a second run — or a second consumer — sends nothing more.

- before the date: every member on an order that starts within REMIND_HOURS;
- when taking closes with places left: the community's admins;
- when a public commitment's deadline passes undone: the member.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import clock
from core.extensions import db
from core.i18n import N_
from core.models import utcnow
from core.notify import notify

from .models import Commitment, Order, Take

REMIND_HOURS = 24

STARTS_SOON = N_("Your volunteer order “%(title)s” starts at %(start)s.")
UNDERFILLED = N_("Taking closed for the order “%(title)s” with %(left)s of %(needed)s places still open: "
                 "assign members directly or change the order.")
COMMITMENT_OVERDUE = N_("Your public commitment “%(text)s” passed its deadline (%(deadline)s) undone.")


def orders_starting_soon(community_id: int, now: dt.datetime | None = None):
    """(order, member id) pairs: members on open orders that start within REMIND_HOURS."""
    now = now or utcnow()
    return db.session.execute(
        select(Order, Take.member_id).join(Take, Take.order_id == Order.id)
        .where(Order.community_id == community_id, Order.state == "open", Order.starts_at > now,
               Order.starts_at <= now + dt.timedelta(hours=REMIND_HOURS))
        .order_by(Order.id, Take.member_id)
    ).all()


def orders_underfilled(community_id: int, now: dt.datetime | None = None) -> list[Order]:
    """Open orders whose taking closed with places left, that have not started."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Order).where(Order.community_id == community_id, Order.state == "open", Order.deadline <= now,
                            Order.starts_at > now, Order.taken < Order.needed).order_by(Order.id)
    ))


def commitments_overdue(community_id: int, today: dt.date | None = None) -> list[Commitment]:
    today = today or clock.today()
    return list(db.session.scalars(
        select(Commitment).where(Commitment.community_id == community_id, Commitment.done_at.is_(None),
                                 Commitment.deadline < today).order_by(Commitment.id)
    ))


def _when(instant: dt.datetime) -> str:
    return clock.local(instant).strftime("%Y-%m-%d %H:%M")


def send_reminders(community_id: int) -> int:
    sent = 0
    for order, member_id in orders_starting_soon(community_id):
        sent += notify("orders.reminder", STARTS_SOON, {"title": order.title, "start": _when(order.starts_at)},
                       users=[member_id], link=("orders.order", {"order_id": order.id}), about=order,
                       key=f"order:{order.id}:member:{member_id}:before")
    for order in orders_underfilled(community_id):
        sent += notify("orders.underfilled", UNDERFILLED,
                       {"title": order.title, "left": order.needed - order.taken, "needed": order.needed},
                       role="community_admin", node=order.community_id,
                       link=("orders.order", {"order_id": order.id}), about=order, key=f"order:{order.id}:deadline")
    for c in commitments_overdue(community_id):
        sent += notify("orders.commitment_overdue", COMMITMENT_OVERDUE,
                       {"text": c.text, "deadline": c.deadline.isoformat()}, users=[c.member_id],
                       link=("orders.me", {}), about=c, key=f"commitment:{c.id}:overdue")
    db.session.commit()
    return sent
