"""Working days, deadlines and the deadline clock (green / yellow / red)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import chinese_calendar
from flask import current_app
from sqlalchemy import and_, or_, select

from core import clock
from core.extensions import db
from core.models import utcnow

from ..models import (
    ExtraDay,
    Problem,
)

# --- Working days --------------------------------------------------------------

# Dates are the district's (core.clock); a deadline is the last second of its
# district day, stored as naive UTC like every instant.


def end_of_local_day(day: dt.date) -> dt.datetime:
    """The last second of a district day, as stored (naive UTC): a deadline."""
    return clock.end_of_day(day) - dt.timedelta(seconds=1)


def extra_days() -> dict[dt.date, bool]:
    """The district's own working days and days off."""
    return dict(db.session.execute(select(ExtraDay.day, ExtraDay.is_workday)).all())


def is_working_day(day: dt.date, extra: dict[dt.date, bool] | None = None) -> bool:
    """The district's table first, then the national calendar (holidays and
    the weekend days that are worked instead), then plain weekdays for years
    the calendar does not know yet."""
    if extra and day in extra:
        return extra[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: dt.date, n: int, extra: dict[dt.date, bool] | None = None) -> dt.date:
    """The n-th working day after `start` (the start day itself does not count)."""
    day = start
    counted = 0
    while counted < n:
        day += dt.timedelta(days=1)
        if is_working_day(day, extra):
            counted += 1
    return day


def working_days_between(start: dt.date, end: dt.date, extra: dict[dt.date, bool] | None = None) -> int:
    """Working days in (start, end]."""
    if end <= start:
        return 0
    n = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day, extra):
            n += 1
    return n


def deadline_for(issued_at: dt.datetime, days: int, extra=None, due_date: dt.date | None = None) -> dt.datetime:
    """When a unit must have reported: the end of the `days`-th working day
    after the local day of issue, or a fixed due date chosen at triage."""
    if due_date is not None and due_date >= clock.local_date(issued_at):
        return end_of_local_day(due_date)
    return end_of_local_day(add_working_days(clock.local_date(issued_at), days, extra))


def warn_share() -> float:
    return float(current_app.config.get("INQUIRY_WARN_SHARE", 0.75))


def deadline_colour(problem: Problem, now: dt.datetime | None = None, share: float | None = None) -> str:
    """"" (no clock), "green", "yellow" (most of the time used) or "red" (overdue)."""
    if problem.state not in ("issued", "claimed") or not problem.deadline or not problem.issued_at:
        return ""
    now = now or utcnow()
    if now > problem.deadline:
        return "red"
    total = (problem.deadline - problem.issued_at).total_seconds()
    used = (now - problem.issued_at).total_seconds()
    share = warn_share() if share is None else share
    if total <= 0 or used / total >= share:
        return "yellow"
    return "green"


def overdue_condition(now: dt.datetime):
    return and_(Problem.state.in_(("issued", "claimed")), Problem.deadline < now)


# --- Reminders ---------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineWarning:
    """One reminder to send: to the problem's unit (and its community)."""

    problem_id: int
    ref: str
    unit_id: int | None
    community_id: int | None
    level: str  # "yellow": due by the next working day; "red": the deadline has passed
    due: dt.date


def deadline_warnings(community_id: int | None, today: dt.date, extra=None) -> list[DeadlineWarning]:
    """What a reminder run on the district day `today` should send for one
    community (None: problems at district level): a yellow warning for every
    running problem due by the end of the next working day (so a Friday run
    warns of Monday's deadlines), a red one for every problem whose deadline
    passed before `today` began. Plain data, no sending: a periodic task will
    call it per community."""
    extra = extra_days() if extra is None else extra
    start = clock.start_of_day(today)
    horizon = clock.end_of_day(add_working_days(today, 1, extra))
    where = Problem.community_id == community_id if community_id is not None else Problem.community_id.is_(None)
    rows = db.session.execute(
        select(Problem.id, Problem.ref, Problem.unit_id, Problem.community_id, Problem.deadline)
        .where(where, Problem.state.in_(("issued", "claimed")), Problem.deadline.isnot(None),
               or_(Problem.deadline < start, and_(Problem.deadline >= clock.end_of_day(today), Problem.deadline < horizon)))
        .order_by(Problem.deadline, Problem.id)
    )
    return [DeadlineWarning(pid, ref, unit, comm, "red" if deadline < start else "yellow", clock.local_date(deadline))
            for pid, ref, unit, comm, deadline in rows]
