"""The station's modes: switching, the opinion post, the emergency command
post (incident, temporary Party branch, log) and the history of incidents."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import access
from core.extensions import db
from core.forms import DomainError, commit, show_error
from core.privacy import mask_name, mask_phone
from core.security import requires
from core.web import paginate, render

from ..forms import BranchForm, IncidentForm, LogForm, ModeForm, OpinionForm
from ..models import BranchMember, Incident, Opinion
from ..services import modes as svc
from . import bp, station_for


@bp.route("/<int:station_id>/mode", methods=["GET", "POST"])
@requires("stations.organise")
def mode(station_id):
    st = station_for(station_id, "stations.organise")
    form = ModeForm(mode=st.mode if st.mode != "emergency" else "service")
    incident_form = IncidentForm(prefix="inc")
    if form.validate_on_submit():
        try:
            svc.set_mode(st, form.mode.data)
            commit()
            flash(_("The station is now: %(m)s.", m=form.mode.data and _mode_title(form.mode.data)), "success")
            return redirect(url_for("stations.station", station_id=st.id))
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
    incidents = db.session.scalars(select(Incident).where(Incident.station_id == st.id)
                                   .order_by(Incident.started_at.desc()).limit(50)).all()
    return render("stations/mode.html", st=st, form=form, incident_form=incident_form, incidents=incidents,
                  current=svc.open_incident(st))


def _mode_title(mode):
    from . import _mode_label

    return _mode_label(mode)


@bp.route("/<int:station_id>/incidents", methods=["POST"])
@requires("stations.organise")
def start_incident(station_id):
    st = station_for(station_id, "stations.organise")
    form = IncidentForm(prefix="inc")
    if form.validate_on_submit():
        try:
            inc = svc.start_incident(st, form.name.data, by=current_user, branch_name=form.branch_name.data or "",
                                     secretary=form.secretary.data or "", rota_days=form.rota_days.data,
                                     per_shift=form.per_shift.data)
            commit()
            flash(_("The station is an emergency command post for “%(n)s”.", n=inc.name), "success")
            return redirect(url_for("stations.incident", incident_id=inc.id))
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
    incidents = db.session.scalars(select(Incident).where(Incident.station_id == st.id)
                                   .order_by(Incident.started_at.desc()).limit(50)).all()
    return render("stations/mode.html", st=st, form=ModeForm(mode="service"), incident_form=form,
                  incidents=incidents, current=svc.open_incident(st))


def _incident(incident_id) -> Incident:
    inc = access.get_or_404(Incident, incident_id, "stations.organise",
                            options=(selectinload(Incident.branch), selectinload(Incident.log)))
    station_for(inc.station_id, "stations.organise")
    return inc


@bp.route("/incidents/<int:incident_id>", methods=["GET", "POST"])
@requires("stations.organise")
def incident(incident_id):
    inc = _incident(incident_id)
    log_form = LogForm(prefix="log")
    branch_form = BranchForm(prefix="br")
    if request.method == "POST":
        try:
            if "log-text" in request.form:
                if log_form.validate_on_submit():
                    svc.log(inc, log_form.text.data, current_user)
                    commit()
                    return redirect(url_for("stations.incident", incident_id=inc.id))
            elif branch_form.validate_on_submit():
                svc.add_branch_member(inc, branch_form.name.data, branch_form.role.data)
                commit()
                flash(_("Branch seat recorded."), "success")
                return redirect(url_for("stations.incident", incident_id=inc.id))
        except DomainError as exc:
            db.session.rollback()
            show_error(log_form if "log-text" in request.form else branch_form, exc)
    return render("stations/incident.html", block="log", inc=inc, st=inc.station, log_form=log_form,
                  branch_form=branch_form)


@bp.route("/incidents/<int:incident_id>/end", methods=["POST"])
@requires("stations.organise")
def end_incident(incident_id):
    inc = _incident(incident_id)
    try:
        svc.end_incident(inc, current_user, request.form.get("mode", "service"))
        commit()
        flash(_("Incident closed; the station is back to its daily work."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("stations.incident", incident_id=inc.id))


@bp.route("/branch/<int:branch_member_id>/leave", methods=["POST"])
@requires("stations.organise")
def leave_branch(branch_member_id):
    seat = access.get_or_404(BranchMember, branch_member_id, "stations.organise")
    station_for(seat.incident.station_id, "stations.organise")
    try:
        svc.leave_branch(seat)
        commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("stations.incident", incident_id=seat.incident_id))


@bp.route("/<int:station_id>/opinions", methods=["GET", "POST"])
@requires("stations.organise")
def opinions(station_id):
    st = station_for(station_id, "stations.organise")
    form = OpinionForm()
    if form.validate_on_submit():
        try:
            op = svc.take_opinion(st, form.text.data, resident_name=form.resident_name.data or "",
                                  resident_phone=form.resident_phone.data or "", by=current_user)
            commit()
            if op.problem_ref:
                flash(_("Opinion recorded and handed on as problem %(ref)s.", ref=op.problem_ref), "success")
            else:
                flash(_("Opinion recorded. No module handles problems in this community, so it was not handed on."),
                      "warning")
            return redirect(url_for("stations.opinions", station_id=st.id))
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
    page = paginate(select(Opinion).where(Opinion.station_id == st.id).order_by(Opinion.taken_at.desc(), Opinion.id.desc()),
                    per_page=20, ahead=60)
    return render("stations/opinions.html", block="rows", st=st, form=form, page=page, mask_phone=mask_phone, mask_name=mask_name)
