"""Return visits, close-out and the follow-up check."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from core import clock
from core.extensions import db
from core.models import utcnow

from ..models import (
    OUTCOMES,
    Event,
    Problem,
    ReturnVisit,
)
from .deadlines import deadline_for, extra_days, working_days_between
from .stats import bump, month_key
from .workflow import OUTCOME_TITLES, InquiryError, _actor, check, transition


def followup_days() -> int:
    return int(current_app.config.get("INQUIRY_FOLLOWUP_DAYS", 30))


def return_visit(problem: Problem, user, outcome: str, note: str = "", now=None) -> Problem:
    """Record the reporter's verdict: satisfied closes out, dissatisfied reopens
    to the unit with a fresh deadline, unreachable three times closes out."""
    if outcome not in OUTCOMES:
        raise InquiryError(_("Choose the outcome of the return visit."), field="outcome")
    now = now or utcnow()
    frm = problem.state
    if outcome in ("satisfied", "basically_satisfied"):
        check("close", frm)
    elif outcome == "dissatisfied":
        check("reopen", frm)
        if not (note or "").strip():
            raise InquiryError(_("Write down what the reporter is dissatisfied with."), field="note")
    else:
        check("unreachable", frm)
        last = db.session.scalar(select(func.max(ReturnVisit.at)).where(ReturnVisit.problem_id == problem.id,
                                                                        ReturnVisit.outcome == "unreachable"))
        # Three attempts close the problem: they must be real attempts, one a day.
        if last is not None and clock.local_date(last) >= clock.local_date(now):
            raise InquiryError(_("An attempt to reach the reporter was recorded today already; try again on another day."),
                               field="outcome")
    month = month_key(now)
    key = (problem.community_id, problem.category_id, problem.unit_id)
    note = (note or "").strip()
    label = str(OUTCOME_TITLES[outcome]) + (f": {note}" if note else "")
    unreachable_close = outcome == "unreachable" and problem.unreachable_count + 1 >= 3
    if outcome in ("satisfied", "basically_satisfied") or unreachable_close:
        extra = extra_days()
        on_time = bool(problem.reported_at and problem.deadline and problem.reported_at <= problem.deadline)
        wd = working_days_between(clock.local_date(problem.issued_at or problem.created_at), clock.local_date(now), extra)
        transition(problem, "close", user, note=label, closed_at=now, outcome=outcome, on_time=on_time,
                   working_days_to_close=wd, followup_due=clock.local_date(now) + dt.timedelta(days=followup_days()),
                   unreachable_count=Problem.unreachable_count + (1 if outcome == "unreachable" else 0), now=now)
        bump(month, *key, closed=1, closed_on_time=1 if on_time else 0, working_days=wd,
             visits=0 if unreachable_close else 1, satisfied=0 if unreachable_close else 1)
    elif outcome == "dissatisfied":
        deadline = deadline_for(now, problem.deadline_days or 10, extra_days())
        transition(problem, "reopen", user, note=label, outcome=outcome, reopen_count=Problem.reopen_count + 1,
                   issued_at=now, deadline=deadline, reported_at=None, now=now)
        bump(month, *key, visits=1, reopens=1)
    else:
        transition(problem, "unreachable", user, note=label, outcome=outcome,
                   unreachable_count=Problem.unreachable_count + 1, now=now)
    db.session.add(ReturnVisit(problem_id=problem.id, outcome=outcome, note=note, at=now, by_id=getattr(user, "id", None)))
    db.session.flush()
    return problem


def record_followup(problem: Problem, user, note: str, now=None) -> Problem:
    check("followup", problem.state)
    if problem.followup_done_at is not None:
        raise InquiryError(_("The follow-up check has been recorded already."))
    if not (note or "").strip():
        raise InquiryError(_("Write down what the follow-up check found."), field="note")
    now = now or utcnow()
    return transition(problem, "followup", user, note=note.strip(), followup_done_at=now, followup_note=note.strip(), now=now)


def record_contact_view(problem: Problem, user) -> None:
    db.session.add(Event(problem_id=problem.id, user_id=user.id, actor=_actor(user), action="view_contact",
                         from_state=problem.state, to_state=problem.state))
