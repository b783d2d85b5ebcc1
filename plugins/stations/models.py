"""Pioneer stations (先锋驿站): stations, their claims and served grids, the
duty rota (shifts, sign-ups, swaps), the modes (opinions, emergency incidents
with a temporary Party branch and a log) and the shared medicine box.

Every model hangs on the grid through core.access: a station on its grid
node, everything else through its station. A station also keeps a copy of
its community (`community_id`) so that members and contact departments can
be given their reach in SQL (see `_reach`).
"""

from __future__ import annotations

import datetime as dt

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.access import anchored
from core.extensions import db
from core.models import GridNode, Organisation, User, utcnow

KINDS = ("party_centre", "idle_room", "property_room", "other")
MODES = ("service", "opinion", "emergency")
STATUSES = ("held", "waiting")
OUTCOMES = ("worked", "no_show", "excused")
MOVE_KINDS = ("in", "out", "give", "lend", "remove")


def _reach(model):
    """Beyond the grid scope: a Party member sees the stations of the
    communities of their home grids; a contact department's handler sees the
    stations their department claims (now)."""
    if not has_request_context() or not current_user.is_authenticated:
        return None
    from core.security import grants

    communities = set()
    for role, path in grants():
        parts = path.strip("/").split("/")
        if role == "member" and len(parts) >= 2:
            communities.add(int(parts[1]))
    conds = []
    if communities:
        conds.append(model.community_id.in_(sorted(communities)))
    org_id = getattr(current_user, "organisation_id", None)
    if org_id and any(role == "handler" for role, _ in grants()):
        conds.append(model.id.in_(
            select(Claim.station_id).where(Claim.organisation_id == org_id, Claim.end_date.is_(None))
        ))
    return or_(*conds) if conds else None


@anchored("stations", node="node_id", url_args=("station_id",), reach=_reach)
class Station(db.Model):
    __tablename__ = "stations_station"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    # A copy of the node's community (kept by wangge_node_moved) for reach and figures.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("grid_node.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default="party_centre")
    address: Mapped[str] = mapped_column(String(255), default="")
    opening_hours: Mapped[str] = mapped_column(String(120), default="")
    photo: Mapped[str | None] = mapped_column(String(255))
    mode: Mapped[str] = mapped_column(String(20), default="service")
    # Hours of a worked shift count this many times (a night post may weigh more).
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    # Members may sign up and drop until this many hours before a shift starts.
    cutoff_hours: Mapped[int] = mapped_column(Integer, default=2)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    node: Mapped[GridNode] = relationship(foreign_keys=[node_id], lazy="joined")
    served: Mapped[list[ServedGrid]] = relationship(back_populates="station", cascade="all, delete-orphan",
                                                    lazy="select")
    claims: Mapped[list[Claim]] = relationship(back_populates="station", cascade="all, delete-orphan",
                                               lazy="select", order_by="Claim.start_date.desc()")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    @property
    def current_claim(self) -> Claim | None:
        return next((c for c in self.claims if c.end_date is None), None)


@anchored("stations", via="station", url_args=())
class ServedGrid(db.Model):
    """A grid (any node below the community) that the station serves."""

    __tablename__ = "stations_served_grid"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations_station.id"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)

    station: Mapped[Station] = relationship(back_populates="served")
    node: Mapped[GridNode] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("station_id", "node_id"),)


@anchored("stations", via="station", url_args=("claim_id",))
class Claim(db.Model):
    """A contact department's claim of a station (认领), with its liaison."""

    __tablename__ = "stations_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations_station.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    liaison_name: Mapped[str] = mapped_column(String(60), default="")
    liaison_phone: Mapped[str] = mapped_column(String(20), default="")

    station: Mapped[Station] = relationship(back_populates="claims")
    organisation: Mapped[Organisation] = relationship(lazy="joined")


@anchored("stations", via="station", url_args=("rota_id",))
class Rota(db.Model):
    """A repeating rota line ("every Saturday 9–12, 2 volunteers")."""

    __tablename__ = "stations_rota"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations_station.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start_time: Mapped[dt.time] = mapped_column(Time)
    end_time: Mapped[dt.time] = mapped_column(Time)
    role: Mapped[str] = mapped_column(String(60), default="")
    needed: Mapped[int] = mapped_column(Integer, default=2)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    station: Mapped[Station] = relationship()


@anchored("stations", via="station", url_args=("shift_id",))
class Shift(db.Model):
    """A duty shift. `taken` counts the held sign-ups; the database never lets
    it pass `needed` (a conditional UPDATE and a CHECK)."""

    __tablename__ = "stations_shift"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations_station.id"))
    day: Mapped[dt.date] = mapped_column(Date)  # the district day it starts on
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime)  # naive UTC
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime)
    role: Mapped[str] = mapped_column(String(60), default="")
    needed: Mapped[int] = mapped_column(Integer, default=2)
    taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    rota_id: Mapped[int | None] = mapped_column(ForeignKey("stations_rota.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("stations_incident.id"), index=True)

    station: Mapped[Station] = relationship()
    signups: Mapped[list[Signup]] = relationship(back_populates="shift", lazy="select",
                                                 order_by="Signup.id")

    __table_args__ = (
        UniqueConstraint("station_id", "starts_at", "role"),
        CheckConstraint("taken >= 0 AND taken <= needed", name="taken_within_needed"),
        Index("ix_stations_shift_station_day", "station_id", "day"),
        Index("ix_stations_shift_starts", "starts_at"),
    )

    @property
    def hours(self) -> float:
        return round((self.ends_at - self.starts_at).total_seconds() / 3600, 2)


@anchored("stations", via="shift", url_args=("signup_id",))
class Signup(db.Model):
    """A member on a shift: holding a slot, or waiting in line for one."""

    __tablename__ = "stations_signup"

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("stations_shift.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="held")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    promoted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    checked_in_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    checked_out_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str | None] = mapped_column(String(10))
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    rating: Mapped[int | None] = mapped_column(Integer)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    marked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    shift: Mapped[Shift] = relationship(back_populates="signups")
    member: Mapped[User] = relationship(foreign_keys=[member_id], lazy="joined")
    marked_by: Mapped[User | None] = relationship(foreign_keys=[marked_by_id])

    __table_args__ = (
        UniqueConstraint("shift_id", "member_id"),
        Index("ix_stations_signup_shift_status", "shift_id", "status", "id"),
        Index("ix_stations_signup_outcome", "outcome", "member_id"),
    )


@anchored("stations", via="signup", url_args=("swap_id",))
class Swap(db.Model):
    """A member asks to hand their slot to another member; an organiser decides."""

    __tablename__ = "stations_swap"

    id: Mapped[int] = mapped_column(primary_key=True)
    signup_id: Mapped[int] = mapped_column(ForeignKey("stations_signup.id", ondelete="CASCADE"), index=True)
    from_member_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    to_member_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending/approved/refused
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    signup: Mapped[Signup] = relationship()
    from_member: Mapped[User] = relationship(foreign_keys=[from_member_id], lazy="joined")
    to_member: Mapped[User] = relationship(foreign_keys=[to_member_id], lazy="joined")


@anchored("stations", via="station", url_args=())
class Opinion(db.Model):
    """A resident's opinion taken at a station in opinion-post mode."""

    __tablename__ = "stations_opinion"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations_station.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    resident_name: Mapped[str] = mapped_column(String(60), default="")
    resident_phone: Mapped[str] = mapped_column(String(20), default="")
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # The reference of the problem the problem module made of it (None: none took it).
    problem_ref: Mapped[str | None] = mapped_column(String(40))

    station: Mapped[Station] = relationship()


@anchored("stations", via="station", url_args=("incident_id",))
class Incident(db.Model):
    """An emergency during which the station is a command post."""

    __tablename__ = "stations_incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations_station.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    branch_name: Mapped[str] = mapped_column(String(120), default="")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    station: Mapped[Station] = relationship()
    branch: Mapped[list[BranchMember]] = relationship(back_populates="incident", order_by="BranchMember.id")
    log: Mapped[list[LogEntry]] = relationship(back_populates="incident", order_by="LogEntry.at.desc()")


@anchored("stations", via="incident", url_args=("branch_member_id",))
class BranchMember(db.Model):
    """A seat in the temporary Party branch; leaving sets `left_at` (history kept)."""

    __tablename__ = "stations_branch_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("stations_incident.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(12), default="member")  # secretary / member
    joined_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    left_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    incident: Mapped[Incident] = relationship(back_populates="branch")


@anchored("stations", via="incident", url_args=())
class LogEntry(db.Model):
    __tablename__ = "stations_log_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("stations_incident.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    author: Mapped[str] = mapped_column(String(60), default="")
    text: Mapped[str] = mapped_column(Text)

    incident: Mapped[Incident] = relationship(back_populates="log")


@anchored("stations", via="station", url_args=("batch_id",))
class MedicineBatch(db.Model):
    """A batch of one medicine in a station's shared box."""

    __tablename__ = "stations_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations_station.id"))
    name: Mapped[str] = mapped_column(String(80))
    spec: Mapped[str] = mapped_column(String(80), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    expiry: Mapped[dt.date] = mapped_column(Date)
    donor: Mapped[str] = mapped_column(String(80), default="")
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    removed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    removed_reason: Mapped[str | None] = mapped_column(String(200))

    station: Mapped[Station] = relationship()

    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("ix_stations_batch_station_expiry", "station_id", "expiry"),
    )


@anchored("stations", via="station", url_args=("move_id",))
class Move(db.Model):
    """A movement of a batch: in, out, give (consumed) or lend (to be returned),
    remove (expired stock taken out). Give and lend name the resident."""

    __tablename__ = "stations_move"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("stations_batch.id"), index=True)
    # The batch's station, copied so that the box's figures group without a join.
    station_id: Mapped[int] = mapped_column(ForeignKey("stations_station.id"))
    kind: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resident_name: Mapped[str] = mapped_column(String(60), default="")
    resident_phone: Mapped[str] = mapped_column(String(20), default="")
    # "phone|name": one resident, however often they come.
    resident_key: Mapped[str | None] = mapped_column(String(90))
    returned_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(String(200), default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    batch: Mapped[MedicineBatch] = relationship(lazy="joined")
    station: Mapped[Station] = relationship()

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_stations_move_station_kind", "station_id", "kind", "resident_key"),
    )
