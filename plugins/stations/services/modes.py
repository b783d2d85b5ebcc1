"""The station's modes: service point (default), opinion post and emergency
command post. Switching back keeps every incident, branch seat and log entry."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from core import clock
from core.audit import record
from core.extensions import db
from core.models import User, utcnow
from core.plugins import call_for_community

from ..models import MODES, BranchMember, Incident, LogEntry, Opinion, Station
from . import StationsError
from .shifts import add_shift


def open_incident(station: Station) -> Incident | None:
    return db.session.scalar(select(Incident).where(Incident.station_id == station.id, Incident.ended_at.is_(None))
                             .order_by(Incident.id.desc()).limit(1))


def set_mode(station: Station, mode: str) -> None:
    if mode not in MODES:
        raise StationsError(_("Choose a mode."), "mode")
    if mode == "emergency":
        raise StationsError(_("Start an incident to make the station an emergency command post."), "mode")
    incident = open_incident(station)
    if incident is not None:
        raise StationsError(_("End the incident “%(name)s” first.", name=incident.name), "mode")
    station.mode = mode
    record("stations.mode", station, summary=mode, community_id=station.community_id)


def start_incident(station: Station, name: str, *, by: User, branch_name: str = "", secretary: str = "",
                   rota_days: int = 1, per_shift: int = 2) -> Incident:
    """The station becomes an emergency command post for a named incident,
    with a temporary Party branch and a 24-hour rota (three 8-hour shifts a
    day for `rota_days` days, from the next full hour)."""
    name = (name or "").strip()
    if not name:
        raise StationsError(_("Name the incident."), "name")
    if open_incident(station) is not None:
        raise StationsError(_("An incident is already under way at this station."), "name")
    if not 0 <= int(rota_days) <= 14:
        raise StationsError(_("The rota covers 0 to 14 days."), "rota_days")
    incident = Incident(station_id=station.id, name=name, branch_name=(branch_name or "").strip()
                        or _("Temporary Party branch of %(s)s", s=station.name), created_by_id=by.id)
    db.session.add(incident)
    db.session.flush()
    station.mode = "emergency"
    if (secretary or "").strip():
        add_branch_member(incident, secretary, role="secretary")
    log(incident, _("Incident opened: %(name)s", name=name), by)
    local = clock.now()
    first = (local.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1))
    for day_offset in range(int(rota_days)):
        for k in range(3):
            start_local = first + dt.timedelta(days=day_offset, hours=8 * k)
            end_local = start_local + dt.timedelta(hours=8)
            add_shift(station, start_local.date(), start_local.time(), end_local.time(),
                      role=_("Command post duty"), needed=per_shift, incident_id=incident.id)
    record("stations.incident", station, summary=name, community_id=station.community_id)
    return incident


def end_incident(incident: Incident, by: User, mode: str = "service") -> None:
    if incident.ended_at is not None:
        raise StationsError(_("This incident has already ended."))
    incident.ended_at = utcnow()
    for seat in incident.branch:
        if seat.left_at is None:
            seat.left_at = incident.ended_at
    log(incident, _("Incident closed."), by)
    incident.station.mode = mode if mode in ("service", "opinion") else "service"
    record("stations.incident_end", incident.station, summary=incident.name,
           community_id=incident.station.community_id)


def add_branch_member(incident: Incident, name: str, role: str = "member", user: User | None = None) -> BranchMember:
    name = (name or "").strip()
    if not name:
        raise StationsError(_("Give the name."), "name")
    if role not in ("secretary", "member"):
        raise StationsError(_("Choose secretary or member."), "role")
    if incident.ended_at is not None:
        raise StationsError(_("This incident has ended."), "name")
    now = utcnow()
    if role == "secretary":
        for seat in incident.branch:
            if seat.role == "secretary" and seat.left_at is None:
                seat.left_at = now  # one secretary at a time; the former stays in the history
    seat = BranchMember(incident_id=incident.id, name=name, role=role, user_id=user.id if user else None, joined_at=now)
    db.session.add(seat)
    incident.branch.append(seat)
    return seat


def leave_branch(seat: BranchMember) -> None:
    if seat.left_at is not None:
        raise StationsError(_("Already left."))
    seat.left_at = utcnow()


def log(incident: Incident, text: str, by: User | None) -> LogEntry:
    text = (text or "").strip()
    if not text:
        raise StationsError(_("Write what happened."), "text")
    entry = LogEntry(incident_id=incident.id, text=text[:4000], user_id=by.id if by else None,
                     author=by.display_name if by else "", at=utcnow())
    db.session.add(entry)
    return entry


def take_opinion(station: Station, text: str, *, resident_name: str = "", resident_phone: str = "",
                 by: User | None = None) -> Opinion:
    """A resident's opinion taken at the station; handed to whatever module
    handles problems in the station's community (through the hook
    wangge_report_problem). `problem_ref` stays None when none took it."""
    text = (text or "").strip()
    if not text:
        raise StationsError(_("Write down the opinion."), "text")
    if station.mode != "opinion":
        raise StationsError(_("The station is not an opinion post now."), "text")
    opinion = Opinion(station_id=station.id, text=text[:4000], resident_name=(resident_name or "").strip()[:60],
                      resident_phone=(resident_phone or "").strip()[:20], taken_by_id=by.id if by else None)
    db.session.add(opinion)
    db.session.flush()
    ref = call_for_community(current_app, "wangge_report_problem", station.community_id, node_id=station.node_id,
                             description=text, reporter_name=opinion.resident_name,
                             reporter_phone=opinion.resident_phone, channel="station",
                             user_id=by.id if by else None, source_ref=f"station:{station.id}")
    opinion.problem_ref = ref if isinstance(ref, str) else None
    record("stations.opinion", station, summary=text[:80], community_id=station.community_id)
    return opinion
