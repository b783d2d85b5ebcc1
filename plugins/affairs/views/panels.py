"""Node panels and dashboard widgets."""

from __future__ import annotations

from flask_login import current_user

from core import access
from core.extensions import db
from core.security import requires
from core.web import current_community_id, render

from .. import queries as Q
from .. import services as S
from ..queries import MODULE
from . import bp
from .common import today


@bp.route("/panels/residents/<int:node_id>")
@requires("affairs.view")
def panel_residents(node_id: int):
    node = access.require_node(node_id, "affairs.view", MODULE)
    return render("affairs/panels.html", block="residents", which="residents", node=node, c=Q.subtree_counts(node))


@bp.route("/panels/houses/<int:node_id>")
@requires("affairs.view")
def panel_houses(node_id: int):
    node = access.require_node(node_id, "affairs.view", MODULE)
    return render("affairs/panels.html", block="houses", which="houses", node=node, c=Q.subtree_counts(node))


@bp.route("/panels/groups/<int:node_id>")
@requires("affairs.view")
def panel_groups(node_id: int):
    node = access.require_node(node_id, "affairs.view", MODULE)
    d = today()
    if Q.walks(Q.subtree_totals(node), "group:"):
        stmt = Q.due_residents_stmt(Q.scope(walk=True, community=None), d, node=node)
        due = Q.due_figure_of(stmt)
    else:
        due = Q.due_figure(Q.due_stmt(Q.scope(community=None), d, node=node))
    return render("affairs/panels.html", block="groups", which="groups", node=node, counts=Q.group_counts(node, d), due=due)


@bp.route("/panels/compliance/<int:node_id>")
@requires("affairs.compliance")
def panel_compliance(node_id: int):
    node = access.require_node(node_id, "affairs.compliance", MODULE)
    y, w = S.iso_week_of(today())
    quota = S.weekly_quota(access.community_of(node))
    rows = S.compliance(node, y, w, quota)
    return render("affairs/panels.html", block="compliance", which="compliance", node=node, rows=rows, quota=quota, year=y, week=w,
                  met=sum(1 for r in rows if r.met))


@bp.route("/widgets/my-week")
@requires("affairs.visit")
def widget_my_week():
    d = today()
    n = Q.visits_this_week(current_user.id, d)
    quota = S.weekly_quota(current_community_id())
    return render("affairs/panels.html", block="my_week", which="my_week", n=n, quota=quota)


@bp.route("/widgets/due")
@requires("affairs.view")
def widget_due():
    d = today()
    if Q.walks(Q.scope_totals(), "group:"):
        stmt = Q.due_residents_stmt(Q.scope(walk=True), d)
        total = Q.due_figure_of(stmt)
        rows = Q.due_rows_of(list(db.session.scalars(stmt.limit(5))), d, options=[Q.TAG_PLACE])[:5]
    else:
        stmt = Q.due_stmt(Q.scope(), d)
        total = Q.due_figure(stmt)
        rows = db.session.execute(stmt.options(Q.TAG_PLACE).limit(5)).all()
    return render("affairs/panels.html", block="due", which="due", rows=rows, total=total, today=d)
