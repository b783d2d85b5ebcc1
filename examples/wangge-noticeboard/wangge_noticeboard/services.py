"""The notice board's rules: plain functions over the session, no request."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from core.extensions import db
from core.models import GridNode, subtree

from .models import Notice

WELCOME_TITLE = "欢迎使用社区公告栏"
WELCOME_BODY = "社区的通知、活动和值班安排都会张贴在这里。"


def post_notice(node: GridNode, title: str, body: str, author_id: int | None) -> Notice:
    notice = Notice(node_id=node.id, title=title.strip(), body=body.strip(), author_id=author_id)
    db.session.add(notice)
    db.session.flush()
    return notice


def visible_stmt(scope_paths: list[str], community_id: int | None = None):
    """Notices a user with these scope roots can read, newest first.

    A notice on a node is for everyone beneath it, so a user reads the
    notices inside their subtrees and those posted on the nodes above them.
    With `community_id`, only that community's notices (and the district's).
    """
    if not scope_paths:
        return select(Notice).where(Notice.id.is_(None))
    above = {int(i) for p in scope_paths for i in p.strip("/").split("/") if i}
    cond = or_(Notice.node_id.in_(above), *[subtree(GridNode.path, p) for p in scope_paths])
    stmt = select(Notice).join(GridNode, GridNode.id == Notice.node_id).where(cond)
    if community_id is not None:
        stmt = stmt.where(or_(GridNode.community_id == community_id, GridNode.level == "district"))
    return stmt.order_by(Notice.created_at.desc(), Notice.id.desc())


def for_node(node: GridNode, limit: int = 20) -> list[Notice]:
    """The notices shown on a node's page: those on the node and on the nodes above it."""
    stmt = (
        select(Notice)
        .where(Notice.node_id.in_(node.ancestor_ids()))
        .order_by(Notice.created_at.desc(), Notice.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def count_on_nodes(node_ids) -> int:
    return db.session.scalar(select(func.count()).select_from(Notice).where(Notice.node_id.in_(list(node_ids)))) or 0


def counts_by_node() -> list[tuple[str, int]]:
    stmt = (
        select(GridNode.name, func.count(Notice.id))
        .join(Notice, Notice.node_id == GridNode.id)
        .group_by(GridNode.id, GridNode.name)
        .order_by(GridNode.name)
    )
    return [(name, n) for name, n in db.session.execute(stmt)]


def post_welcome_notices() -> int:
    """Demo data: one welcome notice on every community that has none."""
    have = select(Notice.node_id)
    communities = db.session.scalars(
        select(GridNode).where(GridNode.level == "community", GridNode.id.not_in(have))
    ).all()
    for community in communities:
        post_notice(community, WELCOME_TITLE, WELCOME_BODY, None)
    return len(communities)
