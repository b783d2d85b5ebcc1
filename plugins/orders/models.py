"""Volunteer orders (社区下单、党员接单): registrations of in-service Party
members with their home community (双报到), service posts, orders and who
took them (with the completion report), public commitments, and the
resource list, needs list and the projects matched from them.

Names follow ../shared/domain/glossary.md. Instants are naive UTC (core.clock).
"""

from __future__ import annotations

import datetime as dt

from flask_login import current_user
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.access import anchored
from core.extensions import db
from core.models import GridNode, Organisation, User, utcnow

# The four seed categories of public-benefit projects, resources and needs.
CATEGORIES = ("governance", "social_work", "specific_groups", "party_service")
RESOURCE_KINDS = ("money", "venue", "skill", "material")
NEED_SOURCES = ("resident", "visit", "problem")
ORDER_SOURCES = ("community", "need", "problem")
REG_STATES = ("submitted", "confirmed", "returned")
ORDER_STATES = ("open", "cancelled", "closed")
TAKE_STATES = ("taken", "reported", "accepted", "returned")
PROJECT_STATES = ("planned", "running", "done")


def _registration_reach(model):
    """Beyond the grid scope: one's own registrations, and a unit handler's
    own unit's members (never another unit's)."""
    if not current_user.is_authenticated:
        return None
    from core.security import roles

    conds = [model.user_id == current_user.id]
    if "handler" in roles() and current_user.organisation_id:
        conds.append(model.employer_org_id == current_user.organisation_id)
    return or_(*conds)


def _template_reach(model):
    """District-wide post templates are a catalogue every community reads."""
    return model.is_template.is_(True) if current_user.is_authenticated else false()


@anchored("orders", node="community_id", view="orders.registrations", url_args=("registration_id",),
          reach=_registration_reach)
class Registration(db.Model):
    """An in-service Party member's registration with the community where they live (双报到)."""

    __tablename__ = "orders_registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"))
    # The zone or building of the home address, when it could be matched.
    home_node_id: Mapped[int | None] = mapped_column(ForeignKey("grid_node.id"), index=True)
    employer_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    employer_name: Mapped[str] = mapped_column(String(120), default="")
    party_branch: Mapped[str] = mapped_column(String(120), default="")
    address: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    skills: Mapped[str] = mapped_column(String(255), default="")
    resources: Mapped[str] = mapped_column(String(255), default="")
    hours_per_month: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(12), default="submitted")
    reason: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    community: Mapped[GridNode] = relationship(foreign_keys=[community_id], lazy="joined")
    home_node: Mapped[GridNode | None] = relationship(foreign_keys=[home_node_id], lazy="select")
    employer: Mapped[Organisation | None] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("user_id", "community_id"),
        Index("ix_orders_registration_community_state", "community_id", "state"),
    )

    @property
    def employer_label(self) -> str:
        return self.employer.name if self.employer is not None else self.employer_name

    @property
    def skill_list(self) -> list[str]:
        return split_words(self.skills)


post_grid = Table(
    "orders_post_grid",
    db.metadata,
    Column("post_id", ForeignKey("orders_post.id", ondelete="CASCADE"), primary_key=True),
    Column("node_id", ForeignKey("grid_node.id"), primary_key=True, index=True),
)


@anchored("orders", node="node_id", url_args=("post_id",), reach=_template_reach)
class ServicePost(db.Model):
    """A service post (服务岗位) of a community, or a district-wide template
    (on the district node) that communities adopt."""

    __tablename__ = "orders_post"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    is_template: Mapped[bool] = mapped_column(Boolean, default=False)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("orders_post.id"))
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    skills: Mapped[str] = mapped_column(String(255), default="")
    category: Mapped[str] = mapped_column(String(20), default="party_service")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    node: Mapped[GridNode] = relationship(lazy="joined")
    grids: Mapped[list[GridNode]] = relationship(secondary=post_grid, lazy="selectin")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("node_id", "name"),)


@anchored("orders", node="node_id", url_args=("order_id",))
class Order(db.Model):
    """An order (订单) the community places on a post; members take it (接单)."""

    __tablename__ = "orders_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("orders_post.id"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    skills: Mapped[str] = mapped_column(String(255), default="")
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime)
    hours: Mapped[float] = mapped_column(Float, default=2.0)
    # Takes close at the deadline; withdrawing closes WITHDRAW_HOURS before the start.
    deadline: Mapped[dt.datetime] = mapped_column(DateTime)
    needed: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    state: Mapped[str] = mapped_column(String(12), default="open")
    source: Mapped[str] = mapped_column(String(12), default="community")
    source_ref: Mapped[str] = mapped_column(String(60), default="")
    need_id: Mapped[int | None] = mapped_column(ForeignKey("orders_need.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reminded_before: Mapped[bool] = mapped_column(Boolean, default=False)
    reminded_deadline: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    post: Mapped[ServicePost] = relationship(lazy="joined")
    node: Mapped[GridNode] = relationship(foreign_keys=[node_id], lazy="joined")
    takes: Mapped[list[Take]] = relationship(back_populates="order", lazy="select",
                                             order_by="Take.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("taken >= 0 AND taken <= needed", name="capacity"),
        Index("ix_orders_order_community_start", "community_id", "starts_at"),
    )

    @property
    def places_left(self) -> int:
        return max(0, self.needed - self.taken)

    @property
    def skill_list(self) -> list[str]:
        return split_words(self.skills)


@anchored("orders", via="order", url_args=("take_id",))
class Take(db.Model):
    """A member on an order (took it or was assigned), with their completion report."""

    __tablename__ = "orders_take"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_order.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    state: Mapped[str] = mapped_column(String(12), default="taken")
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    report_text: Mapped[str] = mapped_column(Text, default="")
    report_hours: Mapped[float | None] = mapped_column(Float)
    photo: Mapped[str | None] = mapped_column(String(255))
    reported_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    return_reason: Mapped[str] = mapped_column(String(255), default="")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    order: Mapped[Order] = relationship(back_populates="takes", lazy="joined")
    member: Mapped[User] = relationship(foreign_keys=[member_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    # One place per member per order: the second take of the same member fails here.
    __table_args__ = (UniqueConstraint("order_id", "member_id"),)


@anchored("orders", node="community_id", url_args=("commitment_id",))
class Commitment(db.Model):
    """A member's public commitment (承诺): service items and a completion deadline."""

    __tablename__ = "orders_commitment"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("orders_post.id"))
    text: Mapped[str] = mapped_column(String(255))
    items: Mapped[str] = mapped_column(String(255))
    deadline: Mapped[dt.date] = mapped_column(Date)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    member: Mapped[User] = relationship(lazy="joined")
    post: Mapped[ServicePost | None] = relationship(lazy="joined")

    __table_args__ = (Index("ix_orders_commitment_community_deadline", "community_id", "deadline"),)


@anchored("orders", node="node_id", url_args=("resource_id",))
class Resource(db.Model):
    """An entry of the resource list: what the community or a partner unit offers."""

    __tablename__ = "orders_resource"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(120))
    amount: Mapped[float] = mapped_column(Float, default=0)
    unit: Mapped[str] = mapped_column(String(12), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    node: Mapped[GridNode] = relationship(foreign_keys=[node_id], lazy="joined")
    org: Mapped[Organisation | None] = relationship(lazy="joined")


@anchored("orders", node="node_id", url_args=("need_id",))
class Need(db.Model):
    """An entry of the needs list: from residents, visits or problems."""

    __tablename__ = "orders_need"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(12), default="resident")
    source_ref: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    node: Mapped[GridNode] = relationship(foreign_keys=[node_id], lazy="joined")


project_resource = Table(
    "orders_project_resource",
    db.metadata,
    Column("project_id", ForeignKey("orders_project.id", ondelete="CASCADE"), primary_key=True),
    Column("resource_id", ForeignKey("orders_resource.id"), primary_key=True, index=True),
)
project_need = Table(
    "orders_project_need",
    db.metadata,
    Column("project_id", ForeignKey("orders_project.id", ondelete="CASCADE"), primary_key=True),
    Column("need_id", ForeignKey("orders_need.id"), primary_key=True, index=True),
)
project_partner = Table(
    "orders_project_partner",
    db.metadata,
    Column("project_id", ForeignKey("orders_project.id", ondelete="CASCADE"), primary_key=True),
    Column("org_id", ForeignKey("organisation.id"), primary_key=True),
)
project_member = Table(
    "orders_project_member",
    db.metadata,
    Column("project_id", ForeignKey("orders_project.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id"), primary_key=True),
)


@anchored("orders", node="community_id", url_args=("project_id",))
class Project(db.Model):
    """A public-benefit project (惠民项目) matched from resources and needs."""

    __tablename__ = "orders_project"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(20))
    budget: Mapped[float] = mapped_column(Float, default=0)
    state: Mapped[str] = mapped_column(String(12), default="planned")
    result: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    community: Mapped[GridNode] = relationship(lazy="joined")
    resources: Mapped[list[Resource]] = relationship(secondary=project_resource, lazy="selectin")
    needs: Mapped[list[Need]] = relationship(secondary=project_need, lazy="selectin")
    partners: Mapped[list[Organisation]] = relationship(secondary=project_partner, lazy="selectin")
    members: Mapped[list[User]] = relationship(secondary=project_member, lazy="selectin")
    milestones: Mapped[list[Milestone]] = relationship(back_populates="project", lazy="selectin",
                                                       order_by="Milestone.due_date",
                                                       cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


@anchored("orders", via="project", url_args=("milestone_id",))
class Milestone(db.Model):
    __tablename__ = "orders_milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("orders_project.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    due_date: Mapped[dt.date] = mapped_column(Date)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    project: Mapped[Project] = relationship(back_populates="milestones", lazy="joined")


def split_words(text: str | None) -> list[str]:
    """'普法, 调解；辅导' -> ['普法', '调解', '辅导'] (commas of either script)."""
    if not text:
        return []
    for sep in "，；;、":
        text = text.replace(sep, ",")
    return [w.strip() for w in text.split(",") if w.strip()]
