"""Helpers shared by the orders views."""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import select

from core import access
from core.extensions import db
from core.models import GridNode
from core.web import current_community_id


def community_for(action: str) -> GridNode | None:
    """The community in scope for a page that works in one community, gated
    for `action` and the module switch; None when the user must choose one."""
    cid = current_community_id()
    if cid is None:
        return None
    return access.require_node(cid, action, "orders")


def grid_choices(community: GridNode) -> list[tuple[int, str]]:
    """The community itself and its estates, for 'where' fields."""
    estates = db.session.scalars(
        select(GridNode).where(GridNode.parent_id == community.id).order_by(GridNode.sort_order, GridNode.id)
    ).all()
    return [(community.id, community.name)] + [(e.id, f"{community.name} › {e.name}") for e in estates]


def node_from_form(node_id: int, community: GridNode, action: str) -> GridNode:
    node = access.require_node(node_id, action, "orders")
    if node.id != community.id and node.community_id != community.id:
        abort(404)
    return node


def order_state_label(state: str) -> str:
    labels = {
        "open": _("Open for taking"), "full": _("Full"), "taking_closed": _("Taking closed"),
        "under_way": _("Under way"), "cancelled": _("Cancelled"), "closed": _("Finished"),
    }
    return labels.get(state, state)


def take_state_label(state: str) -> str:
    labels = {"taken": _("Taken"), "reported": _("Report sent"), "accepted": _("Accepted"),
              "returned": _("Returned")}
    return labels.get(state, state)


def reg_state_label(state: str) -> str:
    labels = {"submitted": _("Waiting for confirmation"), "confirmed": _("Confirmed"), "returned": _("Returned")}
    return labels.get(state, state)


def commitment_state_label(state: str) -> str:
    labels = {"in_progress": _("In progress"), "done": _("Done"), "overdue": _("Overdue")}
    return labels.get(state, state)
