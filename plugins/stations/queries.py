"""The read side of the stations module: list statements, counts and figures,
every one through core.access (scope and module switches in SQL)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import distinct, func, literal, or_, select
from sqlalchemy.orm import aliased, selectinload

from core import access, clock
from core.access import CURRENT
from core.extensions import db
from core.models import GridNode, RoleGrant, User, subtree

from .models import Claim, MedicineBatch, Move, ServedGrid, Shift, Signup, Station

SHARED = ("give", "lend")


def stations_stmt(community=CURRENT, mode: str | None = None, q: str | None = None, node: GridNode | None = None):
    """Stations in scope, in grid order (so a page reads estate by estate)."""
    place = aliased(GridNode)
    stmt = select(Station).join(place, place.id == Station.node_id)
    stmt = access.scoped(stmt, Station, community=community)
    if mode:
        stmt = stmt.where(Station.mode == mode)
    if q:
        stmt = stmt.where(Station.name.contains(q.strip()))
    if node is not None:
        stmt = stmt.where(subtree(place.path, node.path))
    return stmt.order_by(place.path, Station.name, Station.id)


def estate_names(stations) -> dict[int, str]:
    """The estate (or community) each station sits in, by station id, in one query."""
    want: dict[int, int] = {}
    for s in stations:
        parts = [int(p) for p in s.node.path.strip("/").split("/") if p]
        want[s.id] = parts[2] if len(parts) > 2 else parts[-1]
    names = dict(db.session.execute(select(GridNode.id, GridNode.name).where(GridNode.id.in_(set(want.values())))).all())
    return {sid: names.get(nid, "") for sid, nid in want.items()}


def member_home_nodes(user_id: int) -> list[GridNode]:
    return list(db.session.scalars(select(GridNode).join(RoleGrant, RoleGrant.node_id == GridNode.id)
                                   .where(RoleGrant.user_id == user_id, RoleGrant.role == "member")))


def _near_path(node: GridNode) -> str:
    """The estate around a home grid (or the community itself)."""
    parts = node.path.strip("/").split("/")
    return "/" + "/".join(parts[:3]) + "/" if len(parts) >= 3 else node.path


def open_shifts_stmt(member: User, now: dt.datetime, days: int = 14):
    """Shifts a member may still sign up for at stations of their home
    communities within `days`, those serving grids around their home first."""
    homes = member_home_nodes(member.id)
    last = clock.today() + dt.timedelta(days=days)
    stmt = select(Shift).join(Station, Station.id == Shift.station_id)
    communities = sorted({h.id if h.level == "community" else h.community_id for h in homes if h.level != "district"})
    stmt = stmt.where(Station.community_id.in_(communities), access.module_condition("stations", Station.community_id),
                      Shift.restricted.is_(False), Shift.starts_at > now, Shift.day <= last, Shift.incident_id.is_(None),
                      ~Shift.id.in_(select(Signup.shift_id).where(Signup.member_id == member.id)))
    near = [_near_path(h) for h in homes if h.level not in ("district", "community")]
    if near:
        served = aliased(GridNode)
        is_near = select(ServedGrid.id).join(served, served.id == ServedGrid.node_id).where(
            ServedGrid.station_id == Station.id, or_(*[subtree(served.path, p) for p in near])).exists()
        stmt = stmt.order_by(is_near.desc(), Shift.starts_at, Shift.id)
    else:
        stmt = stmt.order_by(Shift.starts_at, Shift.id)
    return stmt.options(selectinload(Shift.station))


def my_signups_stmt(member: User, upcoming: bool, now: dt.datetime):
    stmt = access.scoped(select(Signup).where(Signup.member_id == member.id), Signup, community=None)
    if upcoming:
        stmt = stmt.where(Shift.ends_at >= now).order_by(Shift.starts_at)
    else:
        stmt = stmt.where(Shift.ends_at < now).order_by(Shift.starts_at.desc())
    return stmt.options(selectinload(Signup.shift).selectinload(Shift.station))


def week_shifts(station: Station, monday: dt.date) -> list[Shift]:
    return list(db.session.scalars(
        select(Shift).where(Shift.station_id == station.id, Shift.day >= monday,
                            Shift.day < monday + dt.timedelta(days=7))
        .order_by(Shift.starts_at, Shift.role).options(selectinload(Shift.signups))
    ))


def todays_signups(station: Station, today: dt.date) -> list[Signup]:
    return list(db.session.scalars(
        select(Signup).join(Shift, Shift.id == Signup.shift_id)
        .where(Shift.station_id == station.id, Shift.day == today, Signup.status == "held")
        .order_by(Shift.starts_at, Signup.id).options(selectinload(Signup.shift))
    ))


def coverage_stmt(today: dt.date, days: int = 14, community=CURRENT):
    """Shifts with free slots in the next `days` days, soonest first."""
    stmt = access.scoped(select(Shift), Shift, community=community)
    return (stmt.where(Shift.day >= today, Shift.day < today + dt.timedelta(days=days), Shift.taken < Shift.needed)
            .order_by(Shift.starts_at, Shift.id).options(selectinload(Shift.station)))


def coverage_counts(today: dt.date, days: int = 14, community=CURRENT) -> tuple[int, int]:
    """(shifts with free slots, free slots) in the next `days` days."""
    stmt = access.scoped(select(func.count(), func.coalesce(func.sum(Shift.needed - Shift.taken), 0)).select_from(Shift),
                         Shift, community=community)
    row = db.session.execute(stmt.where(Shift.day >= today, Shift.day < today + dt.timedelta(days=days),
                                        Shift.taken < Shift.needed)).one()
    return int(row[0] or 0), int(row[1] or 0)


def hours_stmt(start: dt.date, end: dt.date, community=CURRENT):
    """Worked hours per member in a period: (user, shifts, hours)."""
    total = func.sum(Signup.hours).label("hours")
    stmt = select(Signup.member_id, func.count().label("shifts"), total).select_from(Signup)
    stmt = access.scoped(stmt, Signup, community=community)
    sub = (stmt.where(Signup.outcome == "worked", Shift.day >= start, Shift.day <= end)
           .group_by(Signup.member_id).subquery())
    return (select(User, sub.c.shifts, sub.c.hours).join(sub, sub.c.member_id == User.id)
            .order_by(sub.c.hours.desc(), User.id))


def medicine_figures(group: str = "station", community=CURRENT):
    """Distinct residents served and items shared (given + lent), per station,
    per community or district-wide (`group` = station / community / district)."""
    residents = func.count(distinct(Move.resident_key))
    items = func.coalesce(func.sum(Move.quantity), 0)
    if group == "station":
        cols = (Station.id, Station.name, Station.community_id)
    elif group == "community":
        cols = (Station.community_id,)
    else:
        cols = (literal(None),)
    stmt = select(*cols, residents, items).select_from(Move)
    stmt = access.scoped(stmt, Move, community=community).where(Move.kind.in_(SHARED))
    if group != "district":
        stmt = stmt.group_by(*cols).order_by(*cols)
    return stmt


def district_medicine(community=CURRENT) -> tuple[int, int]:
    row = db.session.execute(medicine_figures("district", community)).one()
    return int(row[1] or 0), int(row[2] or 0)


def station_medicine(station: Station) -> tuple[int, int]:
    row = db.session.execute(
        select(func.count(distinct(Move.resident_key)), func.coalesce(func.sum(Move.quantity), 0))
        .where(Move.station_id == station.id, Move.kind.in_(SHARED))).one()
    return int(row[0] or 0), int(row[1] or 0)


def batches_stmt(station: Station, show_removed: bool = False):
    stmt = select(MedicineBatch).where(MedicineBatch.station_id == station.id)
    if not show_removed:
        stmt = stmt.where(MedicineBatch.removed_at.is_(None), MedicineBatch.quantity > 0)
    return stmt.order_by(MedicineBatch.name, MedicineBatch.expiry, MedicineBatch.id)


def moves_stmt(station: Station):
    return select(Move).where(Move.station_id == station.id).order_by(Move.at.desc(), Move.id.desc())


def open_loans_stmt(station: Station):
    return (select(Move).where(Move.station_id == station.id, Move.kind == "lend", Move.returned_at.is_(None))
            .order_by(Move.at))


def claimed_stmt(organisation_id: int):
    """The stations a department claims now."""
    stmt = access.scoped(select(Station), Station, community=None)
    return (stmt.where(Station.id.in_(select(Claim.station_id).where(Claim.organisation_id == organisation_id,
                                                                     Claim.end_date.is_(None))))
            .order_by(Station.community_id, Station.name))


def count_stations(community=CURRENT, node: GridNode | None = None) -> int:
    stmt = access.scoped(select(func.count(Station.id)).select_from(Station), Station, community=community)
    if node is not None:
        stmt = stmt.where(access.in_subtree(Station, node))
    return db.session.scalar(stmt) or 0


def hours_total(start: dt.date, end: dt.date, community=CURRENT) -> float:
    stmt = access.scoped(select(func.coalesce(func.sum(Signup.hours), 0)).select_from(Signup), Signup,
                         community=community)
    return float(db.session.scalar(stmt.where(Signup.outcome == "worked", Shift.day >= start, Shift.day <= end)) or 0)


def community_members(community_id: int) -> list[User]:
    """Party members whose home grid lies in the community (for swaps and assignments)."""
    comm = db.session.get(GridNode, community_id)
    if comm is None:
        return []
    return list(db.session.scalars(
        select(User).join(RoleGrant, RoleGrant.user_id == User.id).join(GridNode, GridNode.id == RoleGrant.node_id)
        .where(RoleGrant.role == "member", subtree(GridNode.path, comm.path), User.active.is_(True))
        .distinct().order_by(User.display_name, User.id).limit(500)))
