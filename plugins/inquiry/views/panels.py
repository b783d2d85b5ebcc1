"""The node panel and the dashboard widgets."""


from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core import access
from core.extensions import db
from core.models import utcnow
from core.security import requires
from core.web import render

from .. import queries
from .. import services as svc
from ..models import (
    OPEN_STATES,
    Problem,
)
from . import bp
from .common import _locale

# --- Node panel and dashboard widgets -----------------------------------------------------------------------


@bp.route("/panel/<int:node_id>")
@requires("inquiry.view")
def node_panel(node_id):
    node = access.require_node(node_id, "inquiry.view", "inquiry")
    here = queries.problems(select(Problem).where(access.in_subtree(Problem, node)), community=None)
    open_n = queries.count(select(Problem.id).where(access.in_subtree(Problem, node), Problem.state.in_(OPEN_STATES)),
                           community=None)
    recent = list(db.session.scalars(here.options(joinedload(Problem.category), joinedload(Problem.node))
                                     .order_by(Problem.created_at.desc()).limit(5)))
    return render("inquiry/panel.html", node=node, recent=recent, open_n=open_n, states=svc.STATE_TITLES,
                  now=utcnow(), clock=svc.deadline_colour, loc=_locale(), category_title=svc.category_title)


@bp.route("/widgets/summary")
@requires("inquiry.view")
def widget_summary():
    now = utcnow()
    base = select(Problem.id)
    counts = {
        "open": queries.count(base.where(Problem.state.in_(OPEN_STATES))),
        "overdue": queries.count(base.where(svc.overdue_condition(now))),
        "reported": queries.count(base.where(Problem.state == "reported")),
    }
    return render("inquiry/widget_summary.html", counts=counts, figures=queries.headline_figures())


@bp.route("/widgets/unit")
@requires("inquiry.handle")
def widget_unit():
    now = utcnow()
    counts = {}
    if current_user.organisation_id:
        base = select(Problem.id).where(Problem.unit_id == current_user.organisation_id)
        counts = {
            "issued": queries.count(base.where(Problem.state == "issued"), community=None),
            "claimed": queries.count(base.where(Problem.state == "claimed"), community=None),
            "overdue": queries.count(base.where(svc.overdue_condition(now)), community=None),
            "supervised": queries.count(base.where(Problem.supervised.is_(True),
                                                   Problem.state.in_(("issued", "claimed"))), community=None),
        }
    return render("inquiry/widget_unit.html", counts=counts)
