"""Assignment sheets: list, draft, issue, print and xlsx."""


from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core import access
from core.audit import record
from core.extensions import db
from core.security import requires
from core.web import paginate, render

from .. import exports, queries
from .. import services as svc
from ..models import (
    AssignmentSheet,
    Problem,
)
from . import bp
from .common import PROBLEM_OPTIONS, _fail, _locale, get_problem, sheet_home

# --- Assignment sheets --------------------------------------------------------------------------------


@bp.route("/sheets")
@requires("inquiry.view")
def sheets():
    page = paginate(queries.sheets().order_by(AssignmentSheet.number.desc()), per_page=30)
    return render("inquiry/sheets.html", block="results", page=page)


@bp.route("/sheets/new", methods=["POST"])
@requires("inquiry.triage")
def sheet_new():
    sheet = svc.create_sheet(current_user, sheet_home())
    record("inquiry.sheet_new", sheet, summary=f"第 {sheet.number} 期", community_id=access.community_of(sheet))
    db.session.commit()
    flash(_("Sheet %(n)s started. Add triaged problems, then issue it.", n=sheet.number), "success")
    return redirect(url_for("inquiry.sheet", sheet_id=sheet.id))


def _sheet(sheet_id, action: str | None = None) -> AssignmentSheet:
    """The sheet through the object gate: 404 unless the user may see its node."""
    return access.get_or_404(AssignmentSheet, sheet_id, action, options=(joinedload(AssignmentSheet.node),))


def _sheet_groups(sheet):
    rows = list(db.session.scalars(queries.problems(select(Problem).where(Problem.sheet_id == sheet.id), community=None)
                                   .options(*PROBLEM_OPTIONS).order_by(Problem.unit_id, Problem.id)))
    groups: dict = {}
    for p in rows:
        groups.setdefault(p.unit, []).append(p)
    return rows, groups


@bp.route("/sheets/<int:sheet_id>")
@requires("inquiry.view")
def sheet(sheet_id):
    s = _sheet(sheet_id)
    rows, groups = _sheet_groups(s)
    waiting = []
    if s.state == "draft" and s.node is not None:
        stmt = select(Problem).where(Problem.state == "triaged", Problem.sheet_id.is_(None),
                                     access.in_subtree(Problem, s.node))
        waiting = list(db.session.scalars(queries.problems(stmt, "inquiry.triage", community=None)
                                          .options(joinedload(Problem.unit), joinedload(Problem.category),
                                                   joinedload(Problem.node))
                                          .order_by(Problem.verified_at, Problem.id).limit(200)))
    return render("inquiry/sheet.html", s=s, rows=rows, groups=groups, waiting=waiting, loc=_locale(),
                  places=queries.place_labels(rows + waiting),
                  category_title=svc.category_title, states=svc.STATE_TITLES)


@bp.route("/sheets/<int:sheet_id>/add", methods=["POST"])
@requires("inquiry.triage")
def sheet_add(sheet_id):
    s = _sheet(sheet_id, "inquiry.triage")
    ids = [int(x) for x in request.form.getlist("problem_id") if x.isdigit() and len(x) < 19]
    if not ids:
        flash(_("Tick the problems to put on the sheet."), "error")
        return redirect(url_for("inquiry.sheet", sheet_id=s.id))
    problems = list(db.session.scalars(queries.problems(select(Problem).where(Problem.id.in_(ids)), "inquiry.triage",
                                                        community=None)))
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
    s = _sheet(sheet_id, "inquiry.triage")
    p = get_problem(problem_id, "inquiry.triage")
    try:
        svc.remove_from_sheet(s, p, current_user)
        db.session.commit()
    except svc.InquiryError as exc:
        _fail(exc)
    return redirect(url_for("inquiry.sheet", sheet_id=sheet_id))


@bp.route("/sheets/<int:sheet_id>/issue", methods=["POST"])
@requires("inquiry.triage")
def sheet_issue(sheet_id):
    s = _sheet(sheet_id, "inquiry.triage")
    access.require_node(s.node, "inquiry.triage", "inquiry")
    try:
        n = svc.issue_sheet(s, current_user)
        record("inquiry.sheet_issue", s, summary=f"第 {s.number} 期: {n}", community_id=access.community_of(s))
        db.session.commit()
        flash(_("Sheet %(s)s issued: %(n)s problems went to their units; their clocks run from now.", s=s.number, n=n), "success")
    except svc.InquiryError as exc:
        _fail(exc)
    return redirect(url_for("inquiry.sheet", sheet_id=sheet_id))


@bp.route("/sheets/<int:sheet_id>/print")
@requires("inquiry.view")
def sheet_print(sheet_id):
    s = _sheet(sheet_id)
    rows, groups = _sheet_groups(s)
    return render("inquiry/sheet_print.html", s=s, groups=groups, loc=_locale(), category_title=svc.category_title,
                  places=queries.place_labels(rows))


@bp.route("/sheets/<int:sheet_id>.xlsx")
@requires("inquiry.view")
def sheet_xlsx(sheet_id):
    s = _sheet(sheet_id)
    rows, _groups = _sheet_groups(s)
    return exports.sheet_xlsx(s, rows, locale=_locale())
