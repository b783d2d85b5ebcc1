"""Quarterly filing: a community submits its quarter (three published
months), the district organisation department files it, which locks the
quarter — afterwards a score changes only by an amendment, marked as made
after filing."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from core import clock
from core.extensions import db
from core.models import utcnow

from ..models import Amendment, MemberScore, QuarterFiling, ScoreMonth
from . import FivestarError, month_end, quarter_months


def filing_of(community_id: int, year: int, quarter: int) -> QuarterFiling | None:
    return db.session.scalar(select(QuarterFiling).where(
        QuarterFiling.community_id == community_id, QuarterFiling.year == year, QuarterFiling.quarter == quarter))


def submit(community_id: int, year: int, quarter: int, user_id: int | None) -> QuarterFiling:
    if quarter not in (1, 2, 3, 4):
        raise FivestarError(_("Choose a quarter."), "quarter")
    months = quarter_months(year, quarter)
    if month_end(months[-1]) >= clock.today():
        raise FivestarError(_("A quarter is submitted after it ends."), "quarter")
    published = db.session.scalar(select(func.count()).select_from(ScoreMonth).where(
        ScoreMonth.community_id == community_id, ScoreMonth.month.in_(months), ScoreMonth.state == "published"))
    if published != 3:
        raise FivestarError(_("Publish the three months of the quarter first."), "quarter")
    f = filing_of(community_id, year, quarter)
    if f is not None and f.state != "returned":
        raise FivestarError(_("This quarter has already been submitted."), "quarter")
    if f is None:
        f = QuarterFiling(community_id=community_id, year=year, quarter=quarter)
        db.session.add(f)
    f.state, f.submitted_at, f.submitted_by_id = "submitted", utcnow(), user_id
    db.session.flush()
    return f


def file(f: QuarterFiling, user_id: int | None, note: str = "") -> None:
    if f.state != "submitted":
        raise FivestarError(_("Only a submitted quarter can be filed."))
    f.state, f.filed_at, f.filed_by_id, f.note = "filed", utcnow(), user_id, note.strip()[:300]


def send_back(f: QuarterFiling, note: str) -> None:
    if f.state != "submitted":
        raise FivestarError(_("Only a submitted quarter can be returned."))
    if not note.strip():
        raise FivestarError(_("Say why the quarter is returned."), "note")
    f.state, f.note = "returned", note.strip()[:300]


def ledger(f: QuarterFiling) -> list[dict]:
    """The quarter's ledger: each member's three months, amendments and total."""
    months = quarter_months(f.year, f.quarter)
    rows = db.session.execute(
        select(MemberScore, ScoreMonth.month).join(ScoreMonth, ScoreMonth.id == MemberScore.month_id)
        .where(ScoreMonth.community_id == f.community_id, ScoreMonth.month.in_(months))
        .order_by(MemberScore.member_id))
    out: dict[int, dict] = {}
    for score, month in rows:
        d = out.setdefault(score.member_id, {"member": score.member, "months": [None, None, None], "amended": 0.0,
                                             "hours": 0.0, "records": 0, "total": 0.0})
        d["months"][months.index(month)] = score.points
        d["amended"] = round(d["amended"] + score.amended, 2)
        d["hours"] = round(d["hours"] + score.hours, 2)
        d["records"] += score.n_records
        d["total"] = round(d["total"] + score.total, 2)
    return list(out.values())


def amendments(f: QuarterFiling) -> list[Amendment]:
    months = quarter_months(f.year, f.quarter)
    return list(db.session.scalars(
        select(Amendment).join(MemberScore, MemberScore.id == Amendment.score_id)
        .join(ScoreMonth, ScoreMonth.id == MemberScore.month_id)
        .where(ScoreMonth.community_id == f.community_id, ScoreMonth.month.in_(months)).order_by(Amendment.at)))
