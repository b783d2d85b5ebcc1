"""A station's shared medicine box: batches, stock in, give / lend / out with a
first-expiry-first-out suggestion, returns, expiry warnings and removal."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import access, clock
from core.extensions import db
from core.forms import DomainError, commit, show_error
from core.privacy import mask_name, mask_phone
from core.security import requires
from core.web import paginate, render

from .. import queries as q
from ..forms import BatchForm, RemoveForm, StockInForm, TakeForm
from ..models import MedicineBatch, Move
from ..services import medicine as svc
from . import bp, station_for


def _box(st, batch_form=None, take_form=None, remove_form=None):
    today = clock.today()
    batches = list(db.session.scalars(q.batches_stmt(st)))
    take_form = take_form or TakeForm(prefix="take")
    suggestion = svc.fefo(st, today)
    take_form.batch_id.choices = [(b.id, f"{b.name} {b.spec} · {b.expiry} · {b.quantity}") for b in batches
                                  if b.expiry >= today]
    if take_form.batch_id.data is None and suggestion:
        take_form.batch_id.data = suggestion[0].id
    moves = paginate(q.moves_stmt(st), per_page=15, ahead=60)
    loans = list(db.session.scalars(q.open_loans_stmt(st).limit(50)))
    residents, items = q.station_medicine(st)
    return render("stations/medicine.html", block="moves", st=st, batches=batches, suggestion=suggestion,
                  expiring=svc.expiring_batches(st, today), today=today, batch_form=batch_form or BatchForm(prefix="batch"),
                  take_form=take_form, remove_form=remove_form or RemoveForm(prefix="rm"), stock_form=StockInForm(prefix="in"),
                  moves=moves, loans=loans, residents=residents, items=items, mask_phone=mask_phone, mask_name=mask_name)


@bp.route("/<int:station_id>/medicine", methods=["GET", "POST"])
@requires("stations.organise")
def medicine(station_id):
    st = station_for(station_id, "stations.organise")
    form = BatchForm(prefix="batch")
    if form.validate_on_submit():
        try:
            svc.add_batch(st, name=form.name.data, spec=form.spec.data or "", quantity=form.quantity.data,
                          expiry=form.expiry.data, donor=form.donor.data or "", today=clock.today(), by=current_user)
            commit()
            flash(_("Batch added to the box."), "success")
            return redirect(url_for("stations.medicine", station_id=st.id))
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
    return _box(st, batch_form=form)


@bp.route("/<int:station_id>/medicine/take", methods=["POST"])
@requires("stations.organise")
def take(station_id):
    st = station_for(station_id, "stations.organise")
    form = TakeForm(prefix="take")
    if form.validate_on_submit():
        batch = db.session.get(MedicineBatch, form.batch_id.data) if form.batch_id.data else None
        if batch is None or batch.station_id != st.id:
            form.batch_id.errors = [_("Choose a batch of this box.")]
        else:
            try:
                move = svc.take(batch, form.kind.data, form.quantity.data, today=clock.today(),
                                resident_name=form.resident_name.data or "", resident_phone=form.resident_phone.data or "",
                                note=form.note.data or "", by=current_user)
                commit()
                flash(_("%(n)s × %(name)s recorded.", n=move.quantity, name=batch.name), "success")
                return redirect(url_for("stations.medicine", station_id=st.id))
            except DomainError as exc:
                db.session.rollback()
                show_error(form, exc)
    return _box(st, take_form=form)


@bp.route("/batches/<int:batch_id>/in", methods=["POST"])
@requires("stations.organise")
def stock_in(batch_id):
    batch = access.get_or_404(MedicineBatch, batch_id, "stations.organise")
    st = station_for(batch.station_id, "stations.organise")
    form = StockInForm(prefix="in")
    try:
        if not form.validate_on_submit():
            raise DomainError(_("Give a number from 1 to 100,000."), "quantity")
        svc.stock_in(batch, form.quantity.data, by=current_user)
        commit()
        flash(_("Stock added."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("stations.medicine", station_id=st.id))


@bp.route("/batches/<int:batch_id>/remove", methods=["POST"])
@requires("stations.organise")
def remove_batch(batch_id):
    batch = access.get_or_404(MedicineBatch, batch_id, "stations.organise")
    st = station_for(batch.station_id, "stations.organise")
    form = RemoveForm(prefix="rm")
    try:
        svc.remove_batch(batch, form.reason.data or "", by=current_user)
        commit()
        flash(_("Batch removed from the box."), "success")
    except DomainError as exc:
        db.session.rollback()
        show_error(form, exc)
        return _box(st, remove_form=form)
    return redirect(url_for("stations.medicine", station_id=st.id))


@bp.route("/loans/<int:move_id>/return", methods=["POST"])
@requires("stations.organise")
def return_loan(move_id):
    move = access.get_or_404(Move, move_id, "stations.organise")
    st = station_for(move.station_id, "stations.organise")
    try:
        svc.return_loan(move, by=current_user)
        commit()
        flash(_("Loan returned."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(request.form.get("next") if (request.form.get("next") or "").startswith("/")
                    else url_for("stations.medicine", station_id=st.id))
