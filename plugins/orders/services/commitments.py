"""Public commitments (承诺) and the public board."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from core import audit, clock
from core.extensions import db
from core.models import GridNode, User, utcnow

from ..models import Commitment, ServicePost
from . import OrdersError


def commit_to(member: User, community: GridNode, *, text: str, items: str, deadline: dt.date,
              post: ServicePost | None) -> Commitment:
    text, items = (text or "").strip(), (items or "").strip()
    if not text:
        raise OrdersError(_("State your commitment."), "text")
    if not items:
        raise OrdersError(_("Name the service items."), "items")
    if deadline is None or deadline < clock.today():
        raise OrdersError(_("The completion deadline cannot be in the past."), "deadline")
    if post is not None and post.node_id != community.id:
        raise OrdersError(_("Choose a service post of this community."), "post_id")
    c = Commitment(community_id=community.id, member_id=member.id, post_id=post.id if post else None,
                   text=text[:255], items=items[:255], deadline=deadline)
    db.session.add(c)
    db.session.flush()
    audit.record("orders.commit", c, summary=text[:100], community_id=community.id)
    return c


def mark_done(c: Commitment, by: User) -> None:
    if c.done_at is not None:
        raise OrdersError(_("This commitment is already done."))
    c.done_at = utcnow()
    audit.record("orders.commitment_done", c, summary=c.text[:100], community_id=c.community_id)


def state_of(c: Commitment, today: dt.date | None = None) -> str:
    """done | overdue | in_progress"""
    if c.done_at is not None:
        return "done"
    return "overdue" if c.deadline < (today or clock.today()) else "in_progress"


# --- The public link: a signed token per community, no login -----------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="orders-public-board")


def board_token(community_id: int) -> str:
    return _serializer().dumps(community_id)


def check_token(community_id: int, token: str) -> bool:
    try:
        return _serializer().loads(token) == community_id
    except BadSignature:
        return False
