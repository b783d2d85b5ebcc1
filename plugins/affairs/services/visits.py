"""Visits and the weekly quota: the ISO week, A/B cover, the hand-off of problems."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from core import clock
from core.extensions import db
from core.models import GridNode, GridPost, User
from core.staffing import is_on_leave

from ..models import (
    FINDINGS,
    AffairsSetting,
    House,
    Resident,
    Visit,
)
from .common import AffairsError

# --- Visits and the weekly quota ------------------------------------------------------------


def iso_week_of(day: dt.date) -> tuple[int, int]:
    return clock.iso_week(day)


def week_bounds(year: int, week: int) -> tuple[dt.date, dt.date]:
    monday = dt.date.fromisocalendar(year, week, 1)
    return monday, monday + dt.timedelta(days=6)


def previous_weeks(day: dt.date, n: int) -> list[tuple[int, int]]:
    monday = day - dt.timedelta(days=day.weekday())
    return [iso_week_of(monday - dt.timedelta(weeks=i)) for i in range(n)]


def weekly_quota(community_id: int | None) -> int:
    rows = dict(
        db.session.execute(
            select(AffairsSetting.node_id, AffairsSetting.weekly_quota).where(
                or_(AffairsSetting.node_id.is_(None), AffairsSetting.node_id == community_id)
            )
        ).all()
    )
    if community_id in rows and community_id is not None:
        return rows[community_id]
    return rows.get(None, 3)


DEFAULT_REMINDER = (4, 9)  # Thursday, 09:00 (district time)


def reminder_schedule(community_id: int | None) -> tuple[int, int]:
    """(ISO weekday, hour) of the visit-quota reminder of a community: its own
    setting, else the district's, else Thursday 09:00."""
    rows = {n: (d, h) for n, d, h in db.session.execute(
        select(AffairsSetting.node_id, AffairsSetting.reminder_weekday, AffairsSetting.reminder_hour).where(
            or_(AffairsSetting.node_id.is_(None), AffairsSetting.node_id == community_id)))}
    own, district = rows.get(community_id, (None, None)) if community_id is not None else (None, None), rows.get(None, (None, None))
    weekday = own[0] or district[0] or DEFAULT_REMINDER[0]
    hour = own[1] if own[1] is not None else district[1] if district[1] is not None else DEFAULT_REMINDER[1]
    return weekday, hour


def set_weekly_quota(node_id: int | None, quota: int, user_id: int | None,
                     reminder_weekday: int | None = None, reminder_hour: int | None = None) -> None:
    if quota < 0 or quota > 100:
        raise AffairsError(_("The quota is a number of visits between 0 and 100."), "weekly_quota")
    row = db.session.scalar(
        select(AffairsSetting).where(
            AffairsSetting.node_id.is_(None) if node_id is None else AffairsSetting.node_id == node_id
        )
    )
    if row is None:
        row = AffairsSetting(node_id=node_id)
        db.session.add(row)
    row.weekly_quota = quota
    if reminder_weekday is not None:
        if not 1 <= reminder_weekday <= 7:
            raise AffairsError(_("Choose a weekday."), "reminder_weekday")
        row.reminder_weekday = reminder_weekday
    if reminder_hour is not None:
        if not 0 <= reminder_hour <= 23:
            raise AffairsError(_("An hour from 0 to 23."), "reminder_hour")
        row.reminder_hour = reminder_hour
    row.updated_by_id = user_id


def covering_for(worker_id: int, node: GridNode, day: dt.date) -> int | None:
    """The A-post worker whose grid `worker_id` visits as B-post on `day`, if any.

    Looks at the nearest staffed grid at or above the node, the same rule as
    core.staffing.responsible_worker_for_node."""
    ids = node.ancestor_ids()
    posts = {p.node_id: p for p in db.session.scalars(select(GridPost).where(GridPost.node_id.in_(ids)))}
    for node_id in reversed(ids):
        post = posts.get(node_id)
        if post is None or (post.a_user_id is None and post.b_user_id is None):
            continue
        if post.a_user_id == worker_id:
            return None
        if post.b_user_id == worker_id and post.a_user_id and is_on_leave(post.a_user_id, day):
            return post.a_user_id
        return None
    return None


def record_visit(*, worker: User, node: GridNode, day: dt.date, kind: str, finding: str, notes: str | None,
                 resident: Resident | None = None, house: House | None = None) -> Visit:
    if resident is None and house is None:
        raise AffairsError(_("Choose the household or the resident you visited."), "target")
    if finding not in FINDINGS:
        raise AffairsError(_("Choose what the visit found."), "finding")
    if day > clock.today():
        raise AffairsError(_("A visit cannot be recorded for a future day."), "visit_date")
    if finding == "problem" and not (notes or "").strip():
        raise AffairsError(_("Describe the problem so that it can be handled."), "notes")
    y, w = iso_week_of(day)
    visit = Visit(
        node_id=node.id,
        house_id=house.id if house else (resident.house_id if resident else None),
        household_id=resident.household_id if resident else None,
        resident_id=resident.id if resident else None,
        worker_id=worker.id,
        covering_for_id=covering_for(worker.id, node, day),
        visit_date=day,
        iso_year=y,
        iso_week=w,
        kind=kind,
        notes=(notes or "").strip() or None,
        finding=finding,
    )
    db.session.add(visit)
    # A visit to a household counts for everyone living there.
    who = Resident.id == resident.id if resident is not None else Resident.house_id == house.id
    db.session.execute(
        update(Resident)
        .where(who, or_(Resident.last_visit_date.is_(None), Resident.last_visit_date < day))
        .values(last_visit_date=day)
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    return visit


def hand_off_problem(app, visit: Visit, worker: User) -> str | None:
    """Hand a visit's problem to the module that handles problems, through the
    hook: None when no such module is on in the visit's community."""
    from core.plugins import call_for_community

    node = visit.node or db.session.get(GridNode, visit.node_id)
    community_id = node.id if node.level == "community" else node.community_id
    person = visit.resident
    ref = call_for_community(
        app,
        "wangge_report_problem",
        community_id,
        node_id=visit.node_id,
        description=visit.notes or "",
        reporter_name=person.name if person else worker.display_name,
        reporter_phone=(person.phone if person else None) or worker.phone,
        channel="visit",
        user_id=worker.id,
        source_ref=f"affairs.visit:{visit.id}",
    )
    if ref:
        visit.problem_ref = str(ref)[:40]
    return ref


