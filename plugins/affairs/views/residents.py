"""Residents: the list, the page and edit form, special-group periods."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.audit import record
from core.extensions import db
from core.models import GridNode
from core.security import can, requires, scope_paths
from core.web import community_of, current_community_id, render

from .. import queries as Q
from .. import services as S
from ..forms import (
    EndTagForm,
    ResidentForm,
    TagForm,
)
from ..models import (
    GroupTag,
    GroupType,
    House,
    Household,
    Resident,
    Visit,
)
from . import bp
from .common import (
    _field_error,
    _groups,
    _house_nodes,
    _house_or_404,
    _listed_totals,
    _long_page,
    _node_arg,
    _resident_or_404,
    _scope_totals,
    scope,
    today,
)


@bp.route("/")
@requires("affairs.view")
def index():
    t = _scope_totals()
    n_res, n_houses = t.get("residents", 0), t.get("houses", 0)
    mine = S.visits_this_week(current_user.id, today()) if can("affairs.visit") else None
    return render(
        "affairs/index.html",
        n_res=n_res,
        n_houses=n_houses,
        mine=mine,
        quota=S.weekly_quota(current_community_id()),
    )


@bp.route("/residents")
@requires("affairs.view")
def residents():
    node = _node_arg()
    q = request.args.get("q", "").strip()
    group_id = request.args.get("group", type=int)
    stmt = Q.residents_stmt(scope(), node=node, q=q, group_id=group_id, today=today())
    total = None if (q or group_id) else _listed_totals(node).get("residents", 0)
    page = _long_page(stmt, Resident.id, total,
                      options=[joinedload(Resident.house).joinedload(House.node).joinedload(GridNode.parent)])
    return render("affairs/residents.html", block="list", page=page, node=node, q=q, group_id=group_id, groups=_groups())


def _resident_form_house(form) -> House | None:
    """The house named by building code, unit and room; errors on the fields."""
    code = (form.building.data or "").strip()
    room = (form.room.data or "").strip()
    if not code and not room:
        form.room.errors = list(form.room.errors) + [_("Every resident lives in a house: give the building and room.")]
        return None
    try:
        node = S.house_node_or_error(code, scope_paths("affairs.edit"))
    except S.AffairsError as exc:
        form.building.errors = list(form.building.errors) + [str(exc)]
        return None
    house = db.session.scalar(
        select(House).where(House.node_id == node.id, House.unit == (form.unit.data or "").strip(), House.room == room)
    )
    if house is None:
        form.room.errors = list(form.room.errors) + [_("There is no house with this unit and room in this building: add the house first.")]
    return house


def _household_choices(form, house: House | None):
    opts = [(0, _("— none —"))]
    if house is not None:
        opts += [(h.id, h.head_name) for h in db.session.scalars(select(Household).where(Household.house_id == house.id))]
    form.household_id.choices = opts


def _save_resident_from(form, resident):
    id_number, phone = form.id_number.data, form.phone.data
    if resident is not None:
        if (id_number or "").strip() == S.mask_id(resident.id_number):
            id_number = resident.id_number
        if (phone or "").strip() == S.mask_phone(resident.phone) and resident.phone:
            phone = resident.phone
    # Every wrong field gets its message at once, not one per attempt.
    ok = True
    for check, value in ((S.parse_id_number, id_number), (S.check_phone, phone)):
        try:
            check(value)
        except S.AffairsError as exc:
            _field_error(form, exc)
            ok = False
    house = _resident_form_house(form)
    if house is None or not ok:
        return None
    try:
        return S.save_resident(
            resident,
            house=house,
            name=form.name.data,
            id_number=id_number,
            phone=phone,
            residence=form.residence.data,
            party_member=form.party_member.data,
            social_security=form.social_security.data,
            employment=form.employment.data,
            household_id=form.household_id.data or None,
            notes=form.notes.data,
        )
    except S.AffairsError as exc:
        db.session.rollback()
        _field_error(form, exc)
        return None


@bp.route("/residents/new", methods=["GET", "POST"])
@requires("affairs.edit")
def resident_new():
    form = ResidentForm()
    house = None
    if request.method == "GET" and request.args.get("house", "").isdigit():
        house = _house_or_404(int(request.args["house"]), "affairs.edit")
        form.building.data, form.unit.data, form.room.data = house.node.code, house.unit, house.room
    _household_choices(form, house)
    if request.method == "POST" and form.validate():
        resident = _save_resident_from(form, None)
        if resident is not None:
            record("affairs.resident.create", resident, summary=resident.name, community_id=community_of(resident.house.node))
            db.session.commit()
            flash(_("Resident %(name)s saved.", name=resident.name), "success")
            return redirect(url_for("affairs.resident", resident_id=resident.id))
    return render("affairs/resident_form.html", form=form, resident=None, nodes=_house_nodes())


@bp.route("/residents/<int:resident_id>", methods=["GET", "POST"])
@requires("affairs.view")
def resident(resident_id: int):
    r = _resident_or_404(resident_id)
    form = ResidentForm(obj=r) if request.method == "GET" else ResidentForm()
    if request.method == "GET":
        form.building.data, form.unit.data, form.room.data = r.house.node.code, r.house.unit, r.house.room
        form.household_id.data = r.household_id or 0
        # The edit form never shows them in full: a masked value sent back unchanged keeps them.
        form.id_number.data, form.phone.data = S.mask_id(r.id_number), S.mask_phone(r.phone)
    _household_choices(form, r.house)
    if request.method == "POST":
        if not can("affairs.edit"):
            abort(403)
        if form.validate():
            saved = _save_resident_from(form, r)
            if saved is None:
                form.id_number.data = S.mask_id(r.id_number) if form.id_number.data == r.id_number else form.id_number.data
            if saved is not None:
                record("affairs.resident.update", saved, summary=saved.name, community_id=community_of(saved.house.node))
                db.session.commit()
                flash(_("Changes saved."), "success")
                return redirect(url_for("affairs.resident", resident_id=r.id))
        r = db.session.get(Resident, resident_id)
    return _resident_page(r, form)


def _resident_page(r: Resident, form, revealed=False, block="content"):
    tags = list(
        db.session.scalars(
            select(GroupTag).where(GroupTag.resident_id == r.id).order_by(GroupTag.start_date.desc(), GroupTag.id.desc())
        )
    )
    visits = list(
        db.session.scalars(select(Visit).where(Visit.resident_id == r.id).order_by(Visit.visit_date.desc(), Visit.id.desc()).limit(10))
    )
    tag_form = TagForm(prefix="t")
    tag_form.group_type_id.choices = [(g.id, S.group_name(g)) for g in _groups()]
    return render(
        "affairs/resident.html",
        block=block,
        r=r,
        form=form,
        tag_form=tag_form,
        end_form=EndTagForm(prefix="e"),
        tags=tags,
        visits=visits,
        today=today(),
        age=S.age_on(r.birth_date, today()),
        nodes=_house_nodes() if can("affairs.edit") else [],
        revealed=revealed,
    )


@bp.route("/residents/<int:resident_id>/delete", methods=["POST"])
@requires("affairs.edit")
def resident_delete(resident_id: int):
    r = _resident_or_404(resident_id, "affairs.edit")
    house_id, name = r.house_id, r.name
    record("affairs.resident.delete", r, summary=f"{name} {S.mask_id(r.id_number)}",
           community_id=community_of(db.session.get(GridNode, r.node_id)))
    S.remove_resident(r)
    db.session.commit()
    flash(_("%(name)s was removed from the ledger; the visits stay with the house.", name=name), "success")
    return redirect(url_for("affairs.house", house_id=house_id))


@bp.route("/residents/<int:resident_id>/reveal", methods=["POST"])
@requires("affairs.pii")
def resident_reveal(resident_id: int):
    """Show the ID number and phone in full; the viewing is audited."""
    r = _resident_or_404(resident_id, "affairs.pii")
    record("affairs.resident.reveal", r, summary=_("Viewed ID-card number and phone of %(name)s", name=r.name),
           community_id=community_of(db.session.get(GridNode, r.node_id)))
    db.session.commit()
    form = ResidentForm(obj=r)
    form.building.data, form.unit.data, form.room.data = r.house.node.code, r.house.unit, r.house.room
    form.id_number.data, form.phone.data = S.mask_id(r.id_number), S.mask_phone(r.phone)
    _household_choices(form, r.house)
    return _resident_page(r, form, revealed=True, block="identity")


@bp.route("/residents/<int:resident_id>/groups", methods=["POST"])
@requires("affairs.edit")
def tag_add(resident_id: int):
    r = _resident_or_404(resident_id, "affairs.edit")
    form = TagForm(prefix="t")
    form.group_type_id.choices = [(g.id, S.group_name(g)) for g in _groups()]
    if form.validate():
        group = db.session.get(GroupType, form.group_type_id.data)
        try:
            tag = S.add_tag(r, group, form.start_date.data, form.end_date.data, form.notes.data, current_user.id)
        except S.AffairsError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            record("affairs.group.add", tag, summary=f"{r.name}: {S.group_name(group)}")
            db.session.commit()
            flash(_("Added to %(group)s.", group=S.group_name(group)), "success")
    else:
        for f in form:
            for e in f.errors:
                flash(f"{f.label.text}: {e}", "error")
    return redirect(url_for("affairs.resident", resident_id=r.id) + "#groups")


@bp.route("/tags/<int:tag_id>/end", methods=["POST"])
@requires("affairs.edit")
def tag_end(tag_id: int):
    tag = db.session.get(GroupTag, tag_id)
    if tag is None:
        abort(404)
    r = _resident_or_404(tag.resident_id, "affairs.edit")
    form = EndTagForm(prefix="e")
    if form.validate():
        try:
            S.end_tag(tag, form.end_date.data, current_user.id, form.notes.data)
        except S.AffairsError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            record("affairs.group.end", tag, summary=f"{r.name}: {S.group_name(tag.group_type)}")
            db.session.commit()
            flash(_("The period is closed; it stays in the history."), "success")
    return redirect(url_for("affairs.resident", resident_id=r.id) + "#groups")


