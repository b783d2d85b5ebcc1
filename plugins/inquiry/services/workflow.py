"""The life of a problem: its states, the allowed transitions, and the one
function that moves it (a conditional UPDATE whose row count decides who wins
when two people act at once, writing the timeline entry in the same transaction)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from core.extensions import db
from core.forms import DomainError
from core.models import utcnow

from ..models import (
    Event,
    Problem,
)


class InquiryError(DomainError):
    """A change the rules of Square Inquiry refuse; str() is the user's
    message, `field` the form field it belongs to (core.forms.show_error)."""


class TransitionError(InquiryError):
    """The problem's state does not allow this step (or changed meanwhile)."""


# --- States and the transitions between them --------------------------------

STATE_TITLES = {
    "new": _l("Waiting for triage"),
    "returned": _l("Returned by the unit"),
    "triaged": _l("Triaged"),
    "issued": _l("Issued to the unit"),
    "claimed": _l("Being handled"),
    "reported": _l("Waiting for return visit"),
    "closed": _l("Closed out"),
    "rejected": _l("Rejected"),
    "duplicate": _l("Duplicate"),
    "filed": _l("Filed as opinion"),
}
CHANNEL_TITLES = {
    "grid_worker": _l("Grid worker"),
    "visit": _l("Visit finding"),
    "staff": _l("Community staff"),
    "resident": _l("Resident (public form)"),
    "open311": _l("Open311 API"),
    "station": _l("Pioneer station (opinion post)"),
}
PRIORITY_TITLES = {"normal": _l("Normal"), "urgent": _l("Urgent")}
OUTCOME_TITLES = {
    "satisfied": _l("Satisfied"),
    "basically_satisfied": _l("Basically satisfied"),
    "dissatisfied": _l("Dissatisfied"),
    "unreachable": _l("Unreachable"),
}
ACTION_TITLES = {
    "report": _l("Reported"),
    "verify": _l("Verified and triaged"),
    "reject": _l("Rejected as invalid"),
    "duplicate": _l("Marked as duplicate"),
    "file_opinion": _l("Filed as opinion"),
    "add_to_sheet": _l("Put on an assignment sheet"),
    "remove_from_sheet": _l("Taken off the assignment sheet"),
    "issue": _l("Issued to the unit"),
    "claim": _l("Signed for by the unit"),
    "return": _l("Returned by the unit"),
    "request_extension": _l("Extension requested"),
    "approve_extension": _l("Extension approved"),
    "refuse_extension": _l("Extension refused"),
    "report_result": _l("Result reported"),
    "close": _l("Closed out after return visit"),
    "reopen": _l("Reopened: reporter dissatisfied"),
    "unreachable": _l("Return visit: reporter unreachable"),
    "supervise": _l("Put under supervision"),
    "followup": _l("Follow-up check"),
    "view_contact": _l("Reporter contact viewed"),
}

# action: (states it may start from, state it leads to; None = unchanged)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "verify": (frozenset({"new", "returned"}), "triaged"),
    "reject": (frozenset({"new", "returned"}), "rejected"),
    "duplicate": (frozenset({"new", "returned"}), "duplicate"),
    "file_opinion": (frozenset({"new", "returned"}), "filed"),
    "add_to_sheet": (frozenset({"triaged"}), None),
    "remove_from_sheet": (frozenset({"triaged"}), None),
    "issue": (frozenset({"triaged"}), "issued"),
    "claim": (frozenset({"issued"}), "claimed"),
    "return": (frozenset({"issued", "claimed"}), "returned"),
    "request_extension": (frozenset({"issued", "claimed"}), None),
    "approve_extension": (frozenset({"issued", "claimed"}), None),
    "refuse_extension": (frozenset({"issued", "claimed"}), None),
    "report_result": (frozenset({"claimed"}), "reported"),
    "close": (frozenset({"reported"}), "closed"),
    "reopen": (frozenset({"reported"}), "claimed"),
    "unreachable": (frozenset({"reported"}), None),
    "supervise": (frozenset({"triaged", "issued", "claimed", "reported"}), None),
    "followup": (frozenset({"closed"}), None),
}


def allowed(action: str, state: str) -> bool:
    return state in TRANSITIONS[action][0]


def target_state(action: str, state: str) -> str:
    return TRANSITIONS[action][1] or state


def check(action: str, state: str) -> None:
    if not allowed(action, state):
        raise TransitionError(
            _(
                "This cannot be done now: the problem is “%(state)s”. "
                "“%(action)s” needs it to be %(needed)s.",
                state=str(STATE_TITLES[state]),
                action=str(ACTION_TITLES[action]),
                needed=" / ".join(f"“{STATE_TITLES[s]}”" for s in sorted(TRANSITIONS[action][0])),
            )
        )


def _actor(user) -> str:
    return getattr(user, "display_name", None) or ""


def transition(problem: Problem, action: str, user, note: str = "", extra_where=(), event_unit_id=None, **values) -> Problem:
    """Move `problem` by `action`, atomically, and write the timeline entry.

    The UPDATE only matches while the problem is still in the state it was
    read in, so of two people acting at once exactly one wins; the other gets
    a TransitionError and nothing of theirs is saved.
    """
    frm = problem.state
    check(action, frm)
    to = target_state(action, frm)
    now = values.pop("now", None) or utcnow()
    stmt = (
        update(Problem)
        .where(Problem.id == problem.id, Problem.state == frm, Problem.version == problem.version, *extra_where)
        .values(state=to, version=Problem.version + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if db.session.execute(stmt).rowcount != 1:
        db.session.rollback()
        raise TransitionError(
            _("Someone else changed this problem a moment ago; nothing was saved. Reload the page to see its state.")
        )
    db.session.add(
        Event(
            problem_id=problem.id,
            at=now,
            user_id=getattr(user, "id", None),
            actor=_actor(user),
            action=action,
            from_state=frm,
            to_state=to,
            unit_id=event_unit_id if event_unit_id is not None else problem.unit_id,
            note=note or "",
        )
    )
    db.session.flush()
    db.session.expire(problem)
    return problem


def timeline(problem_id: int) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.problem_id == problem_id).order_by(Event.at, Event.id)))
