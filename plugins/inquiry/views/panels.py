"""The node panel and the dashboard widgets."""


from __future__ import annotations

from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from core.extensions import db
from core.models import utcnow
from core.security import node_in_scope_or_404, requires
from core.web import render

from .. import services as svc
from ..models import (
    Problem,
)
from . import bp
from .common import _count, _locale, _seed_figures

# --- Node panel and dashboard widgets -----------------------------------------------------------------------


@bp.route("/panel/<int:node_id>")
@requires("inquiry.view")
def node_panel(node_id):
    node = node_in_scope_or_404(node_id, "inquiry.view")
    from core.models import subtree

    stmt = select(Problem).where(subtree(Problem.node_path, node.path)).options(joinedload(Problem.category), joinedload(Problem.node))
    open_n = db.session.scalar(select(func.count()).select_from(Problem).where(subtree(Problem.node_path, node.path), Problem.state.in_(("new", "returned", "triaged", "issued", "claimed", "reported"))))
    recent = list(db.session.scalars(stmt.order_by(Problem.created_at.desc()).limit(5)))
    return render("inquiry/panel.html", node=node, recent=recent, open_n=open_n, states=svc.STATE_TITLES,
                  now=utcnow(), clock=svc.clock, loc=_locale(), category_title=svc.category_title)


@bp.route("/widgets/summary")
@requires("inquiry.view")
def widget_summary():
    now = utcnow()
    base = select(Problem.id)
    counts = {
        "open": _count(base.where(Problem.state.in_(("new", "returned", "triaged", "issued", "claimed", "reported")))),
        "overdue": _count(base.where(svc.overdue_condition(now))),
        "reported": _count(base.where(Problem.state == "reported")),
    }
    return render("inquiry/widget_summary.html", counts=counts, figures=_seed_figures())


@bp.route("/widgets/unit")
@requires("inquiry.handle")
def widget_unit():
    now = utcnow()
    counts = {}
    if current_user.organisation_id:
        base = select(func.count()).select_from(Problem).where(Problem.unit_id == current_user.organisation_id)
        counts = {
            "issued": db.session.scalar(base.where(Problem.state == "issued")),
            "claimed": db.session.scalar(base.where(Problem.state == "claimed")),
            "overdue": db.session.scalar(base.where(svc.overdue_condition(now))),
            "supervised": db.session.scalar(base.where(Problem.supervised.is_(True), Problem.state.in_(("issued", "claimed")))),
        }
    return render("inquiry/widget_unit.html", counts=counts)
