"""Resource list, needs list, matching, and the public-benefit projects (惠民项目)."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from core import audit
from core.extensions import db
from core.models import CommitteeMember, GridNode, Organisation, User, utcnow

from ..models import (
    CATEGORIES,
    NEED_SOURCES,
    PROJECT_STATES,
    RESOURCE_KINDS,
    Milestone,
    Need,
    Project,
    Resource,
)
from . import OrdersError


def _community_id(node: GridNode) -> int:
    return node.id if node.level == "community" else node.community_id


def committee_units(community_id: int) -> list[Organisation]:
    """The partner units on the community's co-building committee."""
    return list(db.session.scalars(
        select(Organisation).join(CommitteeMember, CommitteeMember.organisation_id == Organisation.id)
        .where(CommitteeMember.community_id == community_id).order_by(Organisation.name)
    ))


def add_resource(node: GridNode, *, org_id: int | None, category: str, kind: str, title: str,
                 amount: float, unit: str, by: User) -> Resource:
    if node.level in ("district",):
        raise OrdersError(_("Choose a grid of a community."), "node_id")
    cid = _community_id(node)
    if category not in CATEGORIES:
        raise OrdersError(_("Choose a category."), "category")
    if kind not in RESOURCE_KINDS:
        raise OrdersError(_("Choose a kind of resource."), "kind")
    if not (title or "").strip():
        raise OrdersError(_("Describe the resource."), "title")
    if amount is None or amount < 0:
        raise OrdersError(_("The amount cannot be negative."), "amount")
    if org_id and org_id not in {o.id for o in committee_units(cid)}:
        raise OrdersError(_("Choose a partner unit of this community's co-building committee."), "org_id")
    r = Resource(node_id=node.id, community_id=cid, org_id=org_id or None, category=category, kind=kind,
                 title=title.strip(), amount=amount, unit=(unit or "").strip()[:12])
    db.session.add(r)
    db.session.flush()
    audit.record("orders.resource_add", r, summary=r.title, community_id=cid)
    return r


def add_need(node: GridNode, *, category: str, title: str, description: str, source: str,
             source_ref: str = "", by: User | None = None) -> Need:
    if node.level == "district":
        raise OrdersError(_("Choose a grid of a community."), "node_id")
    if category not in CATEGORIES:
        raise OrdersError(_("Choose a category."), "category")
    if source not in NEED_SOURCES:
        raise OrdersError(_("Choose where the need comes from."), "source")
    if not (title or "").strip():
        raise OrdersError(_("Describe the need."), "title")
    cid = _community_id(node)
    n = Need(node_id=node.id, community_id=cid, category=category, title=title.strip(),
             description=(description or "").strip(), source=source, source_ref=source_ref or "")
    db.session.add(n)
    db.session.flush()
    audit.record("orders.need_add", n, summary=n.title, community_id=cid)
    return n


def create_project(*, name: str, budget: float, resources: list[Resource], needs: list[Need],
                   members: list[User] = (), by: User) -> Project:
    """Confirm matched resources and needs into a project of their community."""
    if not resources or not needs:
        raise OrdersError(_("A project is matched from at least one resource and one need."), "resource_ids")
    communities = {r.community_id for r in resources} | {n.community_id for n in needs}
    if len(communities) != 1:
        raise OrdersError(_("Resources and needs of one community only."), "resource_ids")
    if not (name or "").strip():
        raise OrdersError(_("Give the project a name."), "name")
    if budget is None or budget < 0:
        raise OrdersError(_("The budget cannot be negative."), "budget")
    cid = communities.pop()
    category = needs[0].category
    p = Project(community_id=cid, name=name.strip(), category=category, budget=budget, state="planned",
                created_by_id=by.id if by else None)
    p.resources = list(resources)
    p.needs = list(needs)
    p.partners = sorted({r.org for r in resources if r.org is not None}, key=lambda o: o.id)
    p.members = list(members)
    db.session.add(p)
    db.session.flush()
    audit.record("orders.project_create", p, summary=p.name, community_id=cid)
    return p


def add_milestone(p: Project, title: str, due: dt.date | None) -> Milestone:
    if not (title or "").strip():
        raise OrdersError(_("Name the milestone."), "title")
    if due is None:
        raise OrdersError(_("Give the milestone a date."), "due_date")
    m = Milestone(project=p, title=title.strip(), due_date=due)
    db.session.add(m)
    if p.state == "planned":
        p.state = "running"
    audit.record("orders.milestone_add", p, summary=m.title, community_id=p.community_id)
    return m


def milestone_done(m: Milestone) -> None:
    if m.done_at is None:
        m.done_at = utcnow()
        audit.record("orders.milestone_done", m.project, summary=m.title, community_id=m.project.community_id)


def set_result(p: Project, *, state: str, result: str) -> None:
    if state not in PROJECT_STATES:
        raise OrdersError(_("Choose a state."), "state")
    if state == "done" and not (result or "").strip():
        raise OrdersError(_("Describe the result of a finished project."), "result")
    p.state = state
    p.result = (result or "").strip()
    audit.record("orders.project_result", p, summary=state, community_id=p.community_id)
