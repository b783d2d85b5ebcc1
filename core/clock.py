"""The one clock: "now" and "today" in the district's time zone.

Instants are stored in UTC as naive datetimes (the database columns are
``DateTime`` without a zone). Everything a person reads as a date — "today",
a deadline, the visit week, a leave period, a form default, a report month —
is a date in the district's time zone (``TIMEZONE``, default
``Asia/Shanghai``). On a server whose clock runs in UTC, 00:00–08:00 Beijing
time is still "yesterday" by the server's own local date: ask this module instead.

Tests freeze the clock with :func:`frozen`::

    with clock.frozen("2026-03-01 23:30"):   # UTC; 07:30 on 2 March in Beijing
        assert clock.today() == dt.date(2026, 3, 2)
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"

# A frozen UTC instant (aware), set by frozen(); None: the real clock.
_frozen: dt.datetime | None = None


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone() -> ZoneInfo:
    """The district's time zone (the app's ``TIMEZONE``; Asia/Shanghai outside an app)."""
    from flask import current_app, has_app_context

    name = current_app.config.get("TIMEZONE") if has_app_context() else None
    return _zone(name or DEFAULT_TIMEZONE)


def _utc_aware() -> dt.datetime:
    return _frozen if _frozen is not None else dt.datetime.now(dt.UTC)


def utcnow() -> dt.datetime:
    """Now, as stored: a naive UTC datetime."""
    return _utc_aware().replace(tzinfo=None)


def now() -> dt.datetime:
    """Now in the district's time zone (aware)."""
    return _utc_aware().astimezone(zone())


def today() -> dt.date:
    """Today's date in the district."""
    return now().date()


def _as_utc(instant: dt.datetime) -> dt.datetime:
    return instant.replace(tzinfo=dt.UTC) if instant.tzinfo is None else instant


def local(instant: dt.datetime | None) -> dt.datetime | None:
    """A stored (naive UTC) or aware instant in the district's time zone."""
    if instant is None:
        return None
    return _as_utc(instant).astimezone(zone())


def local_date(instant: dt.datetime | None) -> dt.date | None:
    """The district date on which a stored instant fell."""
    value = local(instant)
    return value.date() if value is not None else None


def start_of_day(day: dt.date) -> dt.datetime:
    """The first instant of a district day, as stored (naive UTC)."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone())
    return start.astimezone(dt.UTC).replace(tzinfo=None)


def end_of_day(day: dt.date) -> dt.datetime:
    """The end of a district day, as stored: the first instant of the next day.

    Use it as an exclusive bound (``at < end_of_day(d)``)."""
    return start_of_day(day + dt.timedelta(days=1))


def day_bounds(first: dt.date, last: dt.date | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Half-open stored-instant bounds of the district days ``first`` … ``last``."""
    return start_of_day(first), end_of_day(last or first)


def to_utc(day: dt.date, time: dt.time) -> dt.datetime:
    """A district wall-clock time on ``day``, as stored (naive UTC)."""
    aware = dt.datetime.combine(day, time, tzinfo=zone())
    return aware.astimezone(dt.UTC).replace(tzinfo=None)


def iso_week(day: dt.date | None = None) -> tuple[int, int]:
    """(ISO year, ISO week) of ``day`` (default: today in the district)."""
    year, week, _weekday = (day or today()).isocalendar()
    return year, week


def week_start(day: dt.date | None = None) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    day = day or today()
    return day - dt.timedelta(days=day.weekday())


def month_start(day: dt.date | None = None) -> dt.date:
    day = day or today()
    return day.replace(day=1)


def _parse(at) -> dt.datetime:
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    elif isinstance(at, dt.date) and not isinstance(at, dt.datetime):
        at = dt.datetime.combine(at, dt.time(12))
    return _as_utc(at).astimezone(dt.UTC)


@contextmanager
def frozen(at):
    """Freeze the clock at ``at`` (a UTC instant: naive datetimes and ISO
    strings are read as UTC, a date as its noon UTC) for the ``with`` block."""
    global _frozen
    before = _frozen
    _frozen = _parse(at)
    try:
        yield _frozen
    finally:
        _frozen = before


def freeze(at) -> None:
    """Freeze the clock until :func:`unfreeze` (for fixtures that cannot use a block)."""
    global _frozen
    _frozen = _parse(at)


def unfreeze() -> None:
    global _frozen
    _frozen = None
