"""The read side: every list, count and figure of the module, through core.access."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import aliased

from core import access, clock
from core.access import CURRENT
from core.extensions import db
from core.models import GridNode, Organisation, User, subtree, utcnow

from .models import (
    Commitment,
    Need,
    Order,
    Project,
    Registration,
    Resource,
    ServicePost,
    Take,
    project_need,
)

# --- Orders -------------------------------------------------------------------------------

ORDER_FILTERS = ("open", "upcoming", "past", "cancelled", "closed", "all")


def orders_stmt(flt: str = "upcoming", community=CURRENT):
    now = utcnow()
    stmt = access.scoped(select(Order), Order, community=community)
    if flt == "open":
        stmt = stmt.where(Order.state == "open", Order.taken < Order.needed, Order.deadline > now)
    elif flt == "upcoming":
        stmt = stmt.where(Order.state == "open", Order.starts_at > now)
    elif flt == "past":
        stmt = stmt.where(Order.state == "open", Order.starts_at <= now)
    elif flt in ("cancelled", "closed"):
        stmt = stmt.where(Order.state == flt)
    order = Order.starts_at.desc() if flt in ("past", "closed", "cancelled", "all") else Order.starts_at
    return stmt.order_by(order, Order.id)


def fitting_orders_stmt(reg: Registration | None, skills: list[str]):
    """Open orders a member can take, those fitting their skills and home grid first."""
    now = utcnow()
    stmt = access.scoped(select(Order), Order, community=None).where(
        Order.state == "open", Order.taken < Order.needed, Order.deadline > now
    )
    if reg is not None:
        stmt = stmt.where(Order.community_id == reg.community_id)
    skill_fit = or_(*[Order.skills.contains(s) for s in skills]) if skills else literal(False)
    home = reg.home_node if reg is not None else None
    if home is not None:
        estate_path = "/".join(home.path.split("/")[:4]) + "/"
        grid = aliased(GridNode)
        home_fit = Order.node_id.in_(
            select(grid.id).where(or_(grid.id.in_(home.ancestor_ids()), subtree(grid.path, estate_path)))
        )
    else:
        home_fit = literal(False)
    fit = case((skill_fit, 2), else_=0) + case((home_fit, 1), else_=0)
    return stmt.add_columns(fit.label("fit")).order_by(fit.desc(), Order.starts_at, Order.id)


def takes_of_member_stmt(member_id: int):
    return (access.scoped(select(Take), Take, community=None)
            .where(Take.member_id == member_id).order_by(Order.starts_at.desc(), Take.id))


def reports_waiting_stmt(community=CURRENT):
    return (access.scoped(select(Take), Take, action="orders.manage", community=community)
            .where(Take.state == "reported").order_by(Take.reported_at))


def posts_stmt(community=CURRENT, templates: bool = False):
    stmt = access.scoped(select(ServicePost), ServicePost, community=None if templates else community)
    stmt = stmt.where(ServicePost.is_template.is_(templates))
    return stmt.order_by(ServicePost.name, ServicePost.id)


def post_choices(community_id: int) -> list[ServicePost]:
    return list(db.session.scalars(
        posts_stmt(community=community_id).where(ServicePost.active.is_(True), ServicePost.node_id == community_id)
    ))


# --- Registrations --------------------------------------------------------------------------

def registrations_stmt(state: str | None = None, community=CURRENT, action: str = "orders.registrations"):
    stmt = access.scoped(select(Registration), Registration, action=action, community=community)
    if state:
        stmt = stmt.where(Registration.state == state)
    return stmt.order_by(Registration.created_at.desc(), Registration.id.desc())


def status_by_community(community=None):
    """Registrations per community and state: [(community, {state: n})]."""
    base = access.scoped(select(Registration.community_id, Registration.state, func.count()),
                         Registration, community=community)
    rows = db.session.execute(base.group_by(Registration.community_id, Registration.state)).all()
    per: dict[int, dict[str, int]] = {}
    for cid, state, n in rows:
        per.setdefault(cid, {})[state] = n
    nodes = {n.id: n for n in db.session.scalars(select(GridNode).where(GridNode.id.in_(per)))} if per else {}
    return sorted(((nodes[c], s) for c, s in per.items()), key=lambda x: (x[0].sort_order, x[0].id))


def status_by_unit(community=None):
    """Registrations per employer unit and state: [(unit name, {state: n})]."""
    unit = func.coalesce(Organisation.name, Registration.employer_name)
    base = access.scoped(
        select(unit, Registration.state, func.count()).select_from(Registration)
        .outerjoin(Organisation, Organisation.id == Registration.employer_org_id),
        Registration, community=community,
    )
    per: dict[str, dict[str, int]] = {}
    for name, state, n in db.session.execute(base.group_by(unit, Registration.state)).all():
        per.setdefault(name or "", {})[state] = n
    return sorted(per.items())


# --- Commitments and the board ----------------------------------------------------------------

def board_stmt(community_id: int, *, public: bool = False):
    """One community's commitments for the board. The public board (no user)
    is gated by the module switch only; staff boards by their scope too."""
    if public:
        stmt = select(Commitment).where(Commitment.community_id == community_id,
                                        access.module_condition("orders", Commitment.community_id))
    else:
        stmt = access.scoped(select(Commitment), Commitment, community=community_id)
    done_last = case((Commitment.done_at.is_(None), 0), else_=1)
    return stmt.order_by(done_last, Commitment.deadline, Commitment.id)


def board_counts(community_id: int, *, public: bool = False) -> dict[str, int]:
    today = clock.today()
    sub = board_stmt(community_id, public=public).order_by(None).subquery()
    row = db.session.execute(select(
        func.count(),
        func.count(case((sub.c.done_at.isnot(None), 1))),
        func.count(case((and_(sub.c.done_at.is_(None), sub.c.deadline < today), 1))),
    ).select_from(sub)).one()
    total, done, overdue = row
    return {"total": total, "done": done, "overdue": overdue, "in_progress": total - done - overdue}


def commitments_of_member_stmt(member_id: int):
    return (access.scoped(select(Commitment), Commitment, community=None)
            .where(Commitment.member_id == member_id).order_by(Commitment.deadline.desc()))


# --- Resources, needs, projects ------------------------------------------------------------------

def resources_stmt(community=CURRENT, category: str | None = None):
    stmt = access.scoped(select(Resource), Resource, community=community)
    if category:
        stmt = stmt.where(Resource.category == category)
    return stmt.order_by(Resource.community_id, Resource.category, Resource.id)


def needs_stmt(community=CURRENT, category: str | None = None, unmatched: bool = False):
    stmt = access.scoped(select(Need), Need, community=community)
    if category:
        stmt = stmt.where(Need.category == category)
    if unmatched:
        stmt = stmt.where(~exists().where(project_need.c.need_id == Need.id))
    return stmt.order_by(Need.community_id, Need.category, Need.id)


def proposals_stmt(community=CURRENT, category: str | None = None):
    """Resource ↔ need pairs of one community and category, for needs not yet in
    a project; a resource whose grid contains the need's grid comes first."""
    rnode, nnode = aliased(GridNode), aliased(GridNode)
    stmt = (
        select(Need, Resource)
        .join(Resource, and_(Resource.category == Need.category, Resource.community_id == Need.community_id))
        .join(rnode, rnode.id == Resource.node_id)
        .join(nnode, nnode.id == Need.node_id)
        .where(~exists().where(project_need.c.need_id == Need.id))
    )
    stmt = access.scoped(stmt, Need, action="orders.manage", community=community)
    if category:
        stmt = stmt.where(Need.category == category)
    grid_fit = case((nnode.path.startswith(rnode.path), 0), else_=1)
    return stmt.order_by(Need.community_id, Need.id, grid_fit, Resource.id)


def projects_stmt(community=CURRENT, category: str | None = None):
    stmt = access.scoped(select(Project), Project, community=community)
    if category:
        stmt = stmt.where(Project.category == category)
    return stmt.order_by(Project.community_id, Project.id)


# --- Figures for the widget and the node panel -----------------------------------------------------

def figures(community=CURRENT) -> dict[str, int]:
    now = utcnow()

    def count(stmt):
        return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0

    return {
        "open": count(orders_stmt("open", community)),
        "upcoming": count(orders_stmt("upcoming", community)),
        "waiting_reports": count(access.scoped(select(Take.id), Take, community=community)
                                 .where(Take.state == "reported")),
        "pending_registrations": count(access.scoped(select(Registration.id), Registration, community=community)
                                       .where(Registration.state == "submitted")),
        "members": count(access.scoped(select(Registration.id), Registration, community=community)
                         .where(Registration.state == "confirmed")),
        "projects": count(access.scoped(select(Project.id), Project, community=community)),
        "overdue": count(access.scoped(select(Commitment.id), Commitment, community=community)
                         .where(Commitment.done_at.is_(None), Commitment.deadline < clock.today())),
        "now": int(now.timestamp()),
    }


def node_orders_stmt(node: GridNode):
    return (access.scoped(select(Order), Order, community=None)
            .where(access.in_subtree(Order, node)).order_by(Order.starts_at.desc(), Order.id.desc()))


# --- Service records (the core's hook) --------------------------------------------------------------

def accepted_takes(member_ids, start: dt.date, end: dt.date) -> list[Take]:
    lo, hi = clock.day_bounds(start, end)
    return list(db.session.scalars(
        select(Take).join(Order, Order.id == Take.order_id)
        .where(Take.member_id.in_(list(member_ids)), Take.state == "accepted",
               Order.starts_at >= lo, Order.starts_at < hi,
               access.module_condition("orders", Order.community_id))
        .order_by(Order.starts_at, Take.id)
    ))


def members_of_community(community_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Registration, Registration.user_id == User.id)
        .where(Registration.community_id == community_id, Registration.state == "confirmed",
               access.module_condition("orders", Registration.community_id))
        .order_by(User.display_name, User.id)
    ))
