"""The community's side of a problem: triage, extensions, return visits, supervision."""


from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import access
from core.extensions import db
from core.models import Organisation
from core.security import requires

from .. import queries
from .. import services as svc
from ..forms import (
    DecisionForm,
    DuplicateForm,
    NoteForm,
    ReasonForm,
    TriageForm,
    VisitForm,
)
from ..models import (
    AssignmentSheet,
    Category,
    Extension,
    Problem,
)
from . import bp
from .common import _category_choices, _unit_choices, sheet_home
from .problem import _act


@bp.route("/p/<int:problem_id>/verify", methods=["POST"])
@requires("inquiry.triage")
def verify(problem_id):
    form = TriageForm()
    form.category_id.choices = _category_choices()
    form.unit_id.choices = _unit_choices()

    def do(p):
        svc.verify(p, current_user, category=db.session.get(Category, form.category_id.data),
                   unit=db.session.get(Organisation, form.unit_id.data), priority=form.priority.data,
                   deadline_days=form.deadline_days.data, due_date=form.due_date.data, address=form.address.data)

    return _act(problem_id, do, "triage", form, _("Triaged: the problem can go on an assignment sheet."), "inquiry.triage")


@bp.route("/p/<int:problem_id>/reject", methods=["POST"])
@requires("inquiry.triage")
def reject(problem_id):
    form = ReasonForm()
    return _act(problem_id, lambda p: svc.reject(p, current_user, form.reason.data), "reject", form, _("Rejected."),
                "inquiry.triage")


@bp.route("/p/<int:problem_id>/duplicate", methods=["POST"])
@requires("inquiry.triage")
def duplicate(problem_id):
    form = DuplicateForm()

    def do(p):
        ref = (form.duplicate_of.data or "").strip().upper()
        original = db.session.scalars(queries.problems(select(Problem).where(Problem.ref == ref), community=None)).first()
        svc.mark_duplicate(p, current_user, original, form.reason.data)

    return _act(problem_id, do, "duplicate", form, _("Marked as a duplicate."), "inquiry.triage")


@bp.route("/p/<int:problem_id>/opinion", methods=["POST"])
@requires("inquiry.triage")
def file_opinion(problem_id):
    form = NoteForm()
    return _act(problem_id, lambda p: svc.file_opinion(p, current_user, form.note.data), "opinion", form,
                _("Filed in the public-opinion ledger."), "inquiry.triage")


@bp.route("/p/<int:problem_id>/sheet", methods=["POST"])
@requires("inquiry.triage")
def to_sheet(problem_id):
    sheet_id = request.form.get("sheet_id", "")

    sheet = access.get_or_404(AssignmentSheet, sheet_id, "inquiry.triage") if sheet_id != "new" else None

    def do(p):
        target = sheet or svc.create_sheet(current_user, sheet_home(p))
        svc.add_to_sheet(target, p, current_user)

    return _act(problem_id, do, ok=_("Put on the assignment sheet."), action="inquiry.triage")


@bp.route("/p/<int:problem_id>/extension/<int:ext_id>", methods=["POST"])
@requires("inquiry.triage")
def decide_extension(problem_id, ext_id):
    form = DecisionForm()
    ext = access.get_or_404(Extension, ext_id, "inquiry.triage")
    if ext.problem_id != problem_id:
        abort(404)

    def do(p):
        svc.decide_extension(p, ext, current_user, form.decision.data == "approve", form.note.data)

    return _act(problem_id, do, None, form, _("Decision recorded."), "inquiry.triage")


@bp.route("/p/<int:problem_id>/visit", methods=["POST"])
@requires("inquiry.visit")
def visit(problem_id):
    form = VisitForm()
    return _act(problem_id, lambda p: svc.return_visit(p, current_user, form.outcome.data, form.note.data),
                "visit", form, _("Return visit recorded."), "inquiry.visit")


@bp.route("/p/<int:problem_id>/supervise", methods=["POST"])
@requires("inquiry.supervise")
def supervise(problem_id):
    form = NoteForm()
    return _act(problem_id, lambda p: svc.supervise(p, current_user, form.note.data), "note", form,
                _("The problem is under supervision."), "inquiry.supervise")


@bp.route("/p/<int:problem_id>/followup", methods=["POST"])
@requires("inquiry.visit")
def followup(problem_id):
    form = NoteForm()
    return _act(problem_id, lambda p: svc.record_followup(p, current_user, form.note.data), "note", form,
                _("Follow-up check recorded."), "inquiry.visit")
