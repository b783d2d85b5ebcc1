"""Half-year resident rating rounds.

Residents need no account: staff hand out one-time links (signed with the
app's secret, shown as a QR code) naming the round and the member; the
link's nonce is the rater's key, and the unique key (round, member,
resident_key) in the database refuses a second rating through the same link.
Representatives' review sheets are entered by staff, one per representative.
Opinions are shown to the member only after moderation."""

from __future__ import annotations

import datetime as dt
import secrets

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from core import clock
from core.extensions import db

from ..models import RatingResponse, RatingRound
from . import FivestarError, half_bounds, month_end
from . import records as records_svc

DEFAULT_ITEMS = ["服务态度", "服务效果", "响应及时"]
MODERATION = ("pending", "approved", "hidden")


def open_round(*, community_id: int, half: str, items, opens_on: dt.date, closes_on: dt.date) -> RatingRound:
    items = [i.strip() for i in items if i and i.strip()]
    if not items:
        raise FivestarError(_("Give at least one item to rate."), "items")
    if len(items) > 8:
        raise FivestarError(_("At most 8 items."), "items")
    try:
        start, end = half_bounds(half)
    except (ValueError, IndexError):
        raise FivestarError(_("Choose a half year."), "half") from None
    if closes_on < opens_on:
        raise FivestarError(_("The round closes after it opens."), "closes_on")
    if db.session.scalar(select(RatingRound.id).where(RatingRound.community_id == community_id,
                                                      RatingRound.half == half)) is not None:
        raise FivestarError(_("This half year already has a round."), "half")
    rnd = RatingRound(community_id=community_id, half=half, items=items, opens_on=opens_on, closes_on=closes_on)
    db.session.add(rnd)
    db.session.flush()
    return rnd


def is_open(rnd: RatingRound, today: dt.date | None = None) -> bool:
    today = today or clock.today()
    return not rnd.closed and rnd.opens_on <= today <= rnd.closes_on


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="fivestar-rating")


def make_token(rnd: RatingRound, member_id: int) -> str:
    """A one-time link's token: the round, the member and a fresh nonce."""
    return _signer().dumps({"r": rnd.id, "m": member_id, "n": secrets.token_urlsafe(9)})


def read_token(token: str) -> tuple[int, int, str] | None:
    try:
        data = _signer().loads(token)
        return int(data["r"]), int(data["m"]), str(data["n"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def already_rated(round_id: int, member_id: int, resident_key: str) -> bool:
    return db.session.scalar(select(RatingResponse.id).where(
        RatingResponse.round_id == round_id, RatingResponse.member_id == member_id,
        RatingResponse.resident_key == resident_key)) is not None


def submit(*, rnd: RatingRound, member_id: int, resident_key: str, stars, opinion: str, channel: str,
           today: dt.date | None = None) -> RatingResponse:
    if channel == "link" and not is_open(rnd, today):
        raise FivestarError(_("This rating round is not open."))
    comm = records_svc.member_community(member_id)
    if comm is None or comm.id != rnd.community_id:
        raise FivestarError(_("This member is not registered in this community."), "member")
    try:
        stars = [int(s) for s in stars]
    except (TypeError, ValueError):
        raise FivestarError(_("Give 1 to 5 stars for every item."), "stars") from None
    if len(stars) != len(rnd.items) or any(s < 1 or s > 5 for s in stars):
        raise FivestarError(_("Give 1 to 5 stars for every item."), "stars")
    if already_rated(rnd.id, member_id, resident_key):
        raise FivestarError(_("This link has already been used to rate this member."), "stars")
    resp = RatingResponse(round_id=rnd.id, member_id=member_id, resident_key=resident_key[:80], channel=channel,
                          stars=stars, average=round(sum(stars) / len(stars), 2), opinion=(opinion or "").strip()[:1000],
                          moderation="pending" if (opinion or "").strip() else "approved")
    db.session.add(resp)
    return resp


def moderate(resp: RatingResponse, decision: str) -> None:
    if decision not in MODERATION:
        raise FivestarError(_("Choose approve or hide."))
    resp.moderation = decision


def results(round_id: int) -> dict[int, dict]:
    """{member: {"n", "average", "items": [avg per item]}} of a round, in one query."""
    out: dict[int, dict] = {}
    for r in db.session.scalars(select(RatingResponse).where(RatingResponse.round_id == round_id)):
        d = out.setdefault(r.member_id, {"n": 0, "sum": 0.0, "items": [0.0] * len(r.stars)})
        d["n"] += 1
        d["sum"] += r.average
        for i, s in enumerate(r.stars):
            if i < len(d["items"]):
                d["items"][i] += s
    for d in out.values():
        d["average"] = round(d["sum"] / d["n"], 2)
        d["items"] = [round(x / d["n"], 2) for x in d["items"]]
    return out


def latest_averages(community_id: int, member_ids, month: dt.date) -> dict[int, tuple[float, int, str]]:
    """Each member's average in the latest round of the community that closed
    by the end of `month`: {member: (average, count, half)}."""
    if not member_ids:
        return {}
    rows = db.session.execute(
        select(RatingResponse.member_id, RatingRound.half, RatingRound.closes_on,
               func.avg(RatingResponse.average), func.count())
        .join(RatingRound, RatingRound.id == RatingResponse.round_id)
        .where(RatingRound.community_id == community_id, RatingRound.closes_on <= month_end(month),
               RatingResponse.member_id.in_(list(member_ids)))
        .group_by(RatingResponse.member_id, RatingRound.half, RatingRound.closes_on)
        .order_by(RatingRound.closes_on))
    out: dict = {}
    for member_id, half, _closes, avg, n in rows:
        out[member_id] = (round(float(avg), 2), int(n), half)
    return out


def member_rating(member_id: int, since: dt.date, until: dt.date) -> float | None:
    """A member's average over the rounds that closed between two days."""
    avg = db.session.scalar(
        select(func.avg(RatingResponse.average)).join(RatingRound, RatingRound.id == RatingResponse.round_id)
        .where(RatingResponse.member_id == member_id, RatingRound.closes_on >= since, RatingRound.closes_on <= until))
    return round(float(avg), 2) if avg is not None else None
