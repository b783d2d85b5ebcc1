"""Monthly community scores: computed after the month ends (by the rules in
force on its first day), reviewed, published — then frozen. A published
score changes only by an amendment with a reason, shown as such.

Every score is the sum of its lines; each line names the record (or the
adjustment, or the rating) and the rule snapshot that produced its points,
so the explanation always adds up."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from core import clock
from core.extensions import db
from core.models import GridNode, utcnow

from ..models import Adjustment, Amendment, MemberScore, RuleSet, ScoreLine, ScoreMonth
from . import FivestarError, month_end, quarter_of
from . import ratings as ratings_svc
from . import records as records_svc
from . import rules as rules_svc


def _r(x: float) -> float:
    return round(x + 0.0, 2)


def score_member(rule_set: RuleSet, records, rejected: dict, adjustments=(), rating=None) -> tuple[list[dict], dict]:
    """Score one member's month. Pure: returns (lines, totals); the lines add up
    to totals["points"]. `rating` is (average, count, half) or None."""
    lines: list[dict] = []
    used: dict[int, float] = {}
    record_sum = hours = 0.0
    n = 0
    for rec in records:
        n += 1
        hours += rec.hours or 0
        line = {"what": "record", "source": rec.source, "key": rec.key, "kind": rec.kind, "title": rec.title,
                "day": rec.date, "hours": rec.hours or 0, "rule": None, "points": 0.0, "note": "", "reason": "",
                "evidence": (rec.evidence or "")[:300], "link": (rec.link or "")[:300]}
        found = rules_svc.match(rule_set, rec.source, rec.kind)
        if (rec.source, rec.key) in rejected:
            line["note"], line["reason"] = "rejected", rejected[(rec.source, rec.key)][:300]
        elif not rec.confirmed:
            line["note"] = "unconfirmed"
        elif found is None:
            line["note"] = "no_rule"
        else:
            i, rule = found
            line["rule"] = {**rule, "v": rule_set.number, "i": i}
            raw = rule["points"] * (rec.hours or 0) if rule["per"] == "hour" else rule["points"]
            pts = raw
            if rule.get("cap") is not None:
                room = max(0.0, rule["cap"] - used.get(i, 0.0))
                if raw > room:
                    pts, line["note"] = room, "capped"
            used[i] = used.get(i, 0.0) + pts
            line["points"] = _r(pts)
            record_sum += line["points"]
        lines.append(line)
    if rule_set.month_cap is not None and record_sum > rule_set.month_cap:
        cut = _r(rule_set.month_cap - record_sum)
        lines.append({"what": "cap", "title": "", "rule": {"month_cap": rule_set.month_cap, "v": rule_set.number},
                      "points": cut, "note": "capped", "hours": 0})
    for adj in adjustments:
        lines.append({"what": "adjustment", "source": "", "key": f"adjustment:{adj.id}", "kind": adj.code,
                      "title": adj.title, "day": adj.month, "hours": 0,
                      "rule": {"item": adj.code, "points": adj.points, "v": rule_set.number},
                      "points": _r(adj.points), "note": "", "reason": adj.reason[:300]})
    if rating is not None and rule_set.rating_weight:
        avg, count, half = rating
        lines.append({"what": "rating", "title": half, "hours": 0,
                      "rule": {"weight": rule_set.rating_weight, "average": avg, "count": count,
                               "v": rule_set.number},
                      "points": _r(avg * rule_set.rating_weight), "note": ""})
    for pos, line in enumerate(lines):
        line["position"] = pos
    total = _r(sum(line["points"] for line in lines))
    return lines, {"points": total, "hours": _r(hours), "n_records": n}


def month_of(community_id: int, month: dt.date) -> ScoreMonth | None:
    return db.session.scalar(select(ScoreMonth).where(ScoreMonth.community_id == community_id,
                                                      ScoreMonth.month == month))


def is_filed(community_id: int, month: dt.date) -> bool:
    from .filing import filing_of

    year, q = quarter_of(month)
    f = filing_of(community_id, year, q)
    return f is not None and f.state == "filed"


def is_published(community_id: int, day: dt.date) -> bool:
    m = month_of(community_id, day.replace(day=1))
    return m is not None and m.state == "published"


def check_computable(community_id: int, month: dt.date) -> ScoreMonth | None:
    """Refuse a month that has not ended or is published; the month's row if any."""
    if month_end(month) >= clock.today():
        raise FivestarError(_("A month is scored after it ends."), "month")
    sm = month_of(community_id, month)
    if sm is not None and sm.state == "published":
        raise FivestarError(_("This month is published: correct a score with an amendment."), "month")
    return sm


def compute_month(community: GridNode, month: dt.date, user_id: int | None = None) -> ScoreMonth:
    """(Re)compute a community's month from the records; refused once published."""
    month = month.replace(day=1)
    sm = check_computable(community.id, month)
    rule_set = rules_svc.in_force(month)
    if sm is None:
        sm = ScoreMonth(community_id=community.id, month=month, rule_set_id=rule_set.id)
        db.session.add(sm)
        db.session.flush()
    else:
        db.session.execute(delete(ScoreLine).where(ScoreLine.score_id.in_(
            select(MemberScore.id).where(MemberScore.month_id == sm.id))))
        db.session.execute(delete(MemberScore).where(MemberScore.month_id == sm.id))
        sm.rule_set_id, sm.state, sm.computed_at, sm.reviewed_by_id = rule_set.id, "computed", utcnow(), None
    members = records_svc.members_of(community.id)
    ids = [m.id for m in members]
    records_svc.sync_members(ids)
    by_member: dict[int, list] = {i: [] for i in ids}
    for rec in records_svc.collect(community.id, ids, month, month_end(month)):
        by_member.setdefault(rec.member_id, []).append(rec)
    rejected = records_svc.rejections(community.id)
    adjustments: dict[int, list] = {}
    for adj in db.session.scalars(select(Adjustment).where(Adjustment.community_id == community.id,
                                                          Adjustment.month == month).order_by(Adjustment.id)):
        adjustments.setdefault(adj.member_id, []).append(adj)
    ratings = ratings_svc.latest_averages(community.id, ids, month)
    for member_id in ids:
        lines, totals = score_member(rule_set, by_member.get(member_id, []), rejected,
                                     adjustments.get(member_id, []), ratings.get(member_id))
        score = MemberScore(month_id=sm.id, member_id=member_id, points=totals["points"], hours=totals["hours"],
                            n_records=totals["n_records"])
        score.lines = [ScoreLine(**line) for line in lines]
        db.session.add(score)
    db.session.flush()
    return sm


def review(sm: ScoreMonth, user_id: int | None) -> None:
    if sm.state != "computed":
        raise FivestarError(_("Only a computed month can be marked reviewed."))
    sm.state, sm.reviewed_by_id = "reviewed", user_id


def publish(sm: ScoreMonth, user_id: int | None) -> None:
    if sm.state != "reviewed":
        raise FivestarError(_("Review the month before publishing it."))
    sm.state, sm.published_at, sm.published_by_id = "published", utcnow(), user_id


def add_adjustment(*, community_id: int, member_id: int, month: dt.date, code: str, reason: str,
                   user_id: int | None) -> Adjustment:
    month = month.replace(day=1)
    sm = month_of(community_id, month)
    if sm is not None and sm.state == "published":
        raise FivestarError(_("This month is published: correct a score with an amendment."), "month")
    it = rules_svc.item(rules_svc.in_force(month), code)
    if it is None:
        raise FivestarError(_("Choose an item of the rules in force that month."), "code")
    if not reason.strip():
        raise FivestarError(_("Give the reason."), "reason")
    adj = Adjustment(community_id=community_id, member_id=member_id, month=month, code=code, title=it["title"],
                     points=it["points"], reason=reason.strip(), by_id=user_id)
    db.session.add(adj)
    db.session.flush()
    return adj


def amend(score: MemberScore, delta: float, reason: str, user_id: int | None) -> Amendment:
    """Correct a published score; the amendment is listed with its reason."""
    if score.month.state != "published":
        raise FivestarError(_("Only a published score is amended; recompute the month instead."))
    if not reason.strip():
        raise FivestarError(_("Give the reason for the amendment."), "reason")
    if delta == 0:
        raise FivestarError(_("An amendment changes the score."), "delta")
    row = Amendment(score_id=score.id, delta=delta, reason=reason.strip(), by_id=user_id,
                    after_filing=is_filed(score.month.community_id, score.month.month))
    db.session.add(row)
    score.amended = _r((score.amended or 0) + delta)
    db.session.flush()
    return row


def quarter_totals(member_ids, quarters) -> dict[tuple[int, int, int], float]:
    """{(member, year, quarter): published points incl. amendments} in one query."""
    if not member_ids or not quarters:
        return {}
    first = min(dt.date(y, 3 * (q - 1) + 1, 1) for y, q in quarters)
    last = max(dt.date(y, 3 * (q - 1) + 3, 1) for y, q in quarters)
    rows = db.session.execute(
        select(MemberScore.member_id, ScoreMonth.month, func.sum(MemberScore.points + MemberScore.amended))
        .join(ScoreMonth, ScoreMonth.id == MemberScore.month_id)
        .where(MemberScore.member_id.in_(list(member_ids)), ScoreMonth.state == "published",
               ScoreMonth.month >= first, ScoreMonth.month <= last)
        .group_by(MemberScore.member_id, ScoreMonth.month))
    out: dict = {}
    for member_id, month, pts in rows:
        key = (member_id, *quarter_of(month))
        out[key] = _r(out.get(key, 0.0) + (pts or 0))
    return out
