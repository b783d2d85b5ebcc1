"""Special groups: the built-in five and periods of membership."""

from __future__ import annotations

import datetime as dt
import uuid

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from core.extensions import db

from ..models import (
    BUILTIN_GROUPS,
    GroupTag,
    GroupType,
    Resident,
)
from .common import AffairsError
from .totals import bump_totals

# --- Special groups -------------------------------------------------------------------------

DEFAULT_INTERVALS = {"empty_nest": 14, "left_behind_child": 14, "disability": 30, "hardship": 30, "single_parent": 30}


def ensure_group_types() -> list[GroupType]:
    """The five built-in groups exist (created on first use)."""
    have = {g.code: g for g in db.session.scalars(select(GroupType))}
    for i, code in enumerate(BUILTIN_GROUPS):
        if code not in have:
            g = GroupType(code=code, builtin=True, visit_interval_days=DEFAULT_INTERVALS[code], sort_order=i)
            db.session.add(g)
            have[code] = g
    db.session.flush()
    return sorted(have.values(), key=lambda g: (g.sort_order, g.id))


def active_tag_condition(today: dt.date):
    return and_(GroupTag.start_date <= today, or_(GroupTag.end_date.is_(None), GroupTag.end_date >= today))


def add_tag(resident: Resident, group: GroupType, start: dt.date, end: dt.date | None, notes: str | None,
            user_id: int | None) -> GroupTag:
    if end is not None and end < start:
        raise AffairsError(_("The period ends before it starts."), "end_date")
    overlap = db.session.scalar(
        select(GroupTag.id).where(
            GroupTag.resident_id == resident.id,
            GroupTag.group_type_id == group.id,
            or_(GroupTag.end_date.is_(None), GroupTag.end_date >= start),
            GroupTag.start_date <= (end or dt.date.max),
        )
    )
    if overlap is not None:
        raise AffairsError(_("This person is in this group for an overlapping period already."), "group_type_id")
    tag = GroupTag(resident_id=resident.id, group_type_id=group.id, start_date=start, end_date=end,
                   notes=notes or None, created_by_id=user_id)
    db.session.add(tag)
    db.session.flush()
    if end is None:
        bump_totals(resident.node_id, {f"group:{group.id}": 1})
    return tag


def end_tag(tag: GroupTag, end: dt.date, user_id: int | None, notes: str | None = None) -> GroupTag:
    if end < tag.start_date:
        raise AffairsError(_("The period ends before it starts."), "end_date")
    if tag.end_date is None:
        node_id = db.session.scalar(select(Resident.node_id).where(Resident.id == tag.resident_id))
        bump_totals(node_id, {f"group:{tag.group_type_id}": -1})
    tag.end_date = end
    tag.ended_by_id = user_id
    if notes:
        tag.notes = ((tag.notes or "") + "\n" + notes).strip()
    return tag


def add_group_type(name: str, visit_interval_days: int | None) -> GroupType:
    """A special group of the district's own (the five built-ins exist always)."""
    name = (name or "").strip()
    if not name:
        raise AffairsError(_("Enter the name of the group."), "name")
    group = GroupType(code="custom_" + uuid.uuid4().hex[:8], name=name, builtin=False,
                      visit_interval_days=visit_interval_days)
    db.session.add(group)
    db.session.flush()
    return group


def set_visit_intervals(raw_by_id: dict[int, str]) -> None:
    """Each group's visit interval in days (1-365; empty: no visits wanted)."""
    for group_id, raw in raw_by_id.items():
        group = db.session.get(GroupType, group_id)
        raw = str(raw or "").strip()
        if group is None:
            continue
        if raw == "":
            group.visit_interval_days = None
        elif raw.isdigit() and 1 <= int(raw) <= 365:
            group.visit_interval_days = int(raw)
        else:
            raise AffairsError(_("A visit interval is a number of days from 1 to 365."), f"interval-{group_id}")
