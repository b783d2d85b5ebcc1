"""Assignment sheets: list, draft, issue, print and xlsx."""


from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.audit import record
from core.excel import xlsx_response
from core.extensions import db
from core.security import requires
from core.web import paginate, render

from .. import services as svc
from ..models import (
    AssignmentSheet,
    Problem,
)
from . import bp
from .common import _fail, _locale, get_problem, place_labels, scoped

# --- Assignment sheets --------------------------------------------------------------------------------


@bp.route("/sheets")
@requires("inquiry.view")
def sheets():
    page = paginate(select(AssignmentSheet).order_by(AssignmentSheet.number.desc()), per_page=30)
    return render("inquiry/sheets.html", block="results", page=page)


@bp.route("/sheets/new", methods=["POST"])
@requires("inquiry.triage")
def sheet_new():
    sheet = svc.create_sheet(current_user)
    db.session.commit()
    flash(_("Sheet %(n)s started. Add triaged problems, then issue it.", n=sheet.number), "success")
    return redirect(url_for("inquiry.sheet", sheet_id=sheet.id))


def _sheet_or_404(sheet_id) -> AssignmentSheet:
    sheet = db.session.get(AssignmentSheet, sheet_id)
    if sheet is None:
        abort(404)
    return sheet


def _sheet_groups(sheet):
    rows = list(db.session.scalars(scoped(select(Problem).where(Problem.sheet_id == sheet.id)).options(
        joinedload(Problem.category), joinedload(Problem.unit), joinedload(Problem.node), joinedload(Problem.community))
        .order_by(Problem.unit_id, Problem.id)))
    groups: dict = {}
    for p in rows:
        groups.setdefault(p.unit, []).append(p)
    return rows, groups


@bp.route("/sheets/<int:sheet_id>")
@requires("inquiry.view")
def sheet(sheet_id):
    s = _sheet_or_404(sheet_id)
    rows, groups = _sheet_groups(s)
    waiting = []
    if s.state == "draft":
        waiting = list(db.session.scalars(scoped(select(Problem).where(Problem.state == "triaged", Problem.sheet_id.is_(None)))
                                          .options(joinedload(Problem.unit), joinedload(Problem.category), joinedload(Problem.node))
                                          .order_by(Problem.verified_at, Problem.id).limit(200)))
    return render("inquiry/sheet.html", s=s, rows=rows, groups=groups, waiting=waiting, loc=_locale(),
                  places=place_labels(rows + waiting),
                  category_title=svc.category_title, states=svc.STATE_TITLES, local=svc.LOCAL_OFFSET)


@bp.route("/sheets/<int:sheet_id>/add", methods=["POST"])
@requires("inquiry.triage")
def sheet_add(sheet_id):
    s = _sheet_or_404(sheet_id)
    ids = [int(x) for x in request.form.getlist("problem_id") if x.isdigit()]
    if not ids:
        flash(_("Tick the problems to put on the sheet."), "error")
        return redirect(url_for("inquiry.sheet", sheet_id=s.id))
    problems = list(db.session.scalars(scoped(select(Problem).where(Problem.id.in_(ids)))))
    try:
        for p in problems:
            svc.add_to_sheet(s, p, current_user)
        db.session.commit()
        flash(_("%(n)s problems put on sheet %(s)s.", n=len(problems), s=s.number), "success")
    except svc.InquiryError as exc:
        _fail(exc)
    return redirect(url_for("inquiry.sheet", sheet_id=sheet_id))


@bp.route("/sheets/<int:sheet_id>/remove/<int:problem_id>", methods=["POST"])
@requires("inquiry.triage")
def sheet_remove(sheet_id, problem_id):
    s = _sheet_or_404(sheet_id)
    p = get_problem(problem_id)
    try:
        svc.remove_from_sheet(s, p, current_user)
        db.session.commit()
    except svc.InquiryError as exc:
        _fail(exc)
    return redirect(url_for("inquiry.sheet", sheet_id=sheet_id))


@bp.route("/sheets/<int:sheet_id>/issue", methods=["POST"])
@requires("inquiry.triage")
def sheet_issue(sheet_id):
    s = _sheet_or_404(sheet_id)
    try:
        n = svc.issue_sheet(s, current_user)
        record("inquiry.sheet_issue", s, summary=f"第 {s.number} 期: {n}")
        db.session.commit()
        flash(_("Sheet %(s)s issued: %(n)s problems went to their units; their clocks run from now.", s=s.number, n=n), "success")
    except svc.InquiryError as exc:
        _fail(exc)
    return redirect(url_for("inquiry.sheet", sheet_id=sheet_id))


@bp.route("/sheets/<int:sheet_id>/print")
@requires("inquiry.view")
def sheet_print(sheet_id):
    s = _sheet_or_404(sheet_id)
    rows, groups = _sheet_groups(s)
    return render("inquiry/sheet_print.html", s=s, groups=groups, loc=_locale(), category_title=svc.category_title,
                  places=place_labels(rows),
                  local=svc.LOCAL_OFFSET)


@bp.route("/sheets/<int:sheet_id>.xlsx")
@requires("inquiry.view")
def sheet_xlsx(sheet_id):
    s = _sheet_or_404(sheet_id)
    rows, _groups = _sheet_groups(s)
    loc = _locale()

    def fmt(v):
        return f"{v + svc.LOCAL_OFFSET:%Y-%m-%d}" if v else ""

    headers = [_("Unit"), _("Reference"), _("Community"), _("Location"), _("Address"), _("Category"), _("Description"),
               _("Priority"), _("Deadline"), _("State")]
    data = [[p.unit.name if p.unit else "", p.ref, p.community.name if p.community else "", p.node.name, p.address,
             svc.category_title(p.category, loc), p.description, str(svc.PRIORITY_TITLES[p.priority]), fmt(p.deadline),
             str(svc.STATE_TITLES[p.state])] for p in rows]
    return xlsx_response(_("assignment-sheet-%(n)s", n=s.number) + ".xlsx", headers, data, title=f"{s.number}")
