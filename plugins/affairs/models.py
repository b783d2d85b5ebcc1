"""Grid affairs: the task and admission lists, houses, households and
residents (人房关联), special groups, grid squads, visits and import jobs.

Every record that belongs to a place holds the grid node it sits on
(`node_id`) and says so once with core.access.anchored: the access layer
derives scope, module switches and the object gate from that. `url_args`
names the URL arguments that carry a model's id (the contract tests request
those routes as outsiders). The task list, the admission list and the
special-group types are the district's, not on the grid.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.access import anchored
from core.extensions import db
from core.models import GridNode, User, utcnow

# --- Task list and admission list ------------------------------------------------

TASK_STATUSES = ("pending", "in_progress", "done")


class AffairCategory(db.Model):
    """One of the categories of the task list (9 in the seed)."""

    __tablename__ = "affairs_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    items: Mapped[list[AffairItem]] = relationship(back_populates="category", lazy="select", order_by="AffairItem.sort_order")


class AffairItem(db.Model):
    """An item of the task list; `admitted` puts it on the admission list,
    the only matters that may be pushed down to grids."""

    __tablename__ = "affairs_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("affairs_category.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    responsible_role: Mapped[str] = mapped_column(String(120))
    target: Mapped[str] = mapped_column(Text, default="")
    # Comma-separated grid levels the item applies to ("community,estate").
    levels: Mapped[str] = mapped_column(String(80), default="community,estate,building,zone")
    admitted: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    category: Mapped[AffairCategory] = relationship(back_populates="items", lazy="joined")

    @property
    def level_list(self) -> list[str]:
        return [x for x in self.levels.split(",") if x]


@anchored("affairs", node="node_id", view="affairs.tasks", url_args=("task_id",))
class AffairTask(db.Model):
    """An admitted item pushed down to one grid for one period (2026-11 or 2026-Q4)."""

    __tablename__ = "affairs_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("affairs_item.id"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    period: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    note: Mapped[str | None] = mapped_column(Text)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    item: Mapped[AffairItem] = relationship(lazy="joined")
    node: Mapped[GridNode] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("item_id", "node_id", "period"),
        Index("ix_affairs_task_node_period", "node_id", "period"),
    )


# --- Houses, households and residents ---------------------------------------------

HOUSE_USES = ("residential", "commercial", "mixed", "other")
OCCUPANCIES = ("owner", "rented", "vacant")
RESIDENCE = ("registered", "non_registered")
SOCIAL_SECURITY = ("employee", "resident", "none", "unknown")
EMPLOYMENT = ("employed", "self_employed", "unemployed", "retired", "student", "preschool", "other")


@anchored("affairs", node="node_id", url_args=("house_id",))
class House(db.Model):
    """A dwelling in a building (or a Party member's zone of a building)."""

    __tablename__ = "affairs_house"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    unit: Mapped[str] = mapped_column(String(20), default="")
    floor: Mapped[int | None] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(20))
    use: Mapped[str] = mapped_column(String(16), default="residential")
    occupancy: Mapped[str] = mapped_column(String(16), default="owner")
    area_m2: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # Bumped by every UPDATE: an edit form drawn from an older version is refused (core.forms).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    node: Mapped[GridNode] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("node_id", "unit", "room"),)
    __mapper_args__ = {"version_id_col": version}

    @property
    def label(self) -> str:
        """"5栋 1单元 1-201": building (when loaded), zone, unit-room."""
        from sqlalchemy import inspect

        parts = []
        node = self.node
        if node is not None:
            if node.level == "zone" and "parent" not in inspect(node).unloaded and node.parent is not None:
                parts.append(node.parent.name)
            parts.append(node.name)
        parts.append(f"{self.unit}-{self.room}" if self.unit else self.room)
        return " ".join(parts)


@anchored("affairs", via="house")
class Household(db.Model):
    """A household (户) living in a house."""

    __tablename__ = "affairs_household"

    id: Mapped[int] = mapped_column(primary_key=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("affairs_house.id"), index=True)
    head_name: Mapped[str] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    house: Mapped[House] = relationship(lazy="joined")


@anchored("affairs", node="node_id", url_args=("resident_id",))
class Resident(db.Model):
    """A person living on the grid, linked to a house; keyed by the ID-card number."""

    __tablename__ = "affairs_resident"

    id: Mapped[int] = mapped_column(primary_key=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("affairs_house.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("affairs_household.id"), index=True)
    # The house's grid node, copied so that scope and subtree counts need one join.
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))  # "M" or "F", from the ID number
    phone: Mapped[str | None] = mapped_column(String(20))
    residence: Mapped[str] = mapped_column(String(16), default="registered")
    party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    social_security: Mapped[str] = mapped_column(String(16), default="unknown")
    employment: Mapped[str] = mapped_column(String(16), default="other")
    notes: Mapped[str | None] = mapped_column(Text)
    # The latest visit's date, kept by services.record_visit, so that "who is due
    # for a visit" is an indexed comparison, not a search through the visits.
    last_visit_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # Bumped by every UPDATE: an edit form drawn from an older version is refused (core.forms).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    house: Mapped[House] = relationship(lazy="select")
    household: Mapped[Household | None] = relationship(lazy="select")

    __table_args__ = (
        Index("ix_affairs_resident_node_name", "node_id", "name"),
    )

    # Masked values, for edit tokens and messages that must not carry them in full.
    @property
    def id_number_masked(self) -> str:
        from core.privacy import mask_id

        return mask_id(self.id_number)

    @property
    def phone_masked(self) -> str:
        from core.privacy import mask_phone

        return mask_phone(self.phone)

    __mapper_args__ = {"version_id_col": version}


# "Who is due for a visit" reads residents in (last_visit_date NULLS FIRST, id)
# order. On PostgreSQL a plain index holds NULLs last and cannot serve it, so
# the list read and sorted every resident: this index (PostgreSQL only, made
# by affairs_0007) holds that order. SQLite sorts NULLs first in an ascending
# index already (ix_affairs_resident_last_visit_date serves it there).
Index(
    "ix_affairs_resident_due_order", text("last_visit_date NULLS FIRST"), Resident.id
).ddl_if(dialect="postgresql")


# --- Special groups ----------------------------------------------------------------

BUILTIN_GROUPS = ("hardship", "single_parent", "empty_nest", "left_behind_child", "disability")


class GroupType(db.Model):
    """A special group: the five of the seed, plus those an admin defines."""

    __tablename__ = "affairs_group_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str | None] = mapped_column(String(60))  # admin-defined groups; built-ins are translated
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Members not visited for this many days are highlighted (None: never).
    visit_interval_days: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=100)


@anchored("affairs", via="resident", url_args=("tag_id",))
class GroupTag(db.Model):
    """A resident's membership of a special group for a period; ending it keeps the history."""

    __tablename__ = "affairs_group_tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("affairs_resident.id"), index=True)
    group_type_id: Mapped[int] = mapped_column(ForeignKey("affairs_group_type.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    resident: Mapped[Resident] = relationship(lazy="joined")
    group_type: Mapped[GroupType] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_affairs_group_tag_type_end", "group_type_id", "end_date"),
        # The special-group list's order: a page is read along this index, not sorted.
        Index("ix_affairs_group_tag_type_resident", "group_type_id", "resident_id"),
    )


# --- Grid squads ---------------------------------------------------------------------

SQUAD_ROLES = ("cadre", "police", "resident_rep", "grid_worker")


@anchored("affairs", node="node_id")
class SquadMember(db.Model):
    """A member of an estate's grid squad."""

    __tablename__ = "affairs_squad_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


REPORT_TOPICS = ("population", "housing", "party_members", "social_security", "employment", "safety", "special_groups")


@anchored("affairs", node="node_id")
class SquadReport(db.Model):
    """An information change reported by a squad member: who, when, what."""

    __tablename__ = "affairs_squad_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("affairs_squad_member.id"), index=True)
    topic: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)

    member: Mapped[SquadMember | None] = relationship(lazy="joined")
    recorded_by: Mapped[User | None] = relationship(lazy="joined")


# --- Visits ------------------------------------------------------------------------------

VISIT_KINDS = ("home", "phone", "street", "other")
FINDINGS = ("none", "opinion", "request", "problem")


@anchored("affairs", node="node_id")
class Visit(db.Model):
    """A grid worker's visit to a household or a resident.

    `worker_id` is credited in the weekly quota; `covering_for_id` is the
    A-post worker whose grid a B-post visited while covering.
    """

    __tablename__ = "affairs_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    house_id: Mapped[int | None] = mapped_column(ForeignKey("affairs_house.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("affairs_household.id"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("affairs_resident.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    covering_for_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    visit_date: Mapped[dt.date] = mapped_column(Date)
    # ISO year and week of visit_date, kept so the quota is one indexed GROUP BY.
    iso_year: Mapped[int] = mapped_column(Integer)
    iso_week: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="home")
    notes: Mapped[str | None] = mapped_column(Text)
    finding: Mapped[str] = mapped_column(String(16), default="none")
    problem_ref: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    worker: Mapped[User] = relationship(foreign_keys=[worker_id], lazy="joined")
    covering_for: Mapped[User | None] = relationship(foreign_keys=[covering_for_id], lazy="select")
    resident: Mapped[Resident | None] = relationship(lazy="joined")
    house: Mapped[House | None] = relationship(lazy="joined")
    node: Mapped[GridNode] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_affairs_visit_worker_week", "worker_id", "iso_year", "iso_week"),
        Index("ix_affairs_visit_week", "iso_year", "iso_week"),
        # The visit list's order (newest first): a large scope reads a page along it.
        Index("ix_affairs_visit_date", "visit_date", "id"),
    )


# --- Settings and jobs -----------------------------------------------------------------


class AffairsSetting(db.Model):
    """The weekly visit quota; node_id NULL is the district-wide setting,
    a community's own row overrides it."""

    __tablename__ = "affairs_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int | None] = mapped_column(ForeignKey("grid_node.id"), unique=True)
    weekly_quota: Mapped[int] = mapped_column(Integer, default=3)
    # When workers short of their quota are reminded (ISO weekday 1-7 and hour,
    # district time); NULL: as the district's row, else Thursday 09:00.
    reminder_weekday: Mapped[int | None] = mapped_column(Integer)
    reminder_hour: Mapped[int | None] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


@anchored("affairs", node="node_id", view="affairs.import", url_args=("job_id",))
class ImportJob(db.Model):
    """An Excel import: what was imported, by whom, into which grids, and the
    counts. It runs as the core.jobs task "affairs.import" (`job_id`): the
    progress, the outcome and the error report are the core job's.

    `node_id` is the root of the importer's grids when it started (the record
    is gated there like any grid record)."""

    __tablename__ = "affairs_import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # residents | houses
    mode: Mapped[str] = mapped_column(String(16))  # good_rows | all_or_nothing
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued running done failed
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(500))
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    # JSON list of the subtree paths the user could import into when starting.
    scope: Mapped[str] = mapped_column(Text, default="[]")
    phase: Mapped[str] = mapped_column(String(16), default="checking")  # checking | applying
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    # The core.jobs job that runs it (no foreign key: the core's table has its own branch).
    job_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    node_id: Mapped[int | None] = mapped_column(ForeignKey("grid_node.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


# --- Maintained totals -------------------------------------------------------------------


class NodeTotal(db.Model):
    """A maintained total of a grid node's whole subtree (the node included):
    residents, Party members, non-registered residents, houses by occupancy
    and open special-group periods by group (keys: see services.TOTAL_KEYS).

    Kept by the service functions that change residents, houses and group
    periods (each change updates the node and all its ancestors), and
    recomputed per subtree after bulk work (import, demo), so that a
    district's panels read a few rows instead of counting the district.
    No foreign key: a grid node without affairs data may be deleted.
    """

    __tablename__ = "affairs_node_total"

    node_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
