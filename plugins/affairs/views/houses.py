"""Houses and households."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.audit import record
from core.extensions import db
from core.modules import is_enabled
from core.security import can, requires, scope_paths
from core.web import community_of, render

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
from . import bp
from .common import (
    HOUSE_PLACE,
    MODULE,
    _field_error,
    _house_nodes,
    _house_or_404,
    _listed_totals,
    _long_page,
    _node_arg,
    scope,
)


@bp.route("/houses")
@requires("affairs.view")
def houses():
    node = _node_arg()
    q = request.args.get("q", "").strip()
    stmt = Q.houses_stmt(scope(), node=node, q=q)
    total = None if q else _listed_totals(node).get("houses", 0)
    page = _long_page(stmt, House.id, total, options=[HOUSE_PLACE])
    ids = [h.id for h in page.items]
    counts = dict(
        db.session.execute(
            select(Resident.house_id, func.count()).where(Resident.house_id.in_(ids or [-1])).group_by(Resident.house_id)
        ).all()
    )
    return render("affairs/houses.html", block="list", page=page, node=node, q=q, counts=counts)


def _save_house_from(form, house):
    try:
        node = S.house_node_or_error(form.building.data, scope_paths("affairs.edit"))
        if not is_enabled(MODULE, community_of(node)):
            raise S.AffairsError(_("There is no building with this grid code in your grids."), "building")
        return S.save_house(house, node, form.unit.data, form.floor.data, form.room.data, form.use.data,
                            form.occupancy.data, form.area_m2.data, form.notes.data)
    except S.AffairsError as exc:
        db.session.rollback()
        _field_error(form, exc)
        return None


@bp.route("/houses/new", methods=["GET", "POST"])
@requires("affairs.edit")
def house_new():
    form = HouseForm()
    if request.method == "GET" and request.args.get("building"):
        form.building.data = request.args["building"]
    if request.method == "POST" and form.validate():
        house = _save_house_from(form, None)
        if house is not None:
            record("affairs.house.create", house, summary=house.label, community_id=community_of(house.node))
            db.session.commit()
            flash(_("House saved."), "success")
            return redirect(url_for("affairs.house", house_id=house.id))
    return render("affairs/house_form.html", form=form, house=None, nodes=_house_nodes())


@bp.route("/houses/<int:house_id>", methods=["GET", "POST"])
@requires("affairs.view")
def house(house_id: int):
    h = _house_or_404(house_id)
    form = HouseForm(obj=h) if request.method == "GET" else HouseForm()
    if request.method == "GET":
        form.building.data = h.node.code
    if request.method == "POST":
        if not can("affairs.edit"):
            abort(403)
        if form.validate():
            saved = _save_house_from(form, h)
            if saved is not None:
                record("affairs.house.update", saved, summary=saved.label, community_id=community_of(saved.node))
                db.session.commit()
                flash(_("Changes saved."), "success")
                return redirect(url_for("affairs.house", house_id=h.id))
        h = db.session.get(House, house_id)
    people = list(db.session.scalars(select(Resident).where(Resident.house_id == h.id).order_by(Resident.household_id, Resident.name)))
    households = list(db.session.scalars(select(Household).where(Household.house_id == h.id).order_by(Household.id)))
    return render("affairs/house.html", h=h, form=form, people=people, households=households,
                  hh_form=HouseholdForm(prefix="hh"), nodes=_house_nodes() if can("affairs.edit") else [])


@bp.route("/houses/<int:house_id>/households", methods=["POST"])
@requires("affairs.edit")
def household_add(house_id: int):
    h = _house_or_404(house_id, "affairs.edit")
    form = HouseholdForm(prefix="hh")
    if form.validate():
        hh = Household(house_id=h.id, head_name=form.head_name.data.strip())
        db.session.add(hh)
        db.session.flush()
        record("affairs.household.create", hh, summary=hh.head_name)
        db.session.commit()
        flash(_("Household added."), "success")
    else:
        flash(_("Enter the name of the head of household."), "error")
    return redirect(url_for("affairs.house", house_id=h.id))


