"""The dashboard widget and the grid-node panel (each also a full page)."""

from __future__ import annotations

from core import access
from core.security import requires
from core.web import paginate, render

from .. import queries
from . import bp


@bp.route("/widget")
@requires("orders.view")
def widget():
    return render("orders/widget.html", block="widget", f=queries.figures())


@bp.route("/panel/<int:node_id>")
@requires("orders.view")
def node_panel(node_id):
    node = access.require_node(node_id, "orders.view", "orders")
    page = paginate(queries.node_orders_stmt(node), per_page=5)
    return render("orders/panel.html", block="panel", node=node, page=page)
