"""Residents: the list, the page and edit form, special-group periods."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import access
from core.extensions import db
from core.forms import DomainError, StaleEdit, check_edit, commit, edit_token, show_error
from core.security import can, requires, scope_paths
from core.web import current_community_id, render

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
from ..queries import MODULE
from . import bp
from .common import RESIDENT_PLACE, audit, long_page, node_arg, today


@bp.route("/")
@requires("affairs.view")
def index():
    t = Q.scope_totals()
    n_res, n_houses = t.get("residents", 0), t.get("houses", 0)
    mine = Q.visits_this_week(current_user.id, today()) if can("affairs.visit") else None
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
    node = node_arg()
    q = request.args.get("q", "").strip()
    group_id = request.args.get("group", type=int)
    stmt = Q.residents_stmt(Q.scope(), node=node, q=q, group_id=group_id, today=today())
    total = None if (q or group_id) else Q.listed_totals(node).get("residents", 0)
    page = long_page(stmt, Resident.id, total,
                     options=RESIDENT_PLACE)
    return render("affairs/residents.html", block="list", page=page, node=node, q=q, group_id=group_id, groups=Q.active_groups())


def _resident_form_house(form) -> House | None:
    """The house named by building code, unit and room; errors on the fields."""
    code = (form.building.data or "").strip()
    room = (form.room.data or "").strip()
    if not code and not room:
        form.room.errors = list(form.room.errors) + [_("Every resident lives in a house: give the building and room.")]
        return None
    try:
        node = S.house_node_or_error(code, scope_paths("affairs.edit"))
    except DomainError as exc:
        show_error(form, exc)
        return None
    if not access.module_on_at(MODULE, node):
        show_error(form, S.AffairsError(_("Grid affairs is switched off in this building's community."), "building"))
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
        except DomainError as exc:
            show_error(form, exc)
            ok = False
    house = _resident_form_house(form)
    if house is None or not ok:
        return None
    try:
        if resident is not None:
            check_edit(resident, form.edit_token.data, EDIT_FIELDS, _edit_labels(form))
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
    except DomainError as exc:
        db.session.rollback()
        show_error(form, exc)
        if isinstance(exc, StaleEdit):
            form.stale = exc
        return None


def _commit(form) -> bool:
    """Commit a saved resident; a race (the same ID number at the same instant,
    an edit saved at the same instant) becomes a message on the form."""
    try:
        commit(duplicate_field="id_number")
    except DomainError as exc:
        show_error(form, exc)
        return False
    return True


@bp.route("/residents/new", methods=["GET", "POST"])
@requires("affairs.edit")
def resident_new():
    form = ResidentForm()
    house = None
    if request.method == "GET" and request.args.get("house", "").isdigit():
        house = access.get_or_404(House, int(request.args["house"]), "affairs.edit", options=[Q.HOUSE_PLACE])
        form.building.data, form.unit.data, form.room.data = house.node.code, house.unit, house.room
    _household_choices(form, house)
    if request.method == "POST" and form.validate():
        resident = _save_resident_from(form, None)
        if resident is not None:
            audit("affairs.resident.create", resident, summary=resident.name)
            if _commit(form):
                flash(_("Resident %(name)s saved.", name=resident.name), "success")
                return redirect(url_for("affairs.resident", resident_id=resident.id))
    return render("affairs/resident_form.html", form=form, resident=None, nodes=Q.house_nodes())


@bp.route("/residents/<int:resident_id>", methods=["GET", "POST"])
@requires("affairs.view")
def resident(resident_id: int):
    r = access.get_or_404(Resident, resident_id, options=RESIDENT_PLACE)
    form = ResidentForm(obj=r) if request.method == "GET" else ResidentForm()
    if request.method == "GET":
        _fill_edit_form(form, r)
    _household_choices(form, r.house)
    if request.method == "POST":
        if not can("affairs.edit"):
            abort(403)
        if form.validate():
            saved = _save_resident_from(form, r)
            if saved is not None:
                audit("affairs.resident.update", saved, summary=saved.name)
                if _commit(form):
                    flash(_("Changes saved."), "success")
                    return redirect(url_for("affairs.resident", resident_id=r.id))
        r = access.get_or_404(Resident, resident_id, options=RESIDENT_PLACE)
        if form.id_number.data == r.id_number:
            form.id_number.data = S.mask_id(r.id_number)
        stale = getattr(form, "stale", None)
        if stale is not None:
            _merge_stale(form, stale, r)
        # The token now stands for the current version: saving again applies
        # what this person changed on top of the other's changes.
        form.edit_token.data = edit_token(r, EDIT_FIELDS)
    return _resident_page(r, form, open_edit=request.method == "POST")


# What an edit may overwrite: a save drawn from an older version naming any of
# these is refused (core.forms.check_edit); ID number and phone stay masked.
EDIT_FIELDS = ("name", "id_number_masked", "phone_masked", "house_id", "household_id", "residence",
               "party_member", "social_security", "employment", "notes")


def _edit_labels(form) -> dict:
    return {"name": form.name.label.text, "id_number_masked": form.id_number.label.text,
            "phone_masked": form.phone.label.text, "house_id": _("House"),
            "household_id": form.household_id.label.text, "residence": form.residence.label.text,
            "party_member": form.party_member.label.text, "social_security": form.social_security.label.text,
            "employment": form.employment.label.text, "notes": form.notes.label.text}


# The form field that shows each edited attribute (the house is three fields: left as typed).
FORM_FIELD = {"name": "name", "id_number_masked": "id_number", "phone_masked": "phone", "household_id": "household_id",
              "residence": "residence", "party_member": "party_member", "social_security": "social_security",
              "employment": "employment", "notes": "notes"}


def _merge_stale(form, stale: StaleEdit, r: Resident) -> None:
    """After a refused save: a field the other person changed and this person
    did not touch shows the current value; what this person typed stays. So
    saving again loses neither edit."""
    by_label = {str(label): attr for attr, label in _edit_labels(form).items()}
    for label, before, _now in stale.changes:
        attr = by_label.get(str(label))
        field = form[FORM_FIELD[attr]] if attr in FORM_FIELD else None
        if field is None:
            continue
        typed = field.data if attr != "household_id" else (field.data or None)
        if ("" if typed is None else str(typed)) == before:
            current = getattr(r, attr)
            field.data = current if attr != "household_id" else (current or 0)


def _fill_edit_form(form, r: Resident) -> None:
    form.building.data, form.unit.data, form.room.data = r.house.node.code, r.house.unit, r.house.room
    form.household_id.data = r.household_id or 0
    # The edit form never shows them in full: a masked value sent back unchanged keeps them.
    form.id_number.data, form.phone.data = S.mask_id(r.id_number), S.mask_phone(r.phone)
    form.edit_token.data = edit_token(r, EDIT_FIELDS)


def _resident_page(r: Resident, form, revealed=False, block="content", open_edit=False):
    tags = list(
        db.session.scalars(
            select(GroupTag).where(GroupTag.resident_id == r.id).order_by(GroupTag.start_date.desc(), GroupTag.id.desc())
        )
    )
    visits = list(
        db.session.scalars(select(Visit).where(Visit.resident_id == r.id).order_by(Visit.visit_date.desc(), Visit.id.desc()).limit(10))
    )
    tag_form = TagForm(prefix="t")
    tag_form.group_type_id.choices = [(g.id, S.group_name(g)) for g in Q.active_groups()]
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
        nodes=Q.house_nodes() if can("affairs.edit") else [],
        revealed=revealed,
        open_edit=open_edit,
    )


@bp.route("/residents/<int:resident_id>/delete", methods=["POST"])
@requires("affairs.edit")
def resident_delete(resident_id: int):
    r = access.get_or_404(Resident, resident_id, "affairs.edit", options=RESIDENT_PLACE)
    house_id, name = r.house_id, r.name
    audit("affairs.resident.delete", r, summary=f"{name} {S.mask_id(r.id_number)}")
    S.remove_resident(r)
    db.session.commit()
    flash(_("%(name)s was removed from the ledger; the visits stay with the house.", name=name), "success")
    return redirect(url_for("affairs.house", house_id=house_id))


@bp.route("/residents/<int:resident_id>/reveal", methods=["POST"])
@requires("affairs.pii")
def resident_reveal(resident_id: int):
    """Show the ID number and phone in full; the viewing is audited."""
    r = access.get_or_404(Resident, resident_id, "affairs.pii", options=RESIDENT_PLACE)
    audit("affairs.resident.reveal", r, summary=_("Viewed ID-card number and phone of %(name)s", name=r.name))
    db.session.commit()
    form = ResidentForm(obj=r)
    _fill_edit_form(form, r)
    _household_choices(form, r.house)
    return _resident_page(r, form, revealed=True, block="identity")


@bp.route("/residents/<int:resident_id>/groups", methods=["POST"])
@requires("affairs.edit")
def tag_add(resident_id: int):
    r = access.get_or_404(Resident, resident_id, "affairs.edit", options=RESIDENT_PLACE)
    form = TagForm(prefix="t")
    form.group_type_id.choices = [(g.id, S.group_name(g)) for g in Q.active_groups()]
    if form.validate():
        group = db.session.get(GroupType, form.group_type_id.data)
        try:
            if group is None:
                raise S.AffairsError(_("Choose the special group."), "group_type_id")
            tag = S.add_tag(r, group, form.start_date.data, form.end_date.data, form.notes.data, current_user.id)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            audit("affairs.group.add", tag, summary=f"{r.name}: {S.group_name(group)}")
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
    tag = access.get_or_404(GroupTag, tag_id, "affairs.edit")
    r = tag.resident
    form = EndTagForm(prefix="e")
    if form.validate():
        try:
            S.end_tag(tag, form.end_date.data, current_user.id, form.notes.data)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            audit("affairs.group.end", tag, summary=f"{r.name}: {S.group_name(tag.group_type)}")
            db.session.commit()
            flash(_("The period is closed; it stays in the history."), "success")
    return redirect(url_for("affairs.resident", resident_id=r.id) + "#groups")


