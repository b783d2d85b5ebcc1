"""The organiser's side of the duty rota: the week's schedule grid, shifts and
rota lines, a shift's members (assign, mark, drop), swaps and today's check-ins."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import access, clock
from core.extensions import db
from core.forms import DomainError, commit, show_error
from core.models import User
from core.security import requires
from core.web import render

from .. import queries as q
from ..forms import WEEKDAYS, AssignForm, MarkForm, NeededForm, RotaForm, ShiftForm
from ..models import Rota, Shift, Signup, Swap
from ..services import shifts as svc
from . import bp, station_for


def _monday(arg: str | None) -> dt.date:
    try:
        day = dt.date.fromisoformat(arg) if arg else clock.today()
    except ValueError:
        day = clock.today()
    return clock.week_start(day)


@bp.route("/<int:station_id>/schedule", methods=["GET", "POST"])
@requires("stations.organise")
def schedule(station_id):
    st = station_for(station_id, "stations.organise")
    monday = _monday(request.args.get("week"))
    form = ShiftForm(prefix="shift")
    if request.method == "GET":
        form.day.data = max(monday, clock.today())
    if form.validate_on_submit():
        try:
            svc.add_shift(st, form.day.data, form.start_time.data, form.end_time.data, role=form.role.data or "",
                          needed=form.needed.data, restricted=form.restricted.data)
            commit(duplicate_field="start_time")
            flash(_("Shift added."), "success")
            return redirect(url_for("stations.schedule", station_id=st.id, week=clock.week_start(form.day.data).isoformat()))
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
    shifts = q.week_shifts(st, monday)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    by_day = {d: [s for s in shifts if s.day == d] for d in days}
    rotas = db.session.scalars(select(Rota).where(Rota.station_id == st.id).order_by(Rota.weekday, Rota.start_time)).all()
    swaps = db.session.scalars(select(Swap).join(Signup, Signup.id == Swap.signup_id).join(Shift, Shift.id == Signup.shift_id)
                               .where(Shift.station_id == st.id, Swap.state == "pending").order_by(Swap.id)).all()
    return render("stations/schedule.html", block="grid", st=st, monday=monday, days=days, by_day=by_day,
                  form=form, rota_form=RotaForm(prefix="rota"), rotas=rotas, weekdays=dict(WEEKDAYS), swaps=swaps,
                  prev=(monday - dt.timedelta(days=7)).isoformat(), next=(monday + dt.timedelta(days=7)).isoformat())


@bp.route("/<int:station_id>/rota", methods=["POST"])
@requires("stations.organise")
def add_rota(station_id):
    st = station_for(station_id, "stations.organise")
    form = RotaForm(prefix="rota")
    if form.validate_on_submit():
        try:
            svc.add_rota(st, form.weekday.data, form.start_time.data, form.end_time.data, role=form.role.data or "",
                         needed=form.needed.data, restricted=form.restricted.data)
            n = svc.generate_shifts(st, clock.today(), form.weeks.data or 0)
            commit()
            flash(_("Rota line added; %(n)s shifts created.", n=n), "success")
            return redirect(url_for("stations.schedule", station_id=st.id))
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
    monday = _monday(None)
    shifts = q.week_shifts(st, monday)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    rotas = db.session.scalars(select(Rota).where(Rota.station_id == st.id)).all()
    return render("stations/schedule.html", st=st, monday=monday, days=days,
                  by_day={d: [s for s in shifts if s.day == d] for d in days}, form=ShiftForm(prefix="shift"),
                  rota_form=form, rotas=rotas, weekdays=dict(WEEKDAYS), swaps=[],
                  prev=(monday - dt.timedelta(days=7)).isoformat(), next=(monday + dt.timedelta(days=7)).isoformat())


@bp.route("/rota/<int:rota_id>/toggle", methods=["POST"])
@requires("stations.organise")
def toggle_rota(rota_id):
    rota = access.get_or_404(Rota, rota_id, "stations.organise")
    station_for(rota.station_id, "stations.organise")
    rota.active = not rota.active
    commit()
    return redirect(url_for("stations.schedule", station_id=rota.station_id))


def _shift_page(shift, assign_form=None, needed_form=None, mark_forms=None):
    st = shift.station
    members = q.community_members(st.community_id) if st.community_id else []
    on = {s.member_id for s in shift.signups}
    assign_form = assign_form or AssignForm()
    assign_form.member_id.choices = [(m.id, m.display_name) for m in members if m.id not in on]
    needed_form = needed_form or NeededForm(needed=shift.needed)
    return render("stations/shift.html", shift=shift, st=st, assign_form=assign_form, needed_form=needed_form,
                  mark_forms=mark_forms or {}, mark_form=MarkForm(), now=clock.utcnow())


@bp.route("/shifts/<int:shift_id>")
@requires("stations.organise")
def shift(shift_id):
    sh = access.get_or_404(Shift, shift_id, "stations.organise")
    station_for(sh.station_id, "stations.organise")
    return _shift_page(sh)


@bp.route("/shifts/<int:shift_id>/assign", methods=["POST"])
@requires("stations.organise")
def assign(shift_id):
    sh = access.get_or_404(Shift, shift_id, "stations.organise")
    station_for(sh.station_id, "stations.organise")
    form = AssignForm()
    member = db.session.get(User, form.member_id.data) if form.member_id.data else None
    if member is None or member.id not in {m.id for m in q.community_members(sh.station.community_id)}:
        form.member_id.errors = [_("Choose a Party member of this community.")]
        return _shift_page(sh, assign_form=form)
    try:
        svc.sign_up(sh, member, assigned_by=current_user)
        commit(duplicate_field="member_id")
        flash(_("%(name)s is on the shift.", name=member.display_name), "success")
    except DomainError as exc:
        db.session.rollback()
        show_error(form, exc)
        return _shift_page(db.session.get(Shift, shift_id), assign_form=form)
    return redirect(url_for("stations.shift", shift_id=sh.id))


@bp.route("/shifts/<int:shift_id>/needed", methods=["POST"])
@requires("stations.organise")
def set_needed(shift_id):
    sh = access.get_or_404(Shift, shift_id, "stations.organise")
    station_for(sh.station_id, "stations.organise")
    form = NeededForm()
    if form.validate_on_submit():
        try:
            svc.set_needed(sh, form.needed.data)
            commit()
            flash(_("Saved."), "success")
            return redirect(url_for("stations.shift", shift_id=sh.id))
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
    return _shift_page(db.session.get(Shift, shift_id), needed_form=form)


@bp.route("/signups/<int:signup_id>/mark", methods=["POST"])
@requires("stations.organise")
def mark(signup_id):
    su = access.get_or_404(Signup, signup_id, "stations.organise")
    station_for(su.shift.station_id, "stations.organise")
    form = MarkForm()
    if form.validate_on_submit():
        try:
            svc.mark(su, form.outcome.data, current_user, form.rating.data)
            commit()
            flash(_("%(name)s marked.", name=su.member.display_name), "success")
            back = request.form.get("back")
            if back == "checkins":
                return redirect(url_for("stations.checkins", station_id=su.shift.station_id))
            return redirect(url_for("stations.shift", shift_id=su.shift_id))
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
    return _shift_page(su.shift, mark_forms={su.id: form})


@bp.route("/signups/<int:signup_id>/remove", methods=["POST"])
@requires("stations.organise")
def remove_signup(signup_id):
    su = access.get_or_404(Signup, signup_id, "stations.organise")
    station_for(su.shift.station_id, "stations.organise")
    shift_id = su.shift_id
    try:
        promoted = svc.drop(su, by=current_user)
        commit()
        flash(_("Taken off the shift.") + (" " + _("%(name)s moved up from the waitlist.",
                                                   name=promoted.member.display_name) if promoted else ""), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("stations.shift", shift_id=shift_id))


@bp.route("/swaps/<int:swap_id>/decide", methods=["POST"])
@requires("stations.organise")
def decide_swap(swap_id):
    swap = access.get_or_404(Swap, swap_id, "stations.organise")
    st = station_for(swap.signup.shift.station_id, "stations.organise")
    try:
        svc.decide_swap(swap, request.form.get("decision") == "approve", current_user)
        commit()
        flash(_("Hand-over decided."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("stations.schedule", station_id=st.id))


@bp.route("/<int:station_id>/checkins")
@requires("stations.organise")
def checkins(station_id):
    st = station_for(station_id, "stations.organise")
    today = clock.today()
    return render("stations/checkins.html", block="list", st=st, signups=q.todays_signups(st, today), today=today,
                  mark_form=MarkForm(), now=clock.utcnow())
