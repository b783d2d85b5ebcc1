"""Five-star batches: the district opens a batch with criteria; the system
proposes the members who meet them, with the evidence; communities nominate;
the department reviews; a public notice period (公示) during which anyone may
object; objections answered; then the award and its certificates."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import func, select

from core import clock
from core.extensions import db
from core.models import utcnow

from ..models import Batch, Nomination, Objection, Rejection
from . import FivestarError, previous_quarters, quarter_months, scoring
from . import ratings as ratings_svc
from . import records as records_svc
from . import rules as rules_svc


def open_batch(*, number: int, title: str, opened_on: dt.date, min_quarter_score: float, min_rating: float,
               no_rejected: bool = True, notice_days: int = 7) -> Batch:
    node = rules_svc.district_node()
    if db.session.scalar(select(Batch.id).where(Batch.number == number)) is not None:
        raise FivestarError(_("A batch with this number exists."), "number")
    if not 1 <= notice_days <= 30:
        raise FivestarError(_("The notice period lasts 1 to 30 days."), "notice_days")
    if not 1 <= min_rating <= 5:
        raise FivestarError(_("A rating lies between 1 and 5 stars."), "min_rating")
    b = Batch(node_id=node.id, number=number, title=title.strip() or f"第{number}批", opened_on=opened_on,
              min_quarter_score=min_quarter_score, min_rating=min_rating, no_rejected=no_rejected,
              notice_days=notice_days)
    db.session.add(b)
    db.session.flush()
    return b


def quarters(batch: Batch) -> list[tuple[int, int]]:
    return previous_quarters(batch.opened_on, 4)


def period(batch: Batch) -> tuple[dt.date, dt.date]:
    qs = quarters(batch)
    first = quarter_months(*qs[0])[0]
    return first, batch.opened_on


def evidence(batch: Batch, member_ids) -> dict[int, dict]:
    """Each member's standing against the batch's criteria, with the reasons."""
    qs = quarters(batch)
    totals = scoring.quarter_totals(member_ids, qs)
    since, until = period(batch)
    rejected = dict(db.session.execute(
        select(Rejection.member_id, func.count()).where(Rejection.member_id.in_(list(member_ids)),
                                                        Rejection.day >= since, Rejection.day < until)
        .group_by(Rejection.member_id)).all()) if member_ids else {}
    out = {}
    for mid in member_ids:
        q = [{"quarter": f"{y}Q{n}", "points": totals.get((mid, y, n), 0.0)} for y, n in qs]
        rating = ratings_svc.member_rating(mid, since, until)
        fails = []
        if any(x["points"] < batch.min_quarter_score for x in q):
            fails.append("score")
        if rating is None or rating < batch.min_rating:
            fails.append("rating")
        if batch.no_rejected and rejected.get(mid):
            fails.append("rejected")
        out[mid] = {"quarters": q, "rating": rating, "rejected": int(rejected.get(mid, 0)), "fails": fails,
                    "eligible": not fails}
    return out


def proposals(batch: Batch, community_id: int) -> list[tuple]:
    """(member, evidence, nomination or None) for every member of the community."""
    members = records_svc.members_of(community_id)
    ev = evidence(batch, [m.id for m in members])
    noms = {n.member_id: n for n in db.session.scalars(select(Nomination).where(
        Nomination.batch_id == batch.id, Nomination.community_id == community_id))}
    rows = [(m, ev[m.id], noms.get(m.id)) for m in members]
    rows.sort(key=lambda r: (not r[1]["eligible"], r[0].id))
    return rows


def nominate(batch: Batch, community_id: int, member_id: int, user_id: int | None) -> Nomination:
    if batch.state != "nominating":
        raise FivestarError(_("Nominations for this batch are closed."))
    comm = records_svc.member_community(member_id)
    if comm is None or comm.id != community_id:
        raise FivestarError(_("This member is not registered in this community."), "member")
    ev = evidence(batch, [member_id])[member_id]
    if not ev["eligible"]:
        raise FivestarError(_("This member does not meet the batch's criteria."), "member")
    n = Nomination(batch_id=batch.id, community_id=community_id, member_id=member_id, evidence=ev,
                   nominated_by_id=user_id)
    db.session.add(n)
    return n


def decide(n: Nomination, approve: bool, note: str = "") -> None:
    if n.batch.state != "nominating" or n.state != "nominated":
        raise FivestarError(_("This nomination is not waiting for review."))
    if not approve and not note.strip():
        raise FivestarError(_("Say why the nomination is declined."), "note")
    n.state, n.review_note = ("approved" if approve else "declined"), note.strip()[:300]


def start_notice(batch: Batch, today: dt.date | None = None) -> None:
    today = today or clock.today()
    if batch.state != "nominating":
        raise FivestarError(_("The notice period has already started."))
    counts = dict(db.session.execute(select(Nomination.state, func.count()).where(
        Nomination.batch_id == batch.id).group_by(Nomination.state)).all())
    if counts.get("nominated"):
        raise FivestarError(_("Review every nomination before the notice period."))
    if not counts.get("approved"):
        raise FivestarError(_("No nomination has been approved."))
    batch.state, batch.notice_start = "notice", today
    batch.notice_end = today + dt.timedelta(days=batch.notice_days - 1)


def in_notice(batch: Batch, today: dt.date | None = None) -> bool:
    today = today or clock.today()
    return batch.state == "notice" and batch.notice_start <= today <= batch.notice_end


def object_to(n: Nomination, reason: str, contact: str = "") -> Objection:
    if not in_notice(n.batch) or n.state != "approved":
        raise FivestarError(_("Objections are taken during the public notice period only."))
    if len(reason.strip()) < 5:
        raise FivestarError(_("Give the reason for your objection."), "reason")
    o = Objection(nomination_id=n.id, reason=reason.strip()[:2000], contact=contact.strip()[:60])
    db.session.add(o)
    return o


def answer(o: Objection, text: str, upheld: bool, user_id: int | None) -> None:
    if o.answered_at is not None:
        raise FivestarError(_("This objection has been answered."))
    if not text.strip():
        raise FivestarError(_("Write the answer."), "answer")
    o.answer, o.upheld, o.answered_by_id, o.answered_at = text.strip(), upheld, user_id, utcnow()
    if upheld:
        o.nomination.state = "withdrawn"


def award(batch: Batch, today: dt.date | None = None) -> int:
    today = today or clock.today()
    if batch.state != "notice":
        raise FivestarError(_("Award after the public notice period."))
    if today <= batch.notice_end:
        raise FivestarError(_("The notice period runs until %(d)s.", d=batch.notice_end.isoformat()))
    open_n = db.session.scalar(select(func.count()).select_from(Objection).join(Nomination).where(
        Nomination.batch_id == batch.id, Objection.answered_at.is_(None)))
    if open_n:
        raise FivestarError(_("Answer every objection first."))
    noms = list(db.session.scalars(select(Nomination).where(
        Nomination.batch_id == batch.id, Nomination.state == "approved").order_by(Nomination.community_id,
                                                                                   Nomination.id)))
    for i, n in enumerate(noms, start=1):
        n.state, n.certificate_no = "awarded", f"WZ-5S-{batch.number:02d}-{i:03d}"
    batch.state, batch.awarded_on = "awarded", today
    return len(noms)


def stars_of(member_id: int) -> list[Nomination]:
    return list(db.session.scalars(select(Nomination).where(
        Nomination.member_id == member_id, Nomination.state == "awarded").order_by(Nomination.batch_id)))
