"""What of the module still holds grid nodes (deleting such a node is refused)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from core.extensions import db

from ..models import Commitment, Need, Order, Registration, Resource, ServicePost, post_grid


def holders(node_ids) -> list:
    ids = list(node_ids)

    def count(stmt):
        return db.session.scalar(stmt) or 0

    out = []
    n = count(select(func.count()).select_from(Registration).where(
        or_(Registration.community_id.in_(ids), Registration.home_node_id.in_(ids))))
    if n:
        out.append((_l("members' registrations"), n))
    n = count(select(func.count()).select_from(ServicePost).where(ServicePost.node_id.in_(ids)))
    n += count(select(func.count()).select_from(post_grid).where(post_grid.c.node_id.in_(ids)))
    if n:
        out.append((_l("service posts"), n))
    n = count(select(func.count()).select_from(Order).where(Order.node_id.in_(ids)))
    if n:
        out.append((_l("volunteer orders"), n))
    n = count(select(func.count()).select_from(Commitment).where(Commitment.community_id.in_(ids)))
    if n:
        out.append((_l("public commitments"), n))
    n = count(select(func.count()).select_from(Resource).where(Resource.node_id.in_(ids)))
    n += count(select(func.count()).select_from(Need).where(Need.node_id.in_(ids)))
    if n:
        out.append((_l("resources and needs"), n))
    return out
