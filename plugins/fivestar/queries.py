"""The read side: every list, count and figure goes through core.access."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core import access
from core.extensions import db
from core.models import GridNode

from .models import (
    Adjustment,
    Batch,
    ManualRecord,
    Member,
    MemberScore,
    Nomination,
    QuarterFiling,
    RatingResponse,
    RatingRound,
    Rejection,
    ScoreMonth,
)

MODULE = "fivestar"


def communities(action="fivestar.view"):
    """The communities in the user's scope where the module is on."""
    stmt = select(GridNode).where(GridNode.level == "community").order_by(GridNode.sort_order, GridNode.id)
    return list(db.session.scalars(access.scoped(stmt, GridNode, action, community=None, module=MODULE)))


def community_choices(action="fivestar.view"):
    return [(c.id, c.name) for c in communities(action)]


def members_stmt(community_id: int | None = None, action="fivestar.view"):
    """Members (fivestar_member, synced from the grants) in scope, optionally of one community."""
    stmt = select(Member).order_by(Member.id)
    if community_id is not None:
        stmt = stmt.where(Member.community_id == community_id)
    return access.scoped(stmt, Member, action, community=None)


def months(community_id=None):
    stmt = select(ScoreMonth).order_by(ScoreMonth.month.desc(), ScoreMonth.community_id)
    if community_id:
        stmt = stmt.where(ScoreMonth.community_id == community_id)
    return access.scoped(stmt, ScoreMonth, community=None)


def scores_of_month(month_id: int):
    stmt = select(MemberScore).where(MemberScore.month_id == month_id).order_by(
        (MemberScore.points + MemberScore.amended).desc(), MemberScore.member_id)
    return access.scoped(stmt, MemberScore, community=None)


def records_stmt(community_id=None):
    stmt = select(ManualRecord).order_by(ManualRecord.day.desc(), ManualRecord.id.desc())
    if community_id:
        stmt = stmt.where(ManualRecord.community_id == community_id)
    return access.scoped(stmt, ManualRecord, community=None)


def member_scores(member_id: int, published_only=False):
    stmt = (select(MemberScore).join(ScoreMonth, ScoreMonth.id == MemberScore.month_id)
            .where(MemberScore.member_id == member_id).order_by(ScoreMonth.month.desc()))
    if published_only:
        stmt = stmt.where(ScoreMonth.state == "published")
    return stmt


def member_rejections(member_id: int):
    return access.scoped(select(Rejection).where(Rejection.member_id == member_id).order_by(Rejection.day.desc()),
                         Rejection, community=None)


def member_adjustments(member_id: int):
    return access.scoped(select(Adjustment).where(Adjustment.member_id == member_id)
                         .order_by(Adjustment.month.desc()), Adjustment, community=None)


def rounds(community_id=None):
    stmt = select(RatingRound).order_by(RatingRound.opens_on.desc(), RatingRound.id.desc())
    if community_id:
        stmt = stmt.where(RatingRound.community_id == community_id)
    return access.scoped(stmt, RatingRound, community=None)


def responses(round_id: int, moderation=None):
    stmt = select(RatingResponse).where(RatingResponse.round_id == round_id).order_by(RatingResponse.id.desc())
    if moderation:
        stmt = stmt.where(RatingResponse.moderation == moderation)
    return access.scoped(stmt, RatingResponse, community=None)


def filings(state=None):
    stmt = select(QuarterFiling).order_by(QuarterFiling.year.desc(), QuarterFiling.quarter.desc(),
                                          QuarterFiling.community_id)
    if state:
        stmt = stmt.where(QuarterFiling.state == state)
    return access.scoped(stmt, QuarterFiling, community=None)


def batches():
    return access.scoped(select(Batch).order_by(Batch.number.desc()), Batch, community=None)


def nominations(batch_id: int, community_id=None):
    stmt = select(Nomination).where(Nomination.batch_id == batch_id).order_by(Nomination.community_id,
                                                                              Nomination.id)
    if community_id:
        stmt = stmt.where(Nomination.community_id == community_id)
    return access.scoped(stmt, Nomination, community=None)


def awarded():
    stmt = (select(Nomination).join(Batch, Batch.id == Nomination.batch_id)
            .where(Nomination.state == "awarded").order_by(Batch.number, Nomination.certificate_no))
    return access.scoped(stmt, Nomination, community=None)


def figures(community=access.CURRENT) -> dict:
    """The widget's and the panel's counts, each through the access layer."""
    def count(stmt, model):
        return db.session.scalar(select(func.count()).select_from(
            access.scoped(stmt, model, community=community).subquery())) or 0

    return {
        "published": count(select(ScoreMonth.id).where(ScoreMonth.state == "published"), ScoreMonth),
        "to_review": count(select(ScoreMonth.id).where(ScoreMonth.state != "published"), ScoreMonth),
        "records": count(select(ManualRecord.id), ManualRecord),
        "pending_opinions": count(select(RatingResponse.id).where(RatingResponse.moderation == "pending"),
                                  RatingResponse),
        "submitted": count(select(QuarterFiling.id).where(QuarterFiling.state == "submitted"), QuarterFiling),
        "five_star": count(select(Nomination.id).where(Nomination.state == "awarded"), Nomination),
    }


def node_figures(node: GridNode) -> dict:
    """Counts for one node's subtree."""
    def count(stmt, model):
        stmt = access.scoped(stmt, model, community=None).where(access.in_subtree(model, node))
        return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0

    return {
        "records": count(select(ManualRecord.id), ManualRecord),
        "five_star": count(select(Nomination.id).where(Nomination.state == "awarded"), Nomination),
        "published": count(select(ScoreMonth.id).where(ScoreMonth.state == "published"), ScoreMonth),
    }


def public_months(community_id: int):
    """Published months of a community, for the public page (no login)."""
    stmt = (select(ScoreMonth).where(ScoreMonth.community_id == community_id, ScoreMonth.state == "published",
                                     access.module_condition(MODULE, ScoreMonth.community_id))
            .order_by(ScoreMonth.month.desc()))
    return stmt


def public_scores(month_id: int):
    return (select(MemberScore).join(ScoreMonth, ScoreMonth.id == MemberScore.month_id)
            .where(MemberScore.month_id == month_id, ScoreMonth.state == "published",
                   access.module_condition(MODULE, ScoreMonth.community_id))
            .order_by((MemberScore.points + MemberScore.amended).desc(), MemberScore.member_id))


def public_nominations(batch_id: int):
    return (select(Nomination).where(Nomination.batch_id == batch_id,
                                     Nomination.state.in_(("approved", "awarded", "withdrawn")),
                                     access.module_condition(MODULE, Nomination.community_id))
            .order_by(Nomination.community_id, Nomination.id))


def holders(node_ids) -> list:
    out = []
    for model, col, label in (
        (ManualRecord, ManualRecord.node_id, _l("service records (five-star)")),
        (ScoreMonth, ScoreMonth.community_id, _l("monthly scores (five-star)")),
        (RatingRound, RatingRound.community_id, _l("rating rounds (five-star)")),
        (Nomination, Nomination.community_id, _l("five-star nominations")),
        (Batch, Batch.node_id, _l("five-star batches")),
    ):
        n = db.session.scalar(select(func.count()).select_from(model).where(col.in_(list(node_ids))))
        if n:
            out.append((label, n))
    return out


def today_month(today: dt.date) -> dt.date:
    return today.replace(day=1)
