"""Excel exports (core.excel), each through core.access like its page, each audited."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from core import audit, clock
from core.access import CURRENT
from core.excel import xlsx_response
from core.extensions import db
from core.security import requires

from . import queries
from .forms import CATEGORY_LABELS, KIND_LABELS, PROJECT_STATE_LABELS, SOURCE_LABELS
from .models import Order
from .services.commitments import state_of
from .services.orders import display_state
from .views import bp
from .views.common import commitment_state_label, order_state_label, reg_state_label

LIMIT = 50_000


def _audited(name: str, n: int):
    audit.record("orders.export", summary=f"{name}: {n} rows")
    db.session.commit()


def _local(instant) -> str:
    value = clock.local(instant)
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


@bp.route("/export/registrations.xlsx")
@requires("orders.export")
def registrations_xlsx():
    rows = db.session.scalars(queries.registrations_stmt(None, community=CURRENT).limit(LIMIT)).all()
    _audited("registrations", len(rows))
    return xlsx_response(
        "registrations.xlsx",
        [_("Name"), _("Phone"), _("Employer unit"), _("Party branch"), _("Community"), _("Home grid"),
         _("Address"), _("Skills"), _("Hours a month"), _("State"), _("Registered")],
        ((r.user.display_name, r.phone, r.employer_label, r.party_branch, r.community.name,
          r.home_node.name if r.home_node else "", r.address, r.skills, r.hours_per_month,
          reg_state_label(r.state), _local(r.created_at)) for r in rows),
        title=_("Registrations"),
    )


@bp.route("/export/status.xlsx")
@requires("orders.export")
def status_xlsx():
    by_c, by_u = queries.status_by_community(), queries.status_by_unit()
    _audited("registration status", len(by_c) + len(by_u))
    head = [_("Community or unit"), _("Waiting for confirmation"), _("Confirmed"), _("Returned")]
    rows = [(c.name, s.get("submitted", 0), s.get("confirmed", 0), s.get("returned", 0)) for c, s in by_c]
    rows += [(u, s.get("submitted", 0), s.get("confirmed", 0), s.get("returned", 0)) for u, s in by_u]
    return xlsx_response("registration-status.xlsx", head, rows, title=_("Status"))


@bp.route("/export/orders.xlsx")
@requires("orders.export")
def orders_xlsx():
    rows = db.session.scalars(queries.orders_stmt("all").options(selectinload(Order.takes)).limit(LIMIT)).all()
    _audited("orders", len(rows))
    return xlsx_response(
        "orders.xlsx",
        [_("Order"), _("Service post"), _("Grid"), _("Starts"), _("Take by"), _("Members needed"),
         _("Taken"), _("State"), _("Members")],
        ((o.title, o.post.name, o.node.name, _local(o.starts_at), _local(o.deadline), o.needed, o.taken,
          order_state_label(display_state(o)), ", ".join(t.member.display_name for t in o.takes)) for o in rows),
        title=_("Orders"),
    )


@bp.route("/export/commitments.xlsx")
@requires("orders.export")
def board_xlsx():
    from sqlalchemy import select

    from core import access

    from .models import Commitment

    stmt = access.scoped(select(Commitment), Commitment).order_by(Commitment.community_id, Commitment.deadline)
    rows = db.session.scalars(stmt.limit(LIMIT)).all()
    _audited("commitments", len(rows))
    today = clock.today()
    return xlsx_response(
        "commitments.xlsx",
        [_("Member"), _("Commitment"), _("Service items"), _("Completion deadline"), _("State")],
        ((c.member.display_name, c.text, c.items, c.deadline, commitment_state_label(state_of(c, today)))
         for c in rows),
        title=_("Commitments"),
    )


@bp.route("/export/resources.xlsx")
@requires("orders.export")
def resources_xlsx():
    rows = db.session.scalars(queries.resources_stmt().limit(LIMIT)).all()
    _audited("resources", len(rows))
    return xlsx_response(
        "resources.xlsx",
        [_("Resource"), _("Category"), _("Type of resource"), _("Amount"), _("Unit of the amount"), _("Offered by"), _("Grid")],
        ((r.title, str(CATEGORY_LABELS[r.category]), str(KIND_LABELS[r.kind]), r.amount, r.unit,
          r.org.name if r.org else _("The community itself"), r.node.name) for r in rows),
        title=_("Resources"),
    )


@bp.route("/export/needs.xlsx")
@requires("orders.export")
def needs_xlsx():
    rows = db.session.scalars(queries.needs_stmt().limit(LIMIT)).all()
    _audited("needs", len(rows))
    return xlsx_response(
        "needs.xlsx",
        [_("Need"), _("Category"), _("Comes from"), _("Grid"), _("Details")],
        ((n.title, str(CATEGORY_LABELS[n.category]), str(SOURCE_LABELS[n.source]), n.node.name, n.description)
         for n in rows),
        title=_("Needs list"),
    )


@bp.route("/export/projects.xlsx")
@requires("orders.export")
def projects_xlsx():
    rows = db.session.scalars(queries.projects_stmt().limit(LIMIT)).all()
    _audited("projects", len(rows))
    return xlsx_response(
        "projects.xlsx",
        [_("Project"), _("Community"), _("Category"), _("Budget (yuan)"), _("State"), _("Partner units"),
         _("Resources"), _("Needs list"), _("Members"), _("Milestones"), _("Outcome")],
        ((p.name, p.community.name, str(CATEGORY_LABELS[p.category]), p.budget, str(PROJECT_STATE_LABELS[p.state]),
          ", ".join(o.name for o in p.partners), "; ".join(r.title for r in p.resources),
          "; ".join(n.title for n in p.needs), ", ".join(u.display_name for u in p.members),
          "; ".join(m.title for m in p.milestones), p.result) for p in rows),
        title=_("Projects"),
    )
