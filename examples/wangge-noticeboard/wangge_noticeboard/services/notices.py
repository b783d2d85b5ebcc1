"""Posting and taking down notices."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from core import clock
from core.extensions import db
from core.forms import DomainError
from core.models import GridNode

from ..models import Notice

WELCOME_TITLE = "欢迎使用社区公告栏"
WELCOME_BODY = "社区的通知、活动和值班安排都会张贴在这里。"


class NoticeError(DomainError):
    """A notice rule refused the input (shown next to `field`)."""


def post_notice(node: GridNode, title: str, body: str, author_id: int | None,
                expires_on: dt.date | None = None) -> Notice:
    """Post a notice on `node`. The caller has checked the node (access.require_node)."""
    if expires_on is not None and expires_on < clock.today():
        raise NoticeError(_("The last day cannot be in the past."), field="expires_on")
    if not title.strip():
        raise NoticeError(_("A notice needs a title."), field="title")
    notice = Notice(node_id=node.id, title=title.strip(), body=body.strip(), author_id=author_id,
                    expires_on=expires_on)
    db.session.add(notice)
    db.session.flush()
    return notice


def take_down(notice: Notice) -> None:
    db.session.delete(notice)
    db.session.flush()


def post_welcome_notices() -> int:
    """Demo data: one welcome notice on every community that has none."""
    have = select(Notice.node_id)
    communities = db.session.scalars(
        select(GridNode).where(GridNode.level == "community", GridNode.id.not_in(have)).order_by(GridNode.id)
    ).all()
    for community in communities:
        post_notice(community, WELCOME_TITLE, WELCOME_BODY, None)
    return len(communities)
