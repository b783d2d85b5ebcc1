"""Working days, deadlines and the deadline clock (green / yellow / red)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from flask import current_app
from sqlalchemy import and_, select

from core.extensions import db
from core.models import utcnow

from ..models import (
    ExtraDay,
    Problem,
)

# --- Working days --------------------------------------------------------------

LOCAL_OFFSET = dt.timedelta(hours=8)  # Asia/Shanghai, no daylight saving


def local_date(moment: dt.datetime) -> dt.date:
    return (moment + LOCAL_OFFSET).date()


def local_today(now: dt.datetime | None = None) -> dt.date:
    return local_date(now or utcnow())


def end_of_local_day(day: dt.date) -> dt.datetime:
    """The last second of a local day, as naive UTC."""
    return dt.datetime.combine(day, dt.time(23, 59, 59)) - LOCAL_OFFSET


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
    if due_date is not None and due_date >= local_date(issued_at):
        return end_of_local_day(due_date)
    return end_of_local_day(add_working_days(local_date(issued_at), days, extra))


def warn_share() -> float:
    return float(current_app.config.get("INQUIRY_WARN_SHARE", 0.75))


def clock(problem: Problem, now: dt.datetime | None = None, share: float | None = None) -> str:
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
