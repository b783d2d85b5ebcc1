"""One problem: its page, the contact reveal and its photos."""


from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import access, clock, uploads
from core.audit import record
from core.extensions import db
from core.models import GridNode, utcnow
from core.privacy import mask_name, mask_phone
from core.security import can, requires
from core.web import render

from .. import queries
from .. import services as svc
from ..forms import (
    DecisionForm,
    DuplicateForm,
    ExtensionForm,
    NoteForm,
    ReasonForm,
    ResultForm,
    TriageForm,
    VisitForm,
)
from ..models import (
    AssignmentSheet,
    Extension,
    Photo,
    Problem,
    ReturnVisit,
)
from . import bp
from .common import (
    _categories,
    _category_choices,
    _fail,
    _locale,
    _unit_choices,
    get_problem,
    is_unit_of,
)


@bp.route("/p/<int:problem_id>")
@requires(None)
def problem(problem_id):
    p = get_problem(problem_id)
    return _problem_page(p)


def _problem_page(p: Problem, forms=None, status=200, show_contact=False):
    forms = forms or {}
    loc = _locale()
    triage = forms.get("triage") or TriageForm(formdata=None)
    if "triage" not in forms:
        cat = p.category
        triage.category_id.data = p.category_id
        triage.unit_id.data = p.unit_id or svc.proposed_unit_id(p.node, cat)
        triage.deadline_days.data = p.deadline_days or (cat.deadline_days if cat else 10)
        triage.priority.data = p.priority
        triage.address.data = p.address
    # A fixed due date cannot lie before the district's today.
    triage.due_date.render_kw = {"min": clock.today().isoformat()}
    triage.category_id.choices = _category_choices()
    triage.unit_id.choices = _unit_choices()
    proposals = {c.id: {"unit": svc.proposed_unit_id(p.node, c), "days": c.deadline_days} for c in _categories()}
    can_triage = can("inquiry.triage") and p.state in ("new", "returned")
    events = svc.timeline(p.id)
    ctx = dict(
        p=p, place=queries.place_labels([p])[p.id], loc=loc, now=utcnow(), clock=svc.deadline_colour(p), events=events, states=svc.STATE_TITLES,
        actions=svc.ACTION_TITLES, channels=svc.CHANNEL_TITLES, outcomes=svc.OUTCOME_TITLES,
        priorities=svc.PRIORITY_TITLES, category_title=svc.category_title,
        triage=triage, proposals=proposals, can_triage=can_triage,
        reject_form=forms.get("reject") or ReasonForm(formdata=None),
        dup_form=forms.get("duplicate") or DuplicateForm(formdata=None),
        opinion_form=forms.get("opinion") or NoteForm(formdata=None),
        candidates=svc.duplicate_candidates(p) if can_triage else [],
        is_unit=is_unit_of(p),
        return_form=forms.get("return") or ReasonForm(formdata=None),
        ext_form=forms.get("extension") or ExtensionForm(formdata=None),
        result_form=forms.get("result") or ResultForm(formdata=None),
        visit_form=forms.get("visit") or VisitForm(formdata=None),
        note_form=forms.get("note") or NoteForm(formdata=None),
        decision_form=DecisionForm(formdata=None),
        pending_ext=svc.pending_extension(p.id),
        extensions=list(db.session.scalars(select(Extension).where(Extension.problem_id == p.id).order_by(Extension.id))),
        visits=list(db.session.scalars(select(ReturnVisit).where(ReturnVisit.problem_id == p.id).order_by(ReturnVisit.id))),
        sheet_visible=p.sheet_id is not None and db.session.scalar(
            queries.sheets(select(AssignmentSheet.id).where(AssignmentSheet.id == p.sheet_id), community=None)) is not None,
        photos=[ph for ph in p.photos if ph.stage == "report"],
        result_photos=[ph for ph in p.photos if ph.stage == "result"],
        drafts=draft_sheets_for(p) if can("inquiry.triage") and p.state == "triaged" else [],
        # Full contact only in the answer to the audited POST, never from a GET parameter.
        show_contact=show_contact and can("inquiry.contact"),
        mask_phone=mask_phone, mask_name=mask_name,
        allowed=lambda action: svc.allowed(action, p.state),
    )
    from flask import make_response

    return make_response(render("inquiry/problem.html", **ctx), status)


def draft_sheets_for(p: Problem) -> list[AssignmentSheet]:
    """Draft sheets the user may fill that may hold this problem (the district's and its community's)."""
    district = db.session.scalar(select(GridNode.id).where(GridNode.level == "district").limit(1))
    stmt = select(AssignmentSheet).where(AssignmentSheet.state == "draft",
                                         AssignmentSheet.node_id.in_([district, p.community_id or -1]))
    return list(db.session.scalars(queries.sheets(stmt, "inquiry.triage", community=None).order_by(AssignmentSheet.number)))


def _act(problem_id, fn, form_key=None, form=None, ok=None, action=None):
    """Run a service on a problem (fetched through the object gate for
    `action`); on refusal show the page again with the message."""
    p = get_problem(problem_id, action)
    if form is not None and not form.validate_on_submit():
        flash(_("Please correct the marked fields."), "error")
        return _problem_page(p, {form_key: form}, 422)
    try:
        fn(p)
        db.session.commit()
    except svc.InquiryError as exc:
        _fail(exc, form)
        p = get_problem(problem_id, action)
        return _problem_page(p, {form_key: form} if form_key else None, 409 if isinstance(exc, svc.TransitionError) else 422)
    if ok:
        flash(ok, "success")
    return redirect(url_for("inquiry.problem", problem_id=problem_id))


@bp.route("/p/<int:problem_id>/contact", methods=["POST"])
@requires("inquiry.contact")
def reveal_contact(problem_id):
    p = get_problem(problem_id, "inquiry.contact")
    svc.record_contact_view(p, current_user)
    record("inquiry.contact_view", p, summary=p.ref, community_id=access.community_of(p))
    db.session.commit()
    return _problem_page(get_problem(problem_id, "inquiry.contact"), show_contact=True)


@bp.route("/photos/<int:photo_id>")
@requires(None)
def photo(photo_id):
    ph = access.get_or_404(Photo, photo_id)
    return uploads.send(svc.photo_file(ph), mimetype="image/jpeg")
