"""Service posts: a community's catalogue and the district's templates."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from core import audit
from core.extensions import db
from core.models import GridNode, User

from ..models import CATEGORIES, ServicePost, split_words
from . import OrdersError


def save_post(post: ServicePost | None, node: GridNode, *, name: str, description: str, skills: str,
              category: str, grids: list[GridNode], by: User) -> ServicePost:
    """Create (post=None) or edit a post of a community, or a template on the district node."""
    name = (name or "").strip()
    if not name:
        raise OrdersError(_("Give the post a name."), "name")
    if category not in CATEGORIES:
        raise OrdersError(_("Choose a category."), "category")
    community_id = None if node.level == "district" else (node.id if node.level == "community" else node.community_id)
    for g in grids:
        if community_id is None or (g.id != community_id and g.community_id != community_id):
            raise OrdersError(_("A post serves grids of its own community."), "grids")
    clash = db.session.scalar(select(ServicePost.id).where(ServicePost.node_id == node.id,
                                                           ServicePost.name == name))
    if clash is not None and (post is None or clash != post.id):
        raise OrdersError(_("There is already a post with this name."), "name")
    if post is None:
        post = ServicePost(node_id=node.id, is_template=node.level == "district")
        db.session.add(post)
    post.name = name
    post.description = (description or "").strip()
    post.skills = ", ".join(split_words(skills))
    post.category = category
    post.grids = list(grids)
    db.session.flush()
    audit.record("orders.post_save", post, summary=name, community_id=community_id)
    return post


def adopt(template: ServicePost, community: GridNode, by: User) -> ServicePost:
    """A community adopts a district template: a post of its own, linked to it."""
    if not template.is_template:
        raise OrdersError(_("Only a district template can be adopted."))
    clash = db.session.scalar(select(ServicePost).where(ServicePost.node_id == community.id,
                                                        ServicePost.name == template.name))
    if clash is not None:
        raise OrdersError(_("This community already has a post named %(name)s.", name=template.name))
    post = ServicePost(node_id=community.id, is_template=False, template_id=template.id, name=template.name,
                       description=template.description, skills=template.skills, category=template.category)
    db.session.add(post)
    db.session.flush()
    audit.record("orders.post_adopt", post, summary=template.name, community_id=community.id)
    return post
