"""Houses and households."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core import access
from core.extensions import db
from core.forms import DomainError, check_edit, commit, edit_token, show_error
from core.security import can, requires, scope_paths
from core.web import render

from .. import queries as Q
from .. import services as S
from ..forms import (
    HouseForm,
    HouseholdForm,
)
from ..models import (
    House,
    Household,
    Resident,
)
from ..queries import MODULE
from . import bp
from .common import audit, long_page, node_arg


@bp.route("/houses")
@requires("affairs.view")
def houses():
    node = node_arg()
    q = request.args.get("q", "").strip()
    stmt = Q.houses_stmt(Q.scope(), node=node, q=q)
    total = None if q else Q.listed_totals(node).get("houses", 0)
    page = long_page(stmt, House.id, total, options=[Q.HOUSE_PLACE])
    ids = [h.id for h in page.items]
    counts = dict(
        db.session.execute(
            select(Resident.house_id, func.count()).where(Resident.house_id.in_(ids or [-1])).group_by(Resident.house_id)
        ).all()
    )
    return render("affairs/houses.html", block="list", page=page, node=node, q=q, counts=counts)


# What an edit may overwrite (core.forms.check_edit).
EDIT_FIELDS = ("node_id", "unit", "floor", "room", "use", "occupancy", "area_m2", "notes")


def _edit_labels(form) -> dict:
    return {"node_id": form.building.label.text, **{f: form[f].label.text for f in EDIT_FIELDS[1:]}}


def _save_house_from(form, house):
    try:
        node = S.house_node_or_error(form.building.data, scope_paths("affairs.edit"))
        if not access.module_on_at(MODULE, node):
            raise S.AffairsError(_("Grid affairs is switched off in this building's community."), "building")
        if house is not None:
            check_edit(house, form.edit_token.data, EDIT_FIELDS, _edit_labels(form))
        return S.save_house(house, node, form.unit.data, form.floor.data, form.room.data, form.use.data,
                            form.occupancy.data, form.area_m2.data, form.notes.data)
    except DomainError as exc:
        db.session.rollback()
        show_error(form, exc)
        return None


def _commit(form) -> bool:
    try:
        commit(duplicate_field="room")
    except DomainError as exc:
        show_error(form, exc)
        return False
    return True


@bp.route("/houses/new", methods=["GET", "POST"])
@requires("affairs.edit")
def house_new():
    form = HouseForm()
    if request.method == "GET" and request.args.get("building"):
        form.building.data = request.args["building"]
    if request.method == "POST" and form.validate():
        house = _save_house_from(form, None)
        if house is not None:
            audit("affairs.house.create", house, summary=house.label)
            if _commit(form):
                flash(_("House saved."), "success")
                return redirect(url_for("affairs.house", house_id=house.id))
    return render("affairs/house_form.html", form=form, house=None, nodes=Q.house_nodes())


@bp.route("/houses/<int:house_id>", methods=["GET", "POST"])
@requires("affairs.view")
def house(house_id: int):
    h = access.get_or_404(House, house_id, options=[Q.HOUSE_PLACE])
    form = HouseForm(obj=h) if request.method == "GET" else HouseForm()
    if request.method == "GET":
        form.building.data = h.node.code
        form.edit_token.data = edit_token(h, EDIT_FIELDS)
    if request.method == "POST":
        if not can("affairs.edit"):
            abort(403)
        h = access.get_or_404(House, house_id, "affairs.edit", options=[Q.HOUSE_PLACE])
        if form.validate():
            saved = _save_house_from(form, h)
            if saved is not None:
                audit("affairs.house.update", saved, summary=saved.label)
                if _commit(form):
                    flash(_("Changes saved."), "success")
                    return redirect(url_for("affairs.house", house_id=h.id))
        h = access.get_or_404(House, house_id, options=[Q.HOUSE_PLACE])
        form.edit_token.data = edit_token(h, EDIT_FIELDS)
    people = list(db.session.scalars(select(Resident).where(Resident.house_id == h.id).order_by(Resident.household_id, Resident.name)))
    households = list(db.session.scalars(select(Household).where(Household.house_id == h.id).order_by(Household.id)))
    return render("affairs/house.html", h=h, form=form, people=people, households=households,
                  hh_form=HouseholdForm(prefix="hh"), nodes=Q.house_nodes() if can("affairs.edit") else [])


@bp.route("/houses/<int:house_id>/households", methods=["POST"])
@requires("affairs.edit")
def household_add(house_id: int):
    h = access.get_or_404(House, house_id, "affairs.edit", options=[Q.HOUSE_PLACE])
    form = HouseholdForm(prefix="hh")
    if form.validate():
        hh = S.add_household(h, form.head_name.data)
        audit("affairs.household.create", hh, summary=hh.head_name)
        db.session.commit()
        flash(_("Household added."), "success")
    else:
        flash(_("Enter the name of the head of household."), "error")
    return redirect(url_for("affairs.house", house_id=h.id))


