"""The grid blueprint and the helpers its pages share."""

from __future__ import annotations

from flask import Blueprint, abort, current_app
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import (
    GridNode,
)
from ...security import (
    in_scope,
    node_in_scope_or_404,
)
from ...web import paginate
from .. import services as svc

bp = Blueprint("grid", __name__, url_prefix="/grid")

CHILDREN_PER_PAGE = 25
LEVEL_PLURAL = {
    "community": _l("Communities"),
    "estate": _l("Estates"),
    "building": _l("Buildings"),
    "zone": _l("Zones"),
}
KIND_TITLES = {
    "department": _l("Departments"),
    "property_company": _l("Property companies"),
    "partner_unit": _l("Partner units"),
}
KIND_SINGULAR = {
    "department": _l("Department"),
    "property_company": _l("Property company"),
    "partner_unit": _l("Partner unit"),
}


def _pm():
    return current_app.extensions["wangge"].pm


@bp.record_once
def _grid_helpers(state):
    # Globals rather than a context processor, so imported macros see them too.
    state.app.jinja_env.globals.update(
        level_title=svc.level_title,
        party_org_title=svc.party_org_title,
        level_plural=LEVEL_PLURAL,
        kind_titles=KIND_TITLES,
    )


def _node(node_id: int, action: str = "grid.view") -> GridNode:
    return node_in_scope_or_404(node_id, action)


def _community(node_id: int, action: str) -> GridNode:
    """The community of the node in the URL (itself when it is one)."""
    node = _node(node_id, action)
    if node.level == "community":
        return node
    if node.community_id is None:
        abort(404)
    community = db.session.get(GridNode, node.community_id)
    if community is None or not in_scope(community, action):
        # A worker sees their own grids only: the community page is not theirs.
        abort(404)
    return community


def _crumbs(node: GridNode) -> list[tuple[GridNode, bool]]:
    """(ancestor, linkable) from the root down; out-of-scope ones are plain text."""
    return [(a, in_scope(a, "grid.view")) for a in svc.ancestors_of(node)]


def _children_page(node: GridNode):
    return paginate(svc.children_stmt(node), per_page=CHILDREN_PER_PAGE, count=False)


