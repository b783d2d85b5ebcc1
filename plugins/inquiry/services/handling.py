"""The unit's side: claim, return, extension requests, result; and supervision."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update

from core import clock
from core.extensions import db
from core.models import utcnow

from ..models import (
    Extension,
    Problem,
)
from .deadlines import add_working_days, end_of_local_day, extra_days
from .intake import ReadyPhoto, store_photos
from .stats import bump, month_key
from .workflow import InquiryError, check, transition

# --- The unit's side ---------------------------------------------------------------------------


def _unit_guard(problem: Problem, user) -> None:
    if not getattr(user, "organisation_id", None) or problem.unit_id != user.organisation_id:
        raise InquiryError(_("This problem is not assigned to your unit."))


def claim(problem: Problem, user, now=None) -> Problem:
    """The unit signs for the problem; of two handlers at once, one wins."""
    _unit_guard(problem, user)
    now = now or utcnow()
    return transition(problem, "claim", user, extra_where=(Problem.unit_id == user.organisation_id,),
                      claimed_at=now, claimed_by_id=user.id, now=now)


def return_to_triage(problem: Problem, user, reason: str, now=None) -> Problem:
    """The unit says the problem is not theirs: back to triage, counted against the unit."""
    _unit_guard(problem, user)
    check("return", problem.state)
    reason = (reason or "").strip()
    if not reason:
        raise InquiryError(_("Say why the problem is not for your unit."), field="reason")
    now = now or utcnow()
    unit_id = problem.unit_id
    community_id, category_id = problem.community_id, problem.category_id
    transition(problem, "return", user, note=reason, event_unit_id=unit_id, now=now, reason=reason,
               unit_id=None, sheet_id=None, issued_at=None, deadline=None, claimed_at=None, claimed_by_id=None,
               returns_count=Problem.returns_count + 1)
    bump(month_key(now), community_id, category_id, unit_id, returns=1)
    return problem


def pending_extension(problem_id: int) -> Extension | None:
    return db.session.scalar(select(Extension).where(Extension.problem_id == problem_id, Extension.state == "pending"))


def request_extension(problem: Problem, user, days: int, reason: str, now=None) -> Extension:
    _unit_guard(problem, user)
    check("request_extension", problem.state)
    now = now or utcnow()
    if problem.deadline and now > problem.deadline:
        raise InquiryError(_("The deadline has passed: an extension must be asked for before it."))
    if not days or not 1 <= int(days) <= 30:
        raise InquiryError(_("Ask for 1 to 30 working days."), field="days")
    if not (reason or "").strip():
        raise InquiryError(_("Give the reason for the extension."), field="reason")
    if pending_extension(problem.id) is not None:
        raise InquiryError(_("An extension request is already waiting for a decision."))
    transition(problem, "request_extension", user, note=_("%(n)s working days: %(reason)s", n=int(days), reason=reason.strip()), now=now)
    ext = Extension(problem_id=problem.id, days=int(days), reason=reason.strip(), requested_by_id=user.id, requested_at=now)
    db.session.add(ext)
    db.session.flush()
    return ext


def decide_extension(problem: Problem, ext: Extension, user, approve: bool, note: str = "", now=None) -> Extension:
    now = now or utcnow()
    check("approve_extension", problem.state)
    res = db.session.execute(
        update(Extension).where(Extension.id == ext.id, Extension.state == "pending")
        .values(state="approved" if approve else "refused", decided_by_id=user.id, decided_at=now, decision_note=(note or "").strip())
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:
        db.session.rollback()
        raise InquiryError(_("This extension request has been decided already."))
    if approve:
        new_deadline = end_of_local_day(add_working_days(clock.local_date(problem.deadline or now), ext.days, extra_days()))
        transition(problem, "approve_extension", user, note=_("New deadline %(due)s", due=clock.local_date(new_deadline).isoformat()),
                   deadline=new_deadline, extension_count=Problem.extension_count + 1, now=now)
    else:
        transition(problem, "refuse_extension", user, note=(note or "").strip(), now=now)
    db.session.expire(ext)
    return ext


def report_result(problem: Problem, user, text: str, photos: list[ReadyPhoto] | None = None, now=None) -> Problem:
    _unit_guard(problem, user)
    check("report_result", problem.state)
    text = (text or "").strip()
    if not text:
        raise InquiryError(_("Describe what was done."), field="result_text")
    now = now or utcnow()
    transition(problem, "report_result", user, note=text[:200], reported_at=now, result_text=text, now=now)
    store_photos(problem.id, photos or [], "result", now)
    return problem


# --- Supervision, return visit, close-out, follow-up ------------------------------------------


def supervise(problem: Problem, user, note: str = "", now=None) -> Problem:
    check("supervise", problem.state)
    if problem.supervised:
        raise InquiryError(_("This problem is under supervision already."))
    now = now or utcnow()
    transition(problem, "supervise", user, note=(note or "").strip(), supervised=True, supervised_at=now, now=now)
    bump(month_key(now), problem.community_id, problem.category_id, problem.unit_id, supervisions=1)
    return problem
