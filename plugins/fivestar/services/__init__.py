"""The five-star evaluation's rules: plain functions, no Flask request.

One file per aggregate: rules (versioned scoring rules), records (service
records from every module plus manual ones, rejections), scoring (monthly
community scores, publishing, amendments), ratings (half-year resident
rating rounds), filing (quarterly filing), batches (five-star batches).
"""

from __future__ import annotations

import datetime as dt

from core.forms import DomainError


class FivestarError(DomainError):
    """A rule of the five-star evaluation refused the input."""


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_end(month: dt.date) -> dt.date:
    """The last day of the month (inclusive)."""
    return next_month(month) - dt.timedelta(days=1)


def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_months(year: int, quarter: int) -> list[dt.date]:
    first = 3 * (quarter - 1) + 1
    return [dt.date(year, first + i, 1) for i in range(3)]


def previous_quarters(day: dt.date, n: int = 4) -> list[tuple[int, int]]:
    """The `n` whole quarters before the quarter of `day`, oldest first."""
    year, q = quarter_of(day)
    out = []
    for _ in range(n):
        q -= 1
        if q == 0:
            year, q = year - 1, 4
        out.append((year, q))
    return list(reversed(out))


def half_of(day: dt.date) -> str:
    return f"{day.year}H{1 if day.month <= 6 else 2}"


def half_bounds(half: str) -> tuple[dt.date, dt.date]:
    year, h = int(half[:4]), int(half[-1])
    return (dt.date(year, 1, 1), dt.date(year, 6, 30)) if h == 1 else (dt.date(year, 7, 1), dt.date(year, 12, 31))
