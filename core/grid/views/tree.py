"""The tree: browse, search, node pages."""

from __future__ import annotations

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ... import security
from ...extensions import db
from ...models import (
    LEVELS,
    CommitteeMember,
    GridNode,
)
from ...security import (
    can,
    requires,
    scope_filter,
    scope_paths,
)
from ...staffing import responsible_worker_for_node
from ...web import is_fragment_request, render
from .. import services as svc
from .common import (
    CHILDREN_PER_PAGE,
    _children_page,
    _crumbs,
    _node,
    bp,
)

# --- the tree ------------------------------------------------------------------


@bp.route("/")
@requires("grid.view")
def tree():
    paths = scope_paths("grid.view")
    roots = []
    if paths:
        roots = list(db.session.scalars(select(GridNode).where(GridNode.path.in_(paths[:50])).order_by(GridNode.path)))
    first = roots[0] if len(roots) == 1 else None
    children = None
    if first is not None and first.level != "zone":
        children = list(db.session.scalars(svc.children_stmt(first).limit(CHILDREN_PER_PAGE + 1)))
    return render("grid/tree.html", roots=roots, open_root=first, children=children, per_page=CHILDREN_PER_PAGE)


@bp.route("/search")
@requires("grid.view")
def search():
    q = request.args.get("q", "").strip()[:60]
    results = svc.search_nodes(q, scope_filter(GridNode.path, "grid.view")) if q else []
    return render("grid/search.html", block="results", q=q, results=results, where=svc.paths_names(results))


@bp.route("/node/<int:node_id>/children")
@requires("grid.view")
def children(node_id: int):
    node = _node(node_id)
    page = _children_page(node)
    page.has_more = len(page.items) == CHILDREN_PER_PAGE and bool(
        db.session.scalar(svc.children_stmt(node).with_only_columns(GridNode.id).offset(page.page * CHILDREN_PER_PAGE).limit(1))
    )
    # The breadcrumbs belong to the full page only; a fragment skips their query.
    crumbs = [] if is_fragment_request() else _crumbs(node)
    return render("grid/children.html", block="children", node=node, page=page, crumbs=crumbs)


@bp.route("/node/<int:node_id>")
@requires("grid.view")
def node(node_id: int):
    node = _node(node_id)
    if node.property_company_id:
        node = db.session.scalar(select(GridNode).options(joinedload(GridNode.property_company)).where(GridNode.id == node.id))
    kids = list(db.session.scalars(svc.children_stmt(node).limit(CHILDREN_PER_PAGE + 1)))
    day = security.today()
    post = svc.post_for(node) if node.level != "district" else None
    post_cov = svc.coverage([post], day)[0] if post else None
    responsible = None
    if post_cov is None or post_cov.covering is None:
        responsible = responsible_worker_for_node(node, day) if node.level != "district" else None
    community_cov = None
    seats = []
    if node.level == "community":
        if can("staffing.view", node):
            community_cov = svc.community_coverage(node, day, limit=200)
        if can("orgs.view"):
            seats = list(
                db.session.scalars(
                    select(CommitteeMember).where(CommitteeMember.community_id == node.id).order_by(CommitteeMember.id).limit(100)
                )
            )
    levels_below = LEVELS[LEVELS.index(node.level) + 1:]
    return render(
        "grid/node.html",
        node=node,
        crumbs=_crumbs(node),
        children=kids,
        per_page=CHILDREN_PER_PAGE,
        levels_below=levels_below,
        post=post,
        post_cov=post_cov,
        responsible=responsible,
        community_cov=community_cov,
        nobody=[c for c in community_cov or [] if c.state == "nobody"],
        seats=seats,
        day=day,
        can_edit=can("grid.edit", node),
    )
