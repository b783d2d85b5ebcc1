"""Orders: the list (fitting orders first for members), placing, taking,
withdrawing, assigning, completion reports and their acceptance."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import access, clock, uploads
from core.extensions import db
from core.forms import DomainError, commit, show_error
from core.security import can, requires
from core.web import paginate, render

from .. import queries
from ..forms import AssignForm, OrderForm, ReportForm
from ..models import Need, Order, ServicePost, Take
from ..services import orders as svc
from ..services.registrations import confirmed_registration
from . import bp
from .common import (
    commitment_state_label,
    community_for,
    grid_choices,
    node_from_form,
    order_state_label,
    reg_state_label,
    take_state_label,
)


@bp.context_processor
def _labels():
    from ..forms import CATEGORY_LABELS, KIND_LABELS, PROJECT_STATE_LABELS, SOURCE_LABELS

    return {
        "order_state": lambda o: order_state_label(svc.display_state(o)),
        "order_state_key": svc.display_state,
        "take_state": take_state_label, "reg_state": reg_state_label,
        "commitment_state": commitment_state_label, "category_label": lambda c: CATEGORY_LABELS.get(c, c),
        "kind_label": lambda k: KIND_LABELS.get(k, k), "source_label": lambda s: SOURCE_LABELS.get(s, s),
        "project_state": lambda s: PROJECT_STATE_LABELS.get(s, s),
    }


@bp.route("/")
@requires("orders.view")
def index():
    flt = request.args.get("show", "upcoming")
    if flt not in queries.ORDER_FILTERS:
        flt = "upcoming"
    fitting = None
    if can("orders.take"):
        reg = confirmed_registration(current_user.id)
        skills = reg.skill_list if reg else []
        fitting = paginate(queries.fitting_orders_stmt(reg, skills), per_page=10, scalars=False)
    page = paginate(queries.orders_stmt(flt), options=(selectinload(Order.post),))
    return render("orders/index.html", block="list", page=page, fitting=fitting, show=flt,
                  filters=queries.ORDER_FILTERS)


def _fill_order_form(form: OrderForm, community):
    form.post_id.choices = [(p.id, p.name) for p in queries.post_choices(community.id)]
    form.node_id.choices = grid_choices(community)
    needs = db.session.scalars(queries.needs_stmt(community=community.id, unmatched=True).limit(100)).all()
    form.need_id.choices = [(0, "—")] + [(n.id, n.title) for n in needs]


@bp.route("/new", methods=["GET", "POST"])
@requires("orders.manage")
def new_order():
    community = community_for("orders.manage")
    if community is None:
        return render("orders/choose_community.html")
    form = OrderForm()
    _fill_order_form(form, community)
    if request.method == "GET":
        start = clock.today() + dt.timedelta(days=7)
        form.day.data, form.time.data = start, dt.time(9, 0)
        form.deadline_day.data, form.deadline_time.data = start - dt.timedelta(days=2), dt.time(18, 0)
        need_id = request.args.get("need", type=int)
        if need_id:
            need = access.get_or_404(Need, need_id, "orders.manage")
            form.need_id.data, form.title.data, form.description.data = need.id, need.title, need.description
    if form.validate_on_submit():
        post = access.get_or_404(ServicePost, form.post_id.data, "orders.manage")
        node = node_from_form(form.node_id.data, community, "orders.manage")
        need = access.get_or_404(Need, form.need_id.data, "orders.manage") if form.need_id.data else None
        try:
            order = svc.place(
                post, node, title=form.title.data, description=form.description.data,
                starts_at=clock.to_utc(form.day.data, form.time.data), hours=form.hours.data,
                deadline=clock.to_utc(form.deadline_day.data, form.deadline_time.data),
                needed=form.needed.data, skills=form.skills.data, by=current_user,
                source="need" if need else "community", source_ref=f"need:{need.id}" if need else "",
                need_id=need.id if need else None,
            )
            commit()
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("The order is placed; members can take it now."), "success")
            return redirect(url_for("orders.order", order_id=order.id))
    return render("orders/order_form.html", form=form, community=community)


@bp.route("/<int:order_id>")
@requires("orders.view")
def order(order_id):
    o = access.get_or_404(Order, order_id)
    takes = db.session.scalars(select(Take).where(Take.order_id == o.id).order_by(Take.id)).all()
    mine = next((t for t in takes if t.member_id == current_user.id), None)
    assign = None
    if can("orders.manage"):
        assign = AssignForm()
        taken_ids = {t.member_id for t in takes}
        assign.member_id.choices = [(u.id, u.display_name) for u in queries.members_of_community(o.community_id)
                                    if u.id not in taken_ids]
    return render("orders/order.html", o=o, takes=takes, mine=mine, assign=assign,
                  withdraw_by=svc.withdraw_deadline(o), now=clock.utcnow())


def _back(o, message=None, category="success"):
    if message:
        flash(message, category)
    return redirect(url_for("orders.order", order_id=o.id))


@bp.route("/<int:order_id>/take", methods=["POST"])
@requires("orders.take")
def take(order_id):
    o = access.get_or_404(Order, order_id, "orders.take")
    if confirmed_registration(current_user.id, o.community_id) is None:
        return _back(o, _("Register with this community first; once it confirms you, you can take its orders."),
                     "error")
    try:
        svc.take(o.id, current_user)
    except DomainError as exc:
        return _back(o, str(exc), "error")
    return _back(o, _("You took the order. Thank you!"))


@bp.route("/<int:order_id>/withdraw", methods=["POST"])
@requires("orders.take")
def withdraw(order_id):
    o = access.get_or_404(Order, order_id, "orders.take")
    row = db.session.scalar(select(Take).where(Take.order_id == o.id, Take.member_id == current_user.id))
    if row is None:
        return _back(o, _("You have not taken this order."), "error")
    try:
        svc.withdraw(row, current_user)
    except DomainError as exc:
        db.session.rollback()
        return _back(o, str(exc), "error")
    return _back(o, _("You gave your place back."))


@bp.route("/<int:order_id>/assign", methods=["POST"])
@requires("orders.manage")
def assign(order_id):
    o = access.get_or_404(Order, order_id, "orders.manage")
    member_id = request.form.get("member_id", type=int)
    member = next((u for u in queries.members_of_community(o.community_id) if u.id == member_id), None)
    if member is None:
        return _back(o, _("Choose a member registered with this community."), "error")
    try:
        svc.take(o.id, member, assigned_by=current_user)
    except DomainError as exc:
        return _back(o, str(exc), "error")
    return _back(o, _("%(name)s is assigned.", name=member.display_name))


@bp.route("/<int:order_id>/cancel", methods=["POST"])
@requires("orders.manage")
def cancel(order_id):
    o = access.get_or_404(Order, order_id, "orders.manage")
    try:
        svc.cancel(o, current_user)
        commit()
    except DomainError as exc:
        db.session.rollback()
        return _back(o, str(exc), "error")
    return _back(o, _("The order is cancelled."))


@bp.route("/<int:order_id>/close", methods=["POST"])
@requires("orders.manage")
def close(order_id):
    o = access.get_or_404(Order, order_id, "orders.manage")
    try:
        svc.close(o, current_user)
        commit()
    except DomainError as exc:
        db.session.rollback()
        return _back(o, str(exc), "error")
    return _back(o, _("The order is closed."))


PHOTO_TYPES = {b"\xff\xd8\xff": (".jpg", "image/jpeg"), b"\x89PNG": (".png", "image/png")}


def _photo_of(storage):
    if storage is None or not getattr(storage, "filename", ""):
        return None
    data = storage.read()
    for magic, (suffix, _mime) in PHOTO_TYPES.items():
        if data.startswith(magic):
            return uploads.save_bytes("orders", data, suffix)
    raise DomainError(_("A JPEG or PNG photo."), "photo")


@bp.route("/takes/<int:take_id>/report", methods=["GET", "POST"])
@requires("orders.view")
def report(take_id):
    # The report is the member's own: anyone else who may see the order
    # (staff looking on, another member) is sent back to it, not refused.
    row = access.get_or_404(Take, take_id)
    if row.member_id != current_user.id or not can("orders.take"):
        return _back(row.order, _("Only the member who took the order can report it."), "error")
    form = ReportForm()
    if request.method == "GET":
        form.hours.data = row.report_hours or row.order.hours
        form.text.data = row.report_text
    if form.validate_on_submit():
        try:
            photo = _photo_of(form.photo.data)
            svc.report(row, current_user, text=form.text.data, hours=form.hours.data, photo=photo)
            commit()
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            return _back(row.order, _("Your report is sent; the community will check it."))
    return render("orders/report_form.html", form=form, row=row)


@bp.route("/takes/<int:take_id>/accept", methods=["POST"])
@requires("orders.manage")
def accept(take_id):
    row = access.get_or_404(Take, take_id, "orders.manage")
    try:
        svc.accept(row, current_user)
        commit()
    except DomainError as exc:
        db.session.rollback()
        return _back(row.order, str(exc), "error")
    return _back(row.order, _("Accepted: it counts in the member's service record."))


@bp.route("/takes/<int:take_id>/return", methods=["POST"])
@requires("orders.manage")
def return_report(take_id):
    row = access.get_or_404(Take, take_id, "orders.manage")
    try:
        svc.return_report(row, current_user, request.form.get("reason", ""))
        commit()
    except DomainError as exc:
        db.session.rollback()
        return _back(row.order, str(exc), "error")
    return _back(row.order, _("The report is returned to the member."))


@bp.route("/takes/<int:take_id>/photo")
@requires("orders.view")
def photo(take_id):
    row = access.get_or_404(Take, take_id)
    if not row.photo:
        # No photo sent (yet): back to the order rather than an error page.
        return _back(row.order, _("This report has no photo."), "info")
    return uploads.send(row.photo, mimetype="image/png" if row.photo.endswith(".png") else "image/jpeg")


@bp.route("/reports")
@requires("orders.manage")
def reports():
    page = paginate(queries.reports_waiting_stmt())
    return render("orders/reports.html", block="list", page=page)
