"""Orders: place, take (exact capacity under concurrency), withdraw before the
cut-off, assign directly, cancel; the completion report and its acceptance."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from core import audit, clock
from core.extensions import db
from core.models import GridNode, User, utcnow

from ..models import Commitment, Order, ServicePost, Take, split_words
from . import OrdersError

# Members may withdraw until this many hours before the order starts.
WITHDRAW_HOURS = 24
MAX_PLACES = 500


class OrderFull(OrdersError):
    """Every place of the order is taken (or taking has closed)."""


def place(post: ServicePost, node: GridNode, *, title: str, description: str, starts_at: dt.datetime,
          hours: float, deadline: dt.datetime, needed: int, skills: str, by: User,
          source: str = "community", source_ref: str = "", need_id: int | None = None) -> Order:
    """Place an order on a post of the node's community. `starts_at` and
    `deadline` are stored instants (naive UTC)."""
    community_id = node.id if node.level == "community" else node.community_id
    if post.is_template or post.node_id != community_id:
        raise OrdersError(_("Choose a service post of this community."), "post_id")
    if not (title or "").strip():
        raise OrdersError(_("Say what is to be done."), "title")
    if needed is None or not 1 <= needed <= MAX_PLACES:
        raise OrdersError(_("Between 1 and %(n)s members.", n=MAX_PLACES), "needed")
    if hours is None or not 0 < hours <= 24:
        raise OrdersError(_("Hours must be more than 0 and at most 24."), "hours")
    now = utcnow()
    if starts_at <= now:
        raise OrdersError(_("The order must start in the future."), "starts_at")
    if deadline > starts_at:
        raise OrdersError(_("Taking must close before the order starts."), "deadline")
    if deadline <= now:
        raise OrdersError(_("The deadline must be in the future."), "deadline")
    order = Order(post_id=post.id, node_id=node.id, community_id=community_id, title=title.strip(),
                  description=(description or "").strip(), starts_at=starts_at, hours=hours,
                  deadline=deadline, needed=needed, taken=0, state="open",
                  skills=", ".join(split_words(skills or post.skills)), source=source,
                  source_ref=source_ref or "", need_id=need_id, created_by_id=by.id)
    db.session.add(order)
    db.session.flush()
    audit.record("orders.place", order, summary=order.title, community_id=community_id)
    return order


def _claim_place(order_id: int) -> bool:
    """One conditional UPDATE: a place is claimed only while one is left,
    the order is open and taking has not closed. The database serialises
    concurrent updates of the row, so the count can never pass `needed`."""
    res = db.session.execute(
        update(Order)
        .where(Order.id == order_id, Order.state == "open", Order.taken < Order.needed,
               Order.deadline > utcnow())
        .values(taken=Order.taken + 1)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1


def take(order_id: int, member: User, *, assigned_by: User | None = None) -> Take:
    """Take a place on an order (or, with `assigned_by`, assign the member).

    The place and the member's row go in the same transaction, which this
    function commits: the conditional UPDATE keeps the count exact, the
    unique (order, member) constraint refuses a second take by the same member.
    """
    if not _claim_place(order_id):
        db.session.rollback()
        order = db.session.get(Order, order_id)
        if order is not None and order.state == "open" and order.deadline <= utcnow():
            raise OrderFull(_("Taking this order has closed."))
        raise OrderFull(_("This order is full: every place has been taken."))
    row = Take(order_id=order_id, member_id=member.id, state="taken",
               assigned_by_id=assigned_by.id if assigned_by else None)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise OrdersError(_("%(name)s has already taken this order.", name=member.display_name)) from None
    order = db.session.get(Order, order_id)
    audit.record("orders.assign" if assigned_by else "orders.take", row,
                 summary=f"{member.display_name}: {order.title}", community_id=order.community_id)
    db.session.commit()
    return row


def withdraw_deadline(order: Order) -> dt.datetime:
    return order.starts_at - dt.timedelta(hours=WITHDRAW_HOURS)


def withdraw(row: Take, member: User) -> None:
    """A member gives their place back, until WITHDRAW_HOURS before the start."""
    order = row.order
    if row.member_id != member.id:
        raise OrdersError(_("Only the member who took the order can withdraw."))
    if row.state != "taken":
        raise OrdersError(_("A reported order cannot be withdrawn."))
    if utcnow() >= withdraw_deadline(order):
        raise OrdersError(_("Withdrawing closed %(h)s hours before the start; ask the community.",
                            h=WITHDRAW_HOURS))
    db.session.execute(delete(Take).where(Take.id == row.id))
    db.session.execute(
        update(Order).where(Order.id == order.id, Order.taken > 0)
        .values(taken=Order.taken - 1)
        .execution_options(synchronize_session=False)
    )
    audit.record("orders.withdraw", order, summary=member.display_name, community_id=order.community_id)
    db.session.commit()


def cancel(order: Order, by: User) -> None:
    if order.state != "open":
        raise OrdersError(_("Only an open order can be cancelled."))
    order.state = "cancelled"
    audit.record("orders.cancel", order, summary=order.title, community_id=order.community_id)


def report(row: Take, member: User, *, text: str, hours: float | None, photo: str | None) -> Take:
    """The member reports completion: what was done, hours, a photo or a note."""
    if row.member_id != member.id:
        raise OrdersError(_("Only the member who took the order can report it."))
    if row.state not in ("taken", "returned"):
        raise OrdersError(_("This completion has already been reported."))
    if row.order.starts_at > utcnow():
        raise OrdersError(_("Report after the service: the order has not started yet."), "text")
    if not (text or "").strip() and not photo:
        raise OrdersError(_("Say what was done, or add a photo."), "text")
    if hours is None or not 0 < hours <= 24:
        raise OrdersError(_("Hours must be more than 0 and at most 24."), "hours")
    row.report_text = (text or "").strip()
    row.report_hours = hours
    if photo:
        row.photo = photo
    row.state = "reported"
    row.reported_at = utcnow()
    row.return_reason = ""
    audit.record("orders.report", row, summary=row.report_text[:100], community_id=row.order.community_id)
    return row


def accept(row: Take, by: User) -> Take:
    """The community accepts the report: the service record exists from now on,
    and the member's open commitment on the order's post is done."""
    if row.state != "reported":
        raise OrdersError(_("Only a reported completion can be accepted."))
    row.state = "accepted"
    row.decided_at = utcnow()
    row.decided_by_id = by.id
    order = row.order
    commitment = db.session.scalar(
        select(Commitment).where(Commitment.member_id == row.member_id,
                                 Commitment.community_id == order.community_id,
                                 Commitment.post_id == order.post_id,
                                 Commitment.done_at.is_(None)).order_by(Commitment.deadline).limit(1)
    )
    if commitment is not None:
        commitment.done_at = row.decided_at
    audit.record("orders.accept", row, summary=row.member.display_name, community_id=order.community_id)
    return row


def return_report(row: Take, by: User, reason: str) -> Take:
    reason = (reason or "").strip()
    if not reason:
        raise OrdersError(_("Say why the report is returned."), "reason")
    if row.state != "reported":
        raise OrdersError(_("Only a reported completion can be returned."))
    row.state = "returned"
    row.return_reason = reason[:255]
    row.decided_at = utcnow()
    row.decided_by_id = by.id
    audit.record("orders.return", row, summary=reason, community_id=row.order.community_id)
    return row


def display_state(order: Order, now: dt.datetime | None = None) -> str:
    """open | full | closed_for_taking | under_way | cancelled | closed"""
    now = now or utcnow()
    if order.state != "open":
        return order.state
    if order.starts_at <= now:
        return "under_way"
    if order.taken >= order.needed:
        return "full"
    if order.deadline <= now:
        return "taking_closed"
    return "open"


def close(order: Order, by: User) -> None:
    if order.state != "open" or order.starts_at > utcnow():
        raise OrdersError(_("An order can be closed once it has started."))
    order.state = "closed"
    audit.record("orders.close", order, summary=order.title, community_id=order.community_id)


def local_start(order: Order) -> dt.date:
    return clock.local_date(order.starts_at)
