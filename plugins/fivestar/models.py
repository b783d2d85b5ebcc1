"""The five-star evaluation's records: scoring rules (versioned), manual
service records, rejections, monthly scores with their explanation lines,
amendments, resident rating rounds, quarterly filings and five-star batches.

Every model hangs on the grid (core.access): district things on the district
node, a community's things on the community node, children via their parent.
"""

from __future__ import annotations

import datetime as dt

from flask_login import current_user
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.access import anchored
from core.extensions import db
from core.models import GridNode, User, utcnow

MODULE = "fivestar"


def _signed_in(model):
    # District-wide declarations (rules, batches) are read by every signed-in
    # user of the module; the module switch still applies.
    return true() if current_user.is_authenticated else false()


@anchored(MODULE, node="node_id", reach=_signed_in)
class RuleSet(db.Model):
    """One version of the district's scoring rules, in force from `valid_from`
    (a month's first day) until the next version. Never edited: a change is a
    new version, so a month is always scored by the rules in force then."""

    __tablename__ = "fivestar_rule_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    # [{"source", "kind", "per": "hour"|"record", "points", "cap"}]
    rules: Mapped[list] = mapped_column(JSON, default=list)
    # [{"code", "title", "points"}] — bonus (>0) and deduction (<0) items
    items: Mapped[list] = mapped_column(JSON, default=list)
    rating_weight: Mapped[float] = mapped_column(Float, default=0)
    month_cap: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("node_id", "number"), UniqueConstraint("node_id", "valid_from"))


@anchored(MODULE, node="node_id", url_args=("member_id",))
class Member(db.Model):
    """A member as this module knows them: the user (a `member` grant) and the
    grid node they are registered on, copied from the grants by
    services.records.sync_members(). Member pages are gated through it."""

    __tablename__ = "fivestar_member"

    id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True, autoincrement=False)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("grid_node.id"), index=True)
    since: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def display_name(self) -> str:
        return self.user.display_name


@anchored(MODULE, node="node_id", url_args=("record_id",))
class ManualRecord(db.Model):
    """A piece of service entered by community staff, with its evidence."""

    __tablename__ = "fivestar_manual_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float, default=0)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    evidence_file: Mapped[str | None] = mapped_column(String(255))
    evidence_name: Mapped[str | None] = mapped_column(String(200))
    evidence_type: Mapped[str | None] = mapped_column(String(80))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    member: Mapped[User] = relationship(foreign_keys=[member_id], lazy="joined")

    __table_args__ = (Index("ix_fivestar_manual_member_day", "member_id", "day"),)

    @property
    def key(self) -> str:
        return f"manual:{self.id}"


@anchored(MODULE, node="community_id")
class Rejection(db.Model):
    """A community rejected one service record (of any module): it scores nothing."""

    __tablename__ = "fivestar_rejection"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    source: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(80))
    day: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(300))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("community_id", "source", "key"),)


@anchored(MODULE, node="community_id")
class Adjustment(db.Model):
    """A bonus or deduction item of the rules applied to a member for a month."""

    __tablename__ = "fivestar_adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    month: Mapped[dt.date] = mapped_column(Date)
    code: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(120))
    points: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(300))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_fivestar_adjustment_month", "community_id", "month"),)


@anchored(MODULE, node="community_id", url_args=("month_id",))
class ScoreMonth(db.Model):
    """A community's month: computed, reviewed, then published (frozen)."""

    __tablename__ = "fivestar_score_month"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"))
    month: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default="computed")  # computed|reviewed|published
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("fivestar_rule_set.id"))
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    community: Mapped[GridNode] = relationship(foreign_keys=[community_id], lazy="joined")
    rule_set: Mapped[RuleSet] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("community_id", "month"),)


@anchored(MODULE, via="month", url_args=("score_id",))
class MemberScore(db.Model):
    """A member's score for one month; `total` is the sum of its lines plus amendments."""

    __tablename__ = "fivestar_member_score"

    id: Mapped[int] = mapped_column(primary_key=True)
    month_id: Mapped[int] = mapped_column(ForeignKey("fivestar_score_month.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    points: Mapped[float] = mapped_column(Float, default=0)  # the sum of the lines
    amended: Mapped[float] = mapped_column(Float, default=0)  # the sum of the amendments
    hours: Mapped[float] = mapped_column(Float, default=0)
    n_records: Mapped[int] = mapped_column(Integer, default=0)

    month: Mapped[ScoreMonth] = relationship(lazy="joined")
    member: Mapped[User] = relationship(lazy="joined")
    lines: Mapped[list[ScoreLine]] = relationship(
        back_populates="score", cascade="all, delete-orphan", order_by="ScoreLine.position", lazy="select")

    __table_args__ = (UniqueConstraint("month_id", "member_id"),)

    @property
    def total(self) -> float:
        return round(self.points + self.amended, 2)


@anchored(MODULE, via="score")
class ScoreLine(db.Model):
    """One line of a score's explanation: a record and the rule that scored it,
    an adjustment, or the resident rating."""

    __tablename__ = "fivestar_score_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("fivestar_member_score.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    what: Mapped[str] = mapped_column(String(12))  # record|adjustment|rating|cap
    source: Mapped[str] = mapped_column(String(40), default="")
    key: Mapped[str] = mapped_column(String(80), default="")
    kind: Mapped[str] = mapped_column(String(40), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    day: Mapped[dt.date | None] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float, default=0)
    # The rule as it was applied (a snapshot with its version), shown in the reader's language.
    rule: Mapped[dict | None] = mapped_column(JSON)
    points: Mapped[float] = mapped_column(Float, default=0)
    # Why the line scored less than its rule says: rejected|unconfirmed|no_rule|capped|''
    note: Mapped[str] = mapped_column(String(20), default="")
    reason: Mapped[str] = mapped_column(String(300), default="")
    evidence: Mapped[str] = mapped_column(String(300), default="")
    link: Mapped[str] = mapped_column(String(300), default="")

    score: Mapped[MemberScore] = relationship(back_populates="lines")


@anchored(MODULE, via="score")
class Amendment(db.Model):
    """A correction of a published score, with its reason; shown as such."""

    __tablename__ = "fivestar_amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("fivestar_member_score.id", ondelete="CASCADE"), index=True)
    delta: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(300))
    after_filing: Mapped[bool] = mapped_column(Boolean, default=False)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    score: Mapped[MemberScore] = relationship(lazy="joined")


@anchored(MODULE, node="community_id", url_args=("round_id",))
class RatingRound(db.Model):
    """A half-year resident rating round of a community."""

    __tablename__ = "fivestar_rating_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    half: Mapped[str] = mapped_column(String(8))  # "2026H1"
    items: Mapped[list] = mapped_column(JSON, default=list)  # item titles
    opens_on: Mapped[dt.date] = mapped_column(Date)
    closes_on: Mapped[dt.date] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    community: Mapped[GridNode] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("community_id", "half"),)


@anchored(MODULE, via="round", url_args=("response_id",))
class RatingResponse(db.Model):
    """One resident's (or one representative sheet's) rating of one member.

    `resident_key` names the rater: the one-time link's nonce, or the
    representative on a sheet; the unique constraint is the "one response
    per resident per member per round" rule."""

    __tablename__ = "fivestar_rating_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("fivestar_rating_round.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    resident_key: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(10))  # link|sheet
    stars: Mapped[list] = mapped_column(JSON, default=list)
    average: Mapped[float] = mapped_column(Float)
    opinion: Mapped[str] = mapped_column(Text, default="")
    moderation: Mapped[str] = mapped_column(String(10), default="pending")  # pending|approved|hidden
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    round: Mapped[RatingRound] = relationship(lazy="joined")
    member: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("round_id", "member_id", "resident_key"),)


@anchored(MODULE, node="community_id", url_args=("filing_id",), view="fivestar.view")
class QuarterFiling(db.Model):
    """A community's quarter sent to the organisation department; filed = locked."""

    __tablename__ = "fivestar_quarter_filing"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"))
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default="submitted")  # submitted|returned|filed
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    filed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(String(300), default="")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    community: Mapped[GridNode] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("community_id", "year", "quarter"),)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.quarter}"


@anchored(MODULE, node="node_id", url_args=("batch_id",), reach=_signed_in)
class Batch(db.Model):
    """A five-star batch opened by the district with its criteria."""

    __tablename__ = "fivestar_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    opened_on: Mapped[dt.date] = mapped_column(Date)
    # The four quarters before the batch's quarter are checked.
    min_quarter_score: Mapped[float] = mapped_column(Float)
    min_rating: Mapped[float] = mapped_column(Float)
    no_rejected: Mapped[bool] = mapped_column(Boolean, default=True)
    notice_days: Mapped[int] = mapped_column(Integer, default=7)
    state: Mapped[str] = mapped_column(String(12), default="nominating")  # nominating|notice|awarded
    notice_start: Mapped[dt.date | None] = mapped_column(Date)
    notice_end: Mapped[dt.date | None] = mapped_column(Date)
    awarded_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("node_id", "number"),)


@anchored(MODULE, node="community_id", url_args=("nomination_id",))
class Nomination(db.Model):
    """A member nominated by their community in a batch, with the evidence."""

    __tablename__ = "fivestar_nomination"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("fivestar_batch.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # nominated|approved|declined|withdrawn|awarded
    state: Mapped[str] = mapped_column(String(12), default="nominated")
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    review_note: Mapped[str] = mapped_column(String(300), default="")
    certificate_no: Mapped[str | None] = mapped_column(String(30), unique=True)
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    nominated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    batch: Mapped[Batch] = relationship(lazy="joined")
    member: Mapped[User] = relationship(foreign_keys=[member_id], lazy="joined")
    community: Mapped[GridNode] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("batch_id", "member_id"),)


@anchored(MODULE, via="nomination", url_args=("objection_id",))
class Objection(db.Model):
    """An objection raised during the public notice period, and its answer."""

    __tablename__ = "fivestar_objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("fivestar_nomination.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(String(60), default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    answer: Mapped[str] = mapped_column(Text, default="")
    upheld: Mapped[bool | None] = mapped_column(Boolean)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    nomination: Mapped[Nomination] = relationship(lazy="joined")
