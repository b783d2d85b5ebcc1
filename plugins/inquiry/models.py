"""Square Inquiry (广场问政): problems, their timeline, assignment sheets,
extensions, return visits, maintained totals and Open311 keys.

Names follow ../shared/domain/glossary.md. Datetimes are naive UTC like the
core's; working days are counted on the local (Asia/Shanghai) calendar.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
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
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.access import anchored
from core.extensions import db
from core.models import GridNode, Organisation, PathString, User, utcnow

# The life of a problem; see services.TRANSITIONS for the allowed moves.
STATES = (
    "new",  # reported, waiting for triage
    "returned",  # sent back by the unit, waiting for triage again
    "triaged",  # verified, unit and deadline set, waiting for a sheet
    "issued",  # on an issued assignment sheet: the clock runs
    "claimed",  # the unit signed for it
    "reported",  # the unit reported its result, waiting for the return visit
    "closed",  # closed out (销号)
    "rejected",  # invalid
    "duplicate",  # a duplicate of another problem
    "filed",  # an opinion for the ledger, not a problem to hand out
)
OPEN_STATES = ("new", "returned", "triaged", "issued", "claimed", "reported")
RUNNING_STATES = ("issued", "claimed", "reported")  # the clock runs
# "station": an opinion taken at a pioneer station (opinion-post mode), handed over by hook.
CHANNELS = ("grid_worker", "visit", "staff", "resident", "open311", "station")
PRIORITIES = ("normal", "urgent")
OUTCOMES = ("satisfied", "basically_satisfied", "dissatisfied", "unreachable")
# The states in which the responsible unit's handlers see a problem.
HANDLER_STATES = ("issued", "claimed", "reported", "closed")


def handler_reach(model):
    """Beyond the grid scope, a handler sees the problems of its own unit
    (department or property company) once they have been issued to it."""
    from flask import has_request_context
    from flask_login import current_user

    from core.security import can

    if not has_request_context() or not current_user.is_authenticated:
        return None
    org = current_user.organisation_id
    if not org or not can("inquiry.handle"):
        return None
    return and_(model.unit_id == org, model.state.in_(HANDLER_STATES))


class Category(db.Model):
    """A problem category; also an Open311 service."""

    __tablename__ = "inquiry_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60), default="")
    # Working days a unit has, counted from the sheet's issue.
    deadline_days: Mapped[int] = mapped_column(Integer, default=10)
    # Property-management problems go to the estate's property company.
    property_management: Mapped[bool] = mapped_column(Boolean, default=False)
    default_unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ExtraDay(db.Model):
    """A day the district declares a working day or a day off, overriding the
    national calendar (for example a local flood-duty day)."""

    __tablename__ = "inquiry_extra_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, unique=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(120), default="")


@anchored("inquiry", node="node_id", url_args=("sheet_id",))
class AssignmentSheet(db.Model):
    """第 N 期 问题交办单: a numbered batch of triaged problems.

    A sheet belongs to the district or to one community (its node): only who
    may see that node sees the sheet, and a community's sheet holds only that
    community's problems."""

    __tablename__ = "inquiry_sheet"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    state: Mapped[str] = mapped_column(String(12), default="draft")  # draft | issued
    note: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    issued_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    n_problems: Mapped[int] = mapped_column(Integer, default=0)
    # The district or the community the sheet belongs to (always set by
    # services.create_sheet; sheets older than inquiry_0006 were the district's).
    node_id: Mapped[int | None] = mapped_column(ForeignKey("grid_node.id"), index=True)

    node: Mapped[GridNode | None] = relationship(foreign_keys=[node_id], lazy="select")
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id], lazy="select")


@anchored("inquiry", path="node_path", community="community_id", url_args=("problem_id",), reach=handler_reach)
class Problem(db.Model):
    """A resident's request (诉求): a problem to hand out, or an opinion for the ledger."""

    __tablename__ = "inquiry_problem"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(24), unique=True)
    state: Mapped[str] = mapped_column(String(12), default="new")
    channel: Mapped[str] = mapped_column(String(12))
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(String(255), default="")
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    # Copies of the node's path, community and building: scope filters,
    # community filters and hotspots are then one index range each.
    node_path: Mapped[str] = mapped_column(PathString, index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("grid_node.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("grid_node.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("inquiry_category.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    sheet_id: Mapped[int | None] = mapped_column(ForeignKey("inquiry_sheet.id"), index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("inquiry_problem.id"))
    reason: Mapped[str] = mapped_column(Text, default="")  # rejection or return reason
    reporter_name: Mapped[str] = mapped_column(String(60), default="")
    reporter_phone: Mapped[str] = mapped_column(String(20), default="")
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    source_ref: Mapped[str] = mapped_column(String(60), default="")
    token: Mapped[str | None] = mapped_column(String(40), unique=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    deadline_days: Mapped[int | None] = mapped_column(Integer)
    due_date: Mapped[dt.date | None] = mapped_column(Date)  # a fixed due date set at triage
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    issued_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    deadline: Mapped[dt.datetime | None] = mapped_column(DateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reported_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    result_text: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    working_days_to_close: Mapped[int | None] = mapped_column(Integer)
    followup_due: Mapped[dt.date | None] = mapped_column(Date)
    followup_done_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    followup_note: Mapped[str] = mapped_column(Text, default="")
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)
    supervised_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    returns_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    unreachable_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # How many problems of the same building and category (this one included)
    # came in during the 90 days up to this one: hotspots are the rows >= 3.
    hot_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    node: Mapped[GridNode] = relationship(foreign_keys=[node_id], lazy="select")
    community: Mapped[GridNode | None] = relationship(foreign_keys=[community_id], lazy="select")
    category: Mapped[Category | None] = relationship(lazy="select")
    unit: Mapped[Organisation | None] = relationship(lazy="select")
    sheet: Mapped[AssignmentSheet | None] = relationship(lazy="select")
    duplicate_of: Mapped[Problem | None] = relationship(remote_side=[id], lazy="select")
    photos: Mapped[list[Photo]] = relationship(
        back_populates="problem", lazy="select", order_by="Photo.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_inquiry_problem_state_created", "state", "created_at"),
        Index("ix_inquiry_problem_community_created", "community_id", "created_at"),
        # One community's open (or closed) problems, counted from the index alone.
        Index("ix_inquiry_problem_community_state_created", "community_id", "state", "created_at"),
        Index("ix_inquiry_problem_supervised_state", "supervised", "state"),
        Index("ix_inquiry_problem_unit_created", "unit_id", "created_at"),
        # A unit's problems of one category (property units by property category).
        Index("ix_inquiry_problem_unit_category_created", "unit_id", "category_id", "created_at"),
        Index("ix_inquiry_problem_category_created", "category_id", "created_at"),
        Index("ix_inquiry_problem_channel_created", "channel", "created_at"),
        Index("ix_inquiry_problem_created", "created_at"),
        Index("ix_inquiry_problem_state_deadline", "state", "deadline"),
        Index("ix_inquiry_problem_hotspot", "building_id", "category_id", "created_at"),
        Index("ix_inquiry_problem_hot", "hot_count", "created_at"),
        Index("ix_inquiry_problem_followup", "state", "followup_done_at", "followup_due"),
    )


@anchored("inquiry", via="problem", url_args=("photo_id",))
class Photo(db.Model):
    """A photo of a problem (stage "report") or of its result (stage "result")."""

    __tablename__ = "inquiry_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("inquiry_problem.id"), index=True)
    stage: Mapped[str] = mapped_column(String(10), default="report")
    filename: Mapped[str] = mapped_column(String(120))
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    problem: Mapped[Problem] = relationship(back_populates="photos")


@anchored("inquiry", via="problem")
class Event(db.Model):
    """One line of a problem's timeline: who, when, what, from which state to which."""

    __tablename__ = "inquiry_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("inquiry_problem.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(60), default="")
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(12))
    to_state: Mapped[str | None] = mapped_column(String(12))
    # The unit concerned (a return counts against the unit that returned it).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    problem: Mapped[Problem] = relationship(lazy="select")

    __table_args__ = (Index("ix_inquiry_event_problem_at", "problem_id", "at", "id"),)


@anchored("inquiry", via="problem", url_args=("ext_id",))
class Extension(db.Model):
    """A unit's request for more working days, decided by the community."""

    __tablename__ = "inquiry_extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("inquiry_problem.id"), index=True)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    problem: Mapped[Problem] = relationship(lazy="select")


@anchored("inquiry", via="problem")
class ReturnVisit(db.Model):
    """回访: the reporter's verdict on the unit's result."""

    __tablename__ = "inquiry_return_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("inquiry_problem.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    problem: Mapped[Problem] = relationship(lazy="select")


class MonthStat(db.Model):
    """Maintained totals per month × community × category × unit, so that the
    analysis page sums a few thousand rows instead of counting every problem."""

    __tablename__ = "inquiry_month_stat"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # "2025-10"
    community_id: Mapped[int] = mapped_column(Integer, default=0)  # 0: none
    category_id: Mapped[int] = mapped_column(Integer, default=0)
    unit_id: Mapped[int] = mapped_column(Integer, default=0)
    received: Mapped[int] = mapped_column(Integer, default=0)
    assigned: Mapped[int] = mapped_column(Integer, default=0)  # issued to the unit
    closed: Mapped[int] = mapped_column(Integer, default=0)
    closed_on_time: Mapped[int] = mapped_column(Integer, default=0)
    working_days: Mapped[int] = mapped_column(Integer, default=0)  # sum over closed
    visits: Mapped[int] = mapped_column(Integer, default=0)  # return visits reaching the reporter
    satisfied: Mapped[int] = mapped_column(Integer, default=0)  # satisfied or basically
    returns: Mapped[int] = mapped_column(Integer, default=0)
    reopens: Mapped[int] = mapped_column(Integer, default=0)
    supervisions: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("month", "community_id", "category_id", "unit_id"),)


class HotspotStat(db.Model):
    """The latest count of one building and category over the 90 days up to
    its latest problem: hotspots are one short index scan of this table."""

    __tablename__ = "inquiry_hotspot"

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(Integer)
    category_id: Mapped[int] = mapped_column(Integer)
    community_id: Mapped[int | None] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer, default=1)
    last_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("building_id", "category_id"),
        Index("ix_inquiry_hotspot_n_last", "n", "last_at"),
    )


class ApiKey(db.Model):
    """An Open311 api_key the district admin issued to one integration."""

    __tablename__ = "inquiry_api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    n_requests: Mapped[int] = mapped_column(Integer, default=0)
