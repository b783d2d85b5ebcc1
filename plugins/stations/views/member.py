"""The Party member's side (phone-first): my shifts, open shifts near my home
grid, sign up / drop / hand over, check in by the station's QR link, my hours."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import access, clock
from core.extensions import db
from core.forms import DomainError, commit, show_error
from core.models import User
from core.plugins import service_records
from core.security import can, requires
from core.web import paginate, render

from .. import queries as q
from ..forms import SwapForm
from ..models import Shift, Signup
from ..services import ShiftFull
from ..services import shifts as svc
from . import bp, station_for


def _may_take(shift: Shift) -> bool:
    """A member signs up at stations of their home communities only."""
    homes = q.member_home_nodes(current_user.id)
    cid = shift.station.community_id
    return any((h.id if h.level == "community" else h.community_id) == cid for h in homes)


@bp.route("/my")
@requires("stations.signup")
def my():
    now = clock.utcnow()
    mine = list(db.session.scalars(q.my_signups_stmt(current_user, True, now).limit(50)))
    page = paginate(q.open_shifts_stmt(current_user, now), per_page=15, ahead=60)
    positions = {s.id: svc.waitlist_position(s) for s in mine if s.status == "waiting"}
    return render("stations/my.html", block="open", mine=mine, page=page, positions=positions, now=now)


@bp.route("/shifts/<int:shift_id>/signup", methods=["POST"])
@requires("stations.signup")
def signup(shift_id):
    sh = access.get_or_404(Shift, shift_id)
    if not _may_take(sh):
        flash(_("You can sign up at the stations of your own community."), "error")
        return redirect(url_for("stations.my"))
    try:
        su = svc.sign_up(sh, current_user, waitlist=request.form.get("waitlist") == "1")
        commit(duplicate_field="member_id")
        if su.status == "held":
            flash(_("You are on duty at %(s)s on %(d)s.", s=sh.station.name, d=sh.day.isoformat()), "success")
        else:
            flash(_("The shift is full: you are number %(n)s on the waitlist.", n=svc.waitlist_position(su)), "warning")
    except ShiftFull as exc:
        db.session.rollback()
        flash(str(exc) + " " + _("Join the waitlist to be moved up when someone drops."), "error")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(request.form.get("next") if request.form.get("next", "").startswith("/") else url_for("stations.my"))


@bp.route("/signups/<int:signup_id>/drop", methods=["POST"])
@requires("stations.signup")
def drop(signup_id):
    su = access.get_or_404(Signup, signup_id)
    if su.member_id != current_user.id:
        from flask import abort

        abort(404)
    try:
        svc.drop(su)
        commit()
        flash(_("You dropped the shift."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("stations.my"))


@bp.route("/signups/<int:signup_id>/swap", methods=["GET", "POST"])
@requires(None)
def swap(signup_id):
    su = access.get_or_404(Signup, signup_id)
    if su.member_id != current_user.id or not can("stations.signup"):
        # Someone else's slot (in scope): its shift page, where organisers decide swaps.
        if request.method == "GET" and can("stations.organise", su.shift.station.node):
            return redirect(url_for("stations.shift", shift_id=su.shift_id))
        from flask import abort

        abort(404)
    form = SwapForm()
    members = q.community_members(su.shift.station.community_id)
    form.to_member_id.choices = [(m.id, m.display_name) for m in members if m.id != current_user.id]
    if form.validate_on_submit():
        to = db.session.get(User, form.to_member_id.data) if form.to_member_id.data else None
        if to is None or to.id not in {m.id for m in members}:
            form.to_member_id.errors = [_("Choose a Party member of this community.")]
        else:
            try:
                svc.ask_swap(su, to)
                commit()
                flash(_("Asked the organiser to hand your slot to %(name)s.", name=to.display_name), "success")
                return redirect(url_for("stations.my"))
            except DomainError as exc:
                db.session.rollback()
                show_error(form, exc)
    return render("stations/swap.html", form=form, su=su)


@bp.route("/<int:station_id>/check-in")
@requires(None)
def checkin(station_id):
    """The URL in the station's QR code: opening it checks a member in (and
    out on a second visit) to the shift they hold there now."""
    from .stations import check_token

    st = station_for(station_id)
    result, error, signup = None, None, None
    if not check_token(st, request.args.get("t")):
        error = _("This check-in link is not valid. Scan the code at the station again.")
    elif not can("stations.signup"):
        error = _("Only Party members on duty check in here.")
    else:
        try:
            result, signup = svc.check_in(st, current_user)
            commit()
        except DomainError as exc:
            db.session.rollback()
            error = str(exc)
    return render("stations/checkin.html", st=st, result=result, error=error, signup=signup)


@bp.route("/my/records")
@requires("stations.signup")
def records():
    today = clock.today()
    try:
        start = dt.date.fromisoformat(request.args.get("start", ""))
    except ValueError:
        start = today.replace(month=1, day=1)
    rows = service_records([current_user.id], start, today)
    mine = [r for r in rows if r.member_id == current_user.id]
    return render("stations/records.html", records=mine, start=start, today=today,
                  total=round(sum(r.hours for r in mine if r.source == "stations"), 2))


@bp.route("/widget/mine")
@requires("stations.signup")
def widget_mine():
    now = clock.utcnow()
    mine = list(db.session.scalars(q.my_signups_stmt(current_user, True, now).limit(3)))
    open_n = len(list(db.session.scalars(q.open_shifts_stmt(current_user, now).limit(20))))
    return render("stations/widget_mine.html", mine=mine, open_n=open_n)
