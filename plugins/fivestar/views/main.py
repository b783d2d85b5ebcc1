"""Overview, dashboard widget, node panel and the member's page."""

from __future__ import annotations

import datetime as dt

from flask import request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import access, clock
from core.extensions import db
from core.security import can, requires
from core.web import paginate, render

from .. import queries
from ..forms import AdjustForm, RejectForm
from ..models import MemberScore, RatingResponse, RatingRound, ScoreMonth
from ..services import batches as batches_svc
from ..services import month_start
from ..services import records as records_svc
from ..services import rules as rules_svc
from . import bp, member_gate


@bp.route("/")
@requires("fivestar.view")
def index():
    months = paginate(queries.months(), per_page=12)
    rs = rules_svc.in_force(clock.today())
    db.session.commit()
    return render("fivestar/index.html", months=months, figures=queries.figures(), rule_set=rs,
                  communities=queries.communities(), batches=list(db.session.scalars(queries.batches().limit(3))))


@bp.route("/widget")
@requires("fivestar.view")
def widget():
    return render("fivestar/widget.html", figures=queries.figures())


@bp.route("/panel/<int:node_id>")
@requires("fivestar.view")
def node_panel(node_id):
    node = access.require_node(node_id, "fivestar.view", "fivestar")
    records_svc.sync_members()
    members = paginate(queries.members_stmt(node.id if node.level == "community" else node.community_id)
                       if node.level != "district" else queries.members_stmt(), per_page=10, count=False) \
        if node.level in ("district", "community") else None
    db.session.commit()
    return render("fivestar/panel.html", node=node, figures=queries.node_figures(node), members=members)


@bp.route("/me")
@requires("fivestar.own")
def me():
    return _member_page(current_user.id)


@bp.route("/members")
@requires("fivestar.view")
def members():
    cid = request.args.get("community", type=int)
    records_svc.sync_members()
    page = paginate(queries.members_stmt(cid), per_page=20)
    db.session.commit()
    return render("fivestar/members.html", page=page, communities=queries.communities(), community_id=cid)


@bp.route("/members/<int:member_id>")
@requires(None)
def member(member_id):
    return _member_page(member_id)


def _member_page(member_id: int):
    user, home = member_gate(member_id)
    community = records_svc.member_community(member_id)
    own = current_user.id == member_id and not can("fivestar.view")
    today = clock.today()
    start = month_start(today - dt.timedelta(days=62))
    records = records_svc.collect(community.id, [member_id], start, today)
    rejected = records_svc.rejections(community.id, {(r.source, r.key) for r in records})
    stmt = queries.member_scores(member_id, published_only=own).options(selectinload(MemberScore.lines))
    scores = list(db.session.scalars(stmt.limit(12)))
    rating_stmt = (select(RatingResponse).join(RatingRound, RatingRound.id == RatingResponse.round_id)
                   .where(RatingResponse.member_id == member_id).order_by(RatingRound.opens_on.desc(),
                                                                          RatingResponse.id.desc()))
    ratings = _by_round(db.session.scalars(rating_stmt.limit(60)), own)
    may_score = can("fivestar.score", community)
    rs = rules_svc.in_force(today)
    adjust = AdjustForm(prefix="adj")
    adjust.code.choices = [(i["code"], f"{i['title']} ({rules_svc.fmt(i['points'])})") for i in rs.items]
    published = {m.month for m in db.session.scalars(select(ScoreMonth).where(
        ScoreMonth.community_id == community.id, ScoreMonth.state == "published", ScoreMonth.month >= start))}
    db.session.commit()
    return render("fivestar/member.html", member=user, community=community, home=home, own=own,
                  records=records, rejected=rejected, scores=scores, ratings=ratings,
                  stars=batches_svc.stars_of(member_id), may_score=may_score, reject_form=RejectForm(),
                  adjust=adjust, published=published,
                  adjustments=list(db.session.scalars(queries.member_adjustments(member_id).limit(20))))


def _by_round(responses, own: bool) -> list[dict]:
    """Ratings grouped by round: the average, the count and the opinions
    (a member sees only the opinions the community approved)."""
    rounds: dict[int, dict] = {}
    for r in responses:
        d = rounds.setdefault(r.round_id, {"half": r.round.half, "community": r.round.community.name, "n": 0,
                                           "sum": 0.0, "sheets": 0, "opinions": []})
        d["n"] += 1
        d["sum"] += r.average
        d["sheets"] += r.channel == "sheet"
        if r.opinion and (not own or r.moderation == "approved"):
            d["opinions"].append(r)
    for d in rounds.values():
        d["average"] = round(d["sum"] / d["n"], 2)
    return list(rounds.values())
