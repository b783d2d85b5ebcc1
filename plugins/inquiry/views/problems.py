"""The index page, the problem lists, the ledger and their Excel exports."""


from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from core.audit import record
from core.excel import xlsx_response
from core.extensions import db
from core.models import utcnow
from core.privacy import mask_name, mask_phone
from core.security import can, requires
from core.web import render

from .. import queries
from .. import services as svc
from ..models import (
    AssignmentSheet,
    Extension,
    Problem,
)
from . import bp
from .common import (
    _count,
    _filters,
    _list_context,
    _list_stmt,
    _locale,
    _page,
    _seed_figures,
    place_labels,
    scoped,
)


@bp.route("/")
@requires("inquiry.view")
def index():
    now = utcnow()
    base = select(Problem.id)
    counts = {
        "new": _count(base.where(Problem.state.in_(("new", "returned")))),
        "triaged": _count(base.where(Problem.state == "triaged", Problem.sheet_id.is_(None))),
        "issued": _count(base.where(Problem.state == "issued")),
        "claimed": _count(base.where(Problem.state == "claimed")),
        "overdue": _count(base.where(svc.overdue_condition(now))),
        "reported": _count(base.where(Problem.state == "reported")),
        "supervised": _count(base.where(Problem.supervised.is_(True), Problem.state.in_(("triaged", "issued", "claimed", "reported")))),
        "followups": _count(base.where(Problem.state == "closed", Problem.followup_done_at.is_(None),
                                       Problem.followup_due <= svc.local_today(now))),
    }
    pending_ext = db.session.scalar(
        select(func.count()).select_from(
            scoped(select(Problem.id).join(Extension, Extension.problem_id == Problem.id).where(Extension.state == "pending")).subquery()
        )
    )
    figures = _seed_figures()
    drafts = list(db.session.scalars(select(AssignmentSheet).where(AssignmentSheet.state == "draft").order_by(AssignmentSheet.number)))
    return render("inquiry/index.html", counts=counts, pending_ext=pending_ext, figures=figures, drafts=drafts)


@bp.route("/problems")
@requires("inquiry.view")
def problems():
    f = _filters()
    page = _page(_list_stmt(f))
    return render("inquiry/problems.html", block="results", page=page, title=_("Problem list"), places=place_labels(page.items),
                  endpoint="inquiry.problems", xlsx="inquiry.problems_xlsx", **_list_context(f))


@bp.route("/overdue")
@requires("inquiry.view")
def overdue():
    f = _filters()
    f.overdue = True
    page = _page(queries.filter_problems(scoped(select(Problem)), f).order_by(Problem.deadline, Problem.id))
    return render("inquiry/problems.html", block="results", page=page, title=_("Overdue problems"), places=place_labels(page.items),
                  endpoint="inquiry.overdue", xlsx="inquiry.problems_xlsx", **_list_context(f))


@bp.route("/ledger")
@requires("inquiry.view")
def ledger():
    f = _filters()
    page = _page(_list_stmt(f, ledger=True))
    return render("inquiry/problems.html", block="results", page=page, title=_("Public-opinion ledger"), places=place_labels(page.items),
                  endpoint="inquiry.ledger", xlsx="inquiry.ledger_xlsx", ledger=True, **_list_context(f))


def _xlsx(stmt, filename):
    loc = _locale()
    full = can("inquiry.contact")
    headers = [_("Reference"), _("Received"), _("Channel"), _("Community"), _("Location"), _("Address"), _("Category"),
               _("Description"), _("Reporter"), _("Phone"), _("State"), _("Unit"), _("Sheet"), _("Issued"), _("Deadline"),
               _("Result"), _("Return visit"), _("Closed"), _("Returns"), _("Reopened"), _("Supervised")]
    stmt = stmt.options(joinedload(Problem.category), joinedload(Problem.unit), joinedload(Problem.node),
                        joinedload(Problem.community), joinedload(Problem.sheet))

    def fmt(v):
        return f"{v + svc.LOCAL_OFFSET:%Y-%m-%d %H:%M}" if v else ""

    def rows():
        for batch in db.session.scalars(stmt.execution_options(yield_per=1000)).partitions():
            places = place_labels(batch)
            yield from (row(p, places) for p in batch)

    def row(p, places):
        return [p.ref, fmt(p.created_at), str(svc.CHANNEL_TITLES[p.channel]), p.community.name if p.community else "",
               places[p.id], p.address, svc.category_title(p.category, loc), p.description,
               p.reporter_name if full else mask_name(p.reporter_name),
               p.reporter_phone if full else mask_phone(p.reporter_phone),
               str(svc.STATE_TITLES[p.state]), p.unit.name if p.unit else "", p.sheet.number if p.sheet else "",
               fmt(p.issued_at), fmt(p.deadline), p.result_text,
               str(svc.OUTCOME_TITLES[p.outcome]) if p.outcome else "", fmt(p.closed_at), p.returns_count,
               p.reopen_count, _("yes") if p.supervised else ""]

    record("inquiry.export", summary=f"{filename} (contact {'full' if full else 'masked'})")
    db.session.commit()
    return xlsx_response(filename, headers, rows(), title=filename.rsplit(".", 1)[0])


@bp.route("/problems.xlsx")
@requires("inquiry.export")
def problems_xlsx():
    return _xlsx(_list_stmt(_filters()), _("problem-list") + ".xlsx")


@bp.route("/ledger.xlsx")
@requires("inquiry.export")
def ledger_xlsx():
    return _xlsx(_list_stmt(_filters(), ledger=True), _("opinion-ledger") + ".xlsx")
