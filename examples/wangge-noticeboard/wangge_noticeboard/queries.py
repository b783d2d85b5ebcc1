"""The read side: every list, count and figure goes through core.access, so it
shows only what the reader may see, in communities where the board is on."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from core import access, clock
from core.extensions import db
from core.models import GridNode

from .models import Notice


def board_stmt(community=access.CURRENT):
    """The notices on the board, newest first: not expired, in the reader's
    scope (and above it), in the community chosen in the header (if any)."""
    stmt = select(Notice).where(or_(Notice.expires_on.is_(None), Notice.expires_on >= clock.today()))
    stmt = access.scoped(stmt, Notice, community=community)
    return stmt.order_by(Notice.created_at.desc(), Notice.id.desc())


def for_node(node: GridNode, limit: int = 20) -> list[Notice]:
    """The notices shown on a node's page: those on the node and on the nodes above it."""
    stmt = access.scoped(select(Notice).where(Notice.node_id.in_(node.ancestor_ids())), Notice, community=None)
    return list(db.session.scalars(stmt.order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit)))


def count_on_nodes(node_ids) -> int:
    """Notices held by these nodes (the core refuses to delete a node that holds any).
    Not scoped: the count is for the tree's integrity, whoever asks."""
    return db.session.scalar(select(func.count()).select_from(Notice).where(Notice.node_id.in_(list(node_ids)))) or 0


def counts_by_node() -> list[tuple[str, int]]:
    """For the command line (no signed-in user): every node's count, whole database."""
    stmt = (
        select(GridNode.name, func.count(Notice.id))
        .join(Notice, Notice.node_id == GridNode.id)
        .group_by(GridNode.id, GridNode.name)
        .order_by(GridNode.name)
    )
    return [(name, n) for name, n in db.session.execute(stmt)]
