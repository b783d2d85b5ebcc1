"""One problem: its page, the contact reveal and its photos."""


from __future__ import annotations

from flask import abort, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.audit import record
from core.extensions import db
from core.models import utcnow
from core.privacy import mask_name, mask_phone
from core.security import can, requires
from core.web import render

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
    _is_handler,
    _locale,
    _unit_choices,
    get_problem,
    place_labels,
)


@bp.route("/p/<int:problem_id>")
@requires(None)
def problem(problem_id):
    p = get_problem(problem_id)
    return _problem_page(p)


def _problem_page(p: Problem, forms=None, status=200):
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
    triage.category_id.choices = _category_choices()
    triage.unit_id.choices = _unit_choices()
    proposals = {c.id: {"unit": svc.proposed_unit_id(p.node, c), "days": c.deadline_days} for c in _categories()}
    can_triage = can("inquiry.triage") and p.state in ("new", "returned")
    events = svc.timeline(p.id)
    ctx = dict(
        p=p, place=place_labels([p])[p.id], loc=loc, now=utcnow(), clock=svc.clock(p), events=events, states=svc.STATE_TITLES,
        actions=svc.ACTION_TITLES, channels=svc.CHANNEL_TITLES, outcomes=svc.OUTCOME_TITLES,
        priorities=svc.PRIORITY_TITLES, category_title=svc.category_title,
        triage=triage, proposals=proposals, can_triage=can_triage,
        reject_form=forms.get("reject") or ReasonForm(formdata=None),
        dup_form=forms.get("duplicate") or DuplicateForm(formdata=None),
        opinion_form=forms.get("opinion") or NoteForm(formdata=None),
        candidates=svc.duplicate_candidates(p) if can_triage else [],
        is_unit=_is_handler() and p.unit_id == current_user.organisation_id,
        return_form=forms.get("return") or ReasonForm(formdata=None),
        ext_form=forms.get("extension") or ExtensionForm(formdata=None),
        result_form=forms.get("result") or ResultForm(formdata=None),
        visit_form=forms.get("visit") or VisitForm(formdata=None),
        note_form=forms.get("note") or NoteForm(formdata=None),
        decision_form=DecisionForm(formdata=None),
        pending_ext=svc.pending_extension(p.id),
        extensions=list(db.session.scalars(select(Extension).where(Extension.problem_id == p.id).order_by(Extension.id))),
        visits=list(db.session.scalars(select(ReturnVisit).where(ReturnVisit.problem_id == p.id).order_by(ReturnVisit.id))),
        photos=[ph for ph in p.photos if ph.stage == "report"],
        result_photos=[ph for ph in p.photos if ph.stage == "result"],
        drafts=list(db.session.scalars(select(AssignmentSheet).where(AssignmentSheet.state == "draft").order_by(AssignmentSheet.number))),
        show_contact=request.args.get("contact") == "1" and can("inquiry.contact"),
        mask_phone=mask_phone, mask_name=mask_name,
        allowed=lambda action: svc.allowed(action, p.state),
    )
    from flask import make_response

    return make_response(render("inquiry/problem.html", **ctx), status)


def _act(problem_id, fn, form_key=None, form=None, ok=None):
    """Run a service on a problem; on refusal show the page again with the message."""
    p = get_problem(problem_id)
    if form is not None and not form.validate_on_submit():
        flash(_("Please correct the marked fields."), "error")
        return _problem_page(p, {form_key: form}, 422)
    try:
        fn(p)
        db.session.commit()
    except svc.InquiryError as exc:
        _fail(exc, form)
        p = get_problem(problem_id)
        return _problem_page(p, {form_key: form} if form_key else None, 409 if isinstance(exc, svc.TransitionError) else 422)
    if ok:
        flash(ok, "success")
    return redirect(url_for("inquiry.problem", problem_id=problem_id))


@bp.route("/p/<int:problem_id>/contact", methods=["POST"])
@requires("inquiry.contact")
def reveal_contact(problem_id):
    p = get_problem(problem_id)
    svc.record_contact_view(p, current_user)
    record("inquiry.contact_view", p, summary=p.ref, community_id=p.community_id)
    db.session.commit()
    return redirect(url_for("inquiry.problem", problem_id=problem_id, contact=1))


@bp.route("/photos/<int:photo_id>")
@requires(None)
def photo(photo_id):
    ph = db.session.get(Photo, photo_id)
    if ph is None:
        abort(404)
    get_problem(ph.problem_id)
    path = svc.photo_path(ph)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=3600)
