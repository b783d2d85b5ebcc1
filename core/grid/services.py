"""Rules of the grid tree. Plain functions over the session; no request."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import update

from ..extensions import db
from ..models import LEVELS, GridNode, subtree

COUNT_COLUMN = {
    "community": "n_communities",
    "estate": "n_estates",
    "building": "n_buildings",
    "zone": "n_zones",
}


class TreeError(ValueError):
    """A tree change the rules refuse; str() is the user's message."""


def child_level(level: str) -> str | None:
    i = LEVELS.index(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def check_level(parent: GridNode | None, level: str) -> None:
    if level not in LEVELS:
        raise TreeError(_("Unknown level %(level)s.", level=level))
    if parent is None:
        if level != "district":
            raise TreeError(_("Only a district can be the root of the tree."))
        return
    expected = child_level(parent.level)
    if level != expected:
        raise TreeError(
            _(
                "A %(level)s cannot sit under a %(parent)s.",
                level=level_title(level),
                parent=level_title(parent.level),
            )
        )


def level_title(level: str) -> str:
    from flask_babel import gettext

    titles = {
        "district": gettext("district"),
        "community": gettext("community"),
        "estate": gettext("estate"),
        "building": gettext("building"),
        "zone": gettext("zone"),
    }
    return titles.get(level, level)


def _adjust_counts(ancestor_ids: list[int], level: str, delta: int) -> None:
    col = COUNT_COLUMN.get(level)
    if col is None or not ancestor_ids:
        return
    column = getattr(GridNode, col)
    db.session.execute(
        update(GridNode).where(GridNode.id.in_(ancestor_ids)).values({col: column + delta})
    )


def create_node(
    parent: GridNode | None,
    level: str,
    name: str,
    code: str,
    sort_order: int = 0,
    **fields,
) -> GridNode:
    """Add a node under `parent`, keeping path, community and totals right."""
    check_level(parent, level)
    node = GridNode(
        parent_id=parent.id if parent else None,
        level=level,
        name=name,
        code=code,
        sort_order=sort_order,
        depth=LEVELS.index(level),
        path="",
        **fields,
    )
    db.session.add(node)
    db.session.flush()
    node.path = f"{parent.path if parent else '/'}{node.id}/"
    if level == "community":
        node.community_id = node.id
    elif parent is not None:
        node.community_id = parent.community_id
    if parent is not None:
        _adjust_counts(node.ancestor_ids()[:-1], level, 1)
    db.session.flush()
    return node


def descendants_condition(node: GridNode, include_self: bool = False):
    return subtree(GridNode.path, node.path, include_self=include_self)
