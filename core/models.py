"""The core's models: the grid tree, organisations, users and their roles,
staffing with A/B posts and leave, module switches and the audit log.

Names follow ../shared/domain/glossary.md.
"""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
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
    event,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from . import clock
from .extensions import db

# The five levels of the grid tree, top to bottom.
LEVELS = ("district", "community", "estate", "building", "zone")

# Roles of ../shared/domain/glossary.md; each is granted on a grid node.
ROLES = ("district_admin", "community_admin", "grid_worker", "member", "handler", "resident")

ORG_KINDS = ("department", "property_company", "partner_unit")

# The path column compares byte-wise on PostgreSQL too, so that a subtree is
# one index range scan ("/1/5/" <= path < "/1/5/~") whatever the locale.
PathString = String(255).with_variant(String(255, collation="C"), "postgresql")


def utcnow() -> dt.datetime:
    """Now as stored (naive UTC), from the one clock (core.clock)."""
    return clock.utcnow()


def subtree(column, path: str, include_self: bool = True):
    """SQL condition: `column` (a path) lies in the subtree rooted at `path`."""
    cond = (column >= path) & (column < path + "~")
    if not include_self:
        cond = cond & (column != path)
    return cond


class GridNode(db.Model):
    """A node of the grid tree: district, community, estate, building or zone."""

    __tablename__ = "grid_node"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grid_node.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    # "/1/5/23/": the ids from the root down to this node; see subtree().
    path: Mapped[str] = mapped_column(PathString, unique=True, default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    address: Mapped[str | None] = mapped_column(String(255))
    # The node's community (itself for a community, None for the district):
    # module switches are per community, so every request needs it cheaply.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("grid_node.id"), index=True)
    party_org: Mapped[str | None] = mapped_column(String(120))
    party_leader: Mapped[str | None] = mapped_column(String(60))
    party_leader_phone: Mapped[str | None] = mapped_column(String(20))
    property_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id"), index=True
    )
    # Maintained totals of the subtree beneath this node (not counting itself),
    # so that a node page never counts thousands of rows.
    n_communities: Mapped[int] = mapped_column(Integer, default=0)
    n_estates: Mapped[int] = mapped_column(Integer, default=0)
    n_buildings: Mapped[int] = mapped_column(Integer, default=0)
    n_zones: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    parent: Mapped[GridNode | None] = relationship(
        remote_side=[id], foreign_keys=[parent_id], lazy="select"
    )
    property_company: Mapped[Organisation | None] = relationship(lazy="select")

    __table_args__ = (Index("ix_grid_node_parent_sort", "parent_id", "sort_order", "id"),)

    @property
    def level_index(self) -> int:
        return LEVELS.index(self.level)

    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<GridNode {self.level} {self.code} {self.name}>"


class Organisation(db.Model):
    """A department, property company or partner unit."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(40))
    contact_name: Mapped[str | None] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CommitteeMember(db.Model):
    """A partner unit's seat on a community's co-building committee."""

    __tablename__ = "committee_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role_note: Mapped[str | None] = mapped_column(String(120))

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("community_id", "organisation_id"),)


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    # A handler acts for one department or property company.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Part of every session and remember-me cookie (see get_id): raising it
    # (sign-out, a new password) ends every session of the account at once.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A password set by an administrator is changed by its owner at first sign-in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    organisation: Mapped[Organisation | None] = relationship(lazy="select")
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", lazy="select", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    # Set per sign-in (core.views.auth): makes each session's and remember
    # cookie's id differ, so that a cookie of one sign-in is not the next one's.
    login_nonce: str = "-"

    def get_id(self) -> str:  # flask-login: "id:session version:nonce"
        return f"{self.id}:{self.session_version or 0}:{self.login_nonce}"

    def end_sessions(self) -> None:
        """Every session and remember-me cookie of this account stops working."""
        self.session_version = (self.session_version or 0) + 1

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class RoleGrant(db.Model):
    """A role granted on a grid node; it covers that node's subtree."""

    __tablename__ = "role_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="grants")
    node: Mapped[GridNode] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("user_id", "role", "node_id"),)


class GridPost(db.Model):
    """The staffing of one grid: its A-post worker and the B-post who backs them up.

    The B-post worker holds the A post of an adjacent grid in the same
    community; while the A-post worker is on leave, the B-post covers this grid.
    """

    __tablename__ = "grid_post"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), unique=True)
    a_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    b_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    node: Mapped[GridNode] = relationship(lazy="joined")
    a_user: Mapped[User | None] = relationship(foreign_keys=[a_user_id], lazy="joined")
    b_user: Mapped[User | None] = relationship(foreign_keys=[b_user_id], lazy="joined")


class Leave(db.Model):
    """A grid worker's leave; inclusive dates."""

    __tablename__ = "leave"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    __table_args__ = (Index("ix_leave_user_dates", "user_id", "start_date", "end_date"),)


class ModuleSetting(db.Model):
    """Whether a module is on; community_id NULL is the district default."""

    __tablename__ = "module_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("grid_node.id"), index=True)
    module: Mapped[str] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __table_args__ = (UniqueConstraint("community_id", "module"),)


class AuditLog(db.Model):
    """Append-only: who did what to which record, when and from where."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    username: Mapped[str | None] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40), index=True)
    object_id: Mapped[str | None] = mapped_column(String(40))
    summary: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("grid_node.id"), index=True)


@event.listens_for(Session, "before_flush")
def _audit_is_append_only(session, flush_context, instances):  # pragma: no cover - trivial
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditLog):
            raise ValueError("The audit log is append-only.")
