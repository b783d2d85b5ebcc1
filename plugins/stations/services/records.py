"""Worked shifts as members' service records (core hook wangge_service_records)."""

from __future__ import annotations

import datetime as dt

from flask import has_request_context, url_for
from sqlalchemy import select
from sqlalchemy.orm import aliased

from core import clock
from core.extensions import db
from core.models import User
from core.modules import is_enabled
from core.plugins import ServiceRecord

from ..models import Shift, Signup, Station


def service_records(member_ids, start: dt.date, end: dt.date) -> list[ServiceRecord]:
    """The worked shifts of these members between two district dates
    (inclusive), in communities where stations is on."""
    ids = [int(i) for i in member_ids]
    if not ids:
        return []
    marker = aliased(User)
    rows = db.session.execute(
        select(Signup.id, Signup.member_id, Signup.hours, Shift.day, Shift.role, Shift.starts_at, Shift.ends_at,
               Station.id, Station.name, Station.community_id, marker.display_name)
        .join(Shift, Shift.id == Signup.shift_id).join(Station, Station.id == Shift.station_id)
        .outerjoin(marker, marker.id == Signup.marked_by_id)
        .where(Signup.member_id.in_(ids), Signup.outcome == "worked", Shift.day >= start, Shift.day <= end)
        .order_by(Shift.day, Signup.id)
    ).all()
    on: dict[int | None, bool] = {}
    out = []
    for sid, member_id, hours, day, role, starts, ends, station_id, station_name, cid, marked_by in rows:
        if cid not in on:
            on[cid] = is_enabled("stations", cid)
        if not on[cid]:
            continue
        s, e = clock.local(starts), clock.local(ends)
        title = f"{station_name} {s:%H:%M}–{e:%H:%M}" + (f" {role}" if role else "")
        link = url_for("stations.station", station_id=station_id) if has_request_context() else ""
        out.append(ServiceRecord(source="stations", key=f"shift:{sid}", member_id=member_id, date=day,
                                 hours=float(hours or 0), kind="shift", title=title, community_id=cid,
                                 evidence=f"marked worked by {marked_by or '?'}", link=link, confirmed=True))
    return out
