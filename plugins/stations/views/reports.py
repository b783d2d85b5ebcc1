"""Community and district views: coverage (unfilled shifts, next 14 days),
members' hours and the medicine figures, each with its Excel export."""

from __future__ import annotations

import datetime as dt

from flask import request
from flask_babel import gettext as _
from sqlalchemy import select

from core import clock
from core.audit import record
from core.excel import xlsx_response
from core.extensions import db
from core.models import GridNode
from core.security import requires
from core.web import paginate, render

from .. import queries as q
from . import bp


def _period():
    today = clock.today()
    try:
        start = dt.date.fromisoformat(request.args.get("start", ""))
    except ValueError:
        start = clock.month_start(today)
    try:
        end = dt.date.fromisoformat(request.args.get("end", ""))
    except ValueError:
        end = today
    if end < start:
        start, end = end, start
    return start, end


@bp.route("/coverage")
@requires("stations.organise")
def coverage():
    today = clock.today()
    page = paginate(q.coverage_stmt(today), per_page=25)
    shifts, slots = q.coverage_counts(today)
    return render("stations/coverage.html", block="rows", page=page, shifts=shifts, slots=slots, today=today)


@bp.route("/hours")
@requires("stations.organise")
def hours():
    start, end = _period()
    page = paginate(q.hours_stmt(start, end), per_page=25, scalars=False)
    return render("stations/hours.html", block="rows", page=page, start=start, end=end,
                  total=q.hours_total(start, end))


def _community_names(ids):
    ids = [i for i in ids if i]
    return dict(db.session.execute(select(GridNode.id, GridNode.name).where(GridNode.id.in_(ids))).all()) if ids else {}


@bp.route("/medicine")
@requires("stations.organise")
def medicine_figures():
    per_community = db.session.execute(q.medicine_figures("community")).all()
    names = _community_names([r[0] for r in per_community])
    page = paginate(q.medicine_figures("station"), per_page=25, scalars=False)
    residents, items = q.district_medicine()
    return render("stations/figures.html", block="rows", page=page, per_community=per_community, names=names,
                  residents=residents, items=items)


@bp.route("/coverage.xlsx")
@requires("stations.export")
def export_coverage():
    today = clock.today()
    rows = ([s.station.name, s.day, clock.local(s.starts_at).strftime("%H:%M"), clock.local(s.ends_at).strftime("%H:%M"),
             s.role, s.needed, s.taken, s.needed - s.taken] for s in db.session.scalars(q.coverage_stmt(today).limit(20000)))
    record("stations.export", summary="coverage")
    db.session.commit()
    return xlsx_response(_("unfilled shifts") + ".xlsx",
                         [_("Station"), _("Day"), _("From"), _("To"), _("Role"), _("Needed"), _("Taken"), _("Free")],
                         rows, title=_("Coverage"))


@bp.route("/hours.xlsx")
@requires("stations.export")
def export_hours():
    start, end = _period()
    rows = ([u.display_name, u.username, shifts, round(float(h or 0), 2)]
            for u, shifts, h in db.session.execute(q.hours_stmt(start, end)))
    record("stations.export", summary=f"hours {start}..{end}")
    db.session.commit()
    return xlsx_response(_("duty hours") + ".xlsx", [_("Member"), _("Account"), _("Shifts worked"), _("Hours")], rows,
                         title=_("Hours"))


@bp.route("/medicine.xlsx")
@requires("stations.export")
def export_medicine():
    per_station = db.session.execute(q.medicine_figures("station")).all()
    names = _community_names({r[2] for r in per_station})
    rows = [[names.get(cid, ""), name, residents, items] for _sid, name, cid, residents, items in per_station]
    residents, items = q.district_medicine()
    rows.append([_("All (distinct residents)"), "", residents, items])
    record("stations.export", summary="medicine")
    db.session.commit()
    return xlsx_response(_("medicine box") + ".xlsx",
                         [_("Community"), _("Station"), _("Residents served"), _("Items shared")], rows,
                         title=_("Medicine box"))
