"""Pages of grid affairs: thin views over services.py."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, exists, func, or_, select, true
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import NotFound

from core.audit import record
from core.excel import XLSX_MIME, ImportFileError, read_rows, template_bytes, xlsx_response
from core.extensions import db
from core.models import GridNode, ModuleSetting, User, subtree
from core.modules import is_enabled
from core.security import can, in_scope, node_in_scope_or_404, requires, scope_filter, scope_paths
from core.web import Page, community_of, current_community_id, paginate, render

from . import services as S
from .forms import (
    AssignForm,
    EndTagForm,
    GroupTypeForm,
    HouseForm,
    HouseholdForm,
    ImportForm,
    ItemsImportForm,
    QuotaForm,
    ResidentForm,
    SquadMemberForm,
    SquadReportForm,
    TagForm,
    VisitForm,
)
from .models import (
    AffairCategory,
    AffairItem,
    AffairTask,
    GroupTag,
    GroupType,
    House,
    Household,
    ImportJob,
    Resident,
    SquadMember,
    SquadReport,
    Visit,
)

# A house's place: its zone and the zone's building, loaded with it (no N+1).
HOUSE_PLACE = joinedload(House.node).joinedload(GridNode.parent)

bp = Blueprint("affairs", __name__, url_prefix="/affairs", template_folder="templates", static_folder="static",
               static_url_path="/static")

MODULE = "affairs"


@bp.app_template_global("affairs_label")
def _label(code):
    return S.label(code)


@bp.app_template_filter("mask_id")
def _mask_id(v):
    return S.mask_id(v)


@bp.app_template_filter("mask_phone")
def _mask_phone(v):
    return S.mask_phone(v)


@bp.app_template_global("group_name")
def _group_name(g):
    return S.group_name(g)


def today() -> dt.date:
    return dt.date.today()


# --- Scope --------------------------------------------------------------------------


def _module_cond():
    """Rows of communities where the module is on (the others' data stays, unseen)."""
    rows = db.session.execute(
        select(ModuleSetting.community_id, ModuleSetting.enabled).where(ModuleSetting.module == MODULE)
    ).all()
    default = next((e for c, e in rows if c is None), True)
    if default:
        off = [c for c, e in rows if c is not None and not e]
        return GridNode.community_id.notin_(off) if off else true()
    on = [c for c, e in rows if c is not None and e]
    return GridNode.community_id.in_(on or [-1])


def scope(action="affairs.view", walk=False):
    """Rows joined to GridNode: in the user's scope, in the community chosen, module on.

    walk=True writes the same condition so that no index serves it (path || ''):
    for a scope that holds much of the district, the planner then reads a list
    along the index of its ORDER BY and filters, instead of sorting the scope."""
    path = GridNode.path.concat("") if walk else GridNode.path
    cond = and_(scope_filter(path, action), _module_cond())
    cid = current_community_id()
    if cid:
        cond = and_(cond, (GridNode.community_id + 0 if walk else GridNode.community_id) == cid)
    return cond


def _subtree(node: GridNode, walk=False):
    return subtree(GridNode.path.concat("") if walk else GridNode.path, node.path)


# A list whose scope holds at least this share of the district is read along
# its ORDER BY index (see scope(walk=True)); a smaller one is sorted (it is small).
WALK_SHARE = 0.05


def _listed_totals(node: GridNode | None) -> dict[str, int]:
    return S.node_totals([node.id]) if node is not None else _scope_totals()


def _district_totals() -> dict[str, int]:
    roots = list(db.session.scalars(select(GridNode.id).where(GridNode.parent_id.is_(None))))
    return S.node_totals(roots)


def _share(listed: dict, key) -> float:
    def pick(t):
        return sum(v for k, v in t.items() if k.startswith(key)) if key.endswith(":") else t.get(key, 0)

    everything = pick(_district_totals())
    return pick(listed) / everything if everything else 0.0


def _long_page(stmt, id_column, total=None, scalars=True, options=()):
    """A page of one of the module's long lists: the total from the maintained
    totals when known, else counted at most three pages ahead."""
    per_page = current_app.config["PER_PAGE"]
    return paginate(stmt, scalars=scalars, options=options, total=total,
                    ahead=3 * per_page, count_column=id_column)


def _gate(node: GridNode, action="affairs.view") -> GridNode:
    """404 for objects outside scope or in a community where the module is off."""
    if node is None or not in_scope(node, action) or not is_enabled(MODULE, community_of(node)):
        abort(404)
    return node


def _resident_or_404(resident_id: int, action="affairs.view") -> Resident:
    r = db.session.get(Resident, resident_id, options=[joinedload(Resident.house).options(HOUSE_PLACE)])
    if r is None:
        abort(404)
    _gate(db.session.get(GridNode, r.node_id), action)
    return r


def _house_or_404(house_id: int, action="affairs.view") -> House:
    h = db.session.get(House, house_id, options=[HOUSE_PLACE])
    if h is None:
        abort(404)
    _gate(h.node, action)
    return h


def _node_arg():
    raw = request.args.get("node", "")
    if raw.isdigit():
        return _gate(db.session.get(GridNode, int(raw)))
    return None


def _house_nodes(limit=400):
    """Buildings and zones the user may put houses in (for the datalist)."""
    return db.session.execute(
        select(GridNode.code, GridNode.name, GridNode.level)
        .where(GridNode.level.in_(("building", "zone")), scope("affairs.edit"))
        .order_by(GridNode.path)
        .limit(limit)
    ).all()


def _field_error(form, exc: S.AffairsError):
    field = getattr(form, exc.field or "", None)
    if field is not None:
        field.errors = list(field.errors) + [str(exc)]
    else:
        flash(str(exc), "error")


# --- Index ----------------------------------------------------------------------------


def _scope_totals() -> dict[str, int]:
    """The maintained totals of what scope() covers: the user's subtrees (or the
    community chosen), less the communities where the module is off."""
    cid = current_community_id()
    roots = db.session.execute(
        select(GridNode.id, GridNode.path, GridNode.level, GridNode.community_id)
        .where(GridNode.path.in_(scope_paths("affairs.view")))
    ).all()
    if cid:
        community = db.session.get(GridNode, cid)
        if community is None:
            return {}
        roots = [r for r in roots if r.path.startswith(community.path)] or (
            [(community.id, community.path, community.level, community.id)]
            if any(community.path.startswith(r.path) for r in roots) else []
        )
    settings = dict(db.session.execute(
        select(ModuleSetting.community_id, ModuleSetting.enabled).where(ModuleSetting.module == MODULE)
    ).all())
    default = settings.pop(None, True)
    ids, minus = [], []
    for nid, path, level, node_cid in roots:
        if level == "district":
            # Communities of the district where the module is off are left out.
            flip = [c for c, e in settings.items() if e != default]
            under = list(db.session.scalars(
                select(GridNode.id).where(GridNode.id.in_(flip), subtree(GridNode.path, path))
            )) if flip else []
            if default:
                ids.append(nid)
                minus += under
            else:
                ids += under
        elif settings.get(nid if level == "community" else node_cid, default):
            ids.append(nid)
    total = S.node_totals(ids)
    for k, v in S.node_totals(minus).items():
        total[k] = total.get(k, 0) - v
    return total


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


# --- Residents ------------------------------------------------------------------------


def _groups():
    S.ensure_group_types()
    return list(db.session.scalars(select(GroupType).where(GroupType.active.is_(True)).order_by(GroupType.sort_order, GroupType.id)))


@bp.route("/residents")
@requires("affairs.view")
def residents():
    node = _node_arg()
    q = request.args.get("q", "").strip()
    group_id = request.args.get("group", type=int)
    stmt = S.residents_stmt(scope(), node=node, q=q, group_id=group_id, today=today())
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


# --- Houses -----------------------------------------------------------------------------


@bp.route("/houses")
@requires("affairs.view")
def houses():
    node = _node_arg()
    q = request.args.get("q", "").strip()
    stmt = S.houses_stmt(scope(), node=node, q=q)
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


# --- Special groups ---------------------------------------------------------------------


_TAG_PLACE = joinedload(GroupTag.resident).joinedload(Resident.house).joinedload(House.node).joinedload(GridNode.parent)


@bp.route("/groups")
@requires("affairs.view")
def groups():
    node = _node_arg()
    groups = _groups()
    group_id = request.args.get("group", type=int)
    due_only = request.args.get("due") == "1"
    d = today()
    walk = _share(_listed_totals(node), "group:") >= WALK_SHARE
    if due_only and walk:
        # Pages of residents due (each with their due periods), read along the last-visit index.
        ids_stmt = S.due_residents_stmt(scope(walk=True), d, node=node, group_id=group_id)
        page = _long_page(ids_stmt, Resident.id)
        rows = S.due_rows_of(list(page.items), d, options=[_TAG_PLACE])
        due_ids = {t.id for t, _x in rows}
        return render("affairs/groups.html", block="list", page=page, rows=rows, groups=groups, group_id=group_id,
                      due_only=due_only, due_ids=due_ids, node=node, today=d)
    if due_only:
        stmt = S.due_stmt(scope(), d, node=node)
        if group_id:
            stmt = stmt.where(GroupTag.group_type_id == group_id)
    elif walk:
        # A large scope is read along ix_affairs_group_tag_type_resident, each
        # period checked by a correlated EXISTS for its grid: a page of the
        # district is found without sorting (or filtering) the district.
        in_grid = [Resident.id == GroupTag.resident_id, GridNode.id == Resident.node_id, scope(walk=True)]
        if node is not None:
            in_grid.append(_subtree(node, True))
        ids_stmt = (
            select(GroupTag.id)
            .where(S.active_tag_condition(d), exists().where(*in_grid))
            .order_by(GroupTag.group_type_id, GroupTag.resident_id)
        )
        if group_id:
            ids_stmt = ids_stmt.where(GroupTag.group_type_id == group_id)
        page = _long_page(ids_stmt, GroupTag.id)
        order = {tid: i for i, tid in enumerate(page.items)}
        rows = sorted(
            db.session.execute(
                select(GroupTag, S.last_visit_subquery().label("last_visit"))
                .join(Resident, Resident.id == GroupTag.resident_id)
                .where(GroupTag.id.in_(list(order) or [-1]))
                .options(_TAG_PLACE)
            ).all(),
            key=lambda r: order[r[0].id],
        )
        stmt = None
    else:
        last = S.last_visit_subquery().label("last_visit")
        stmt = (
            select(GroupTag, last)
            .join(Resident, Resident.id == GroupTag.resident_id)
            .join(GridNode, GridNode.id == Resident.node_id)
            .where(scope(), S.active_tag_condition(d))
            .order_by(GroupTag.group_type_id, GroupTag.resident_id)
        )
        if node is not None:
            stmt = stmt.where(subtree(GridNode.path, node.path))
        if group_id:
            stmt = stmt.where(GroupTag.group_type_id == group_id)
    if stmt is not None:
        page = _long_page(stmt, GroupTag.id, scalars=False, options=[_TAG_PLACE])
        rows = [(t, last) for t, last in page.items]
    due_ids = set()
    if rows:
        due_ids = set(
            db.session.scalars(
                S.due_stmt(scope(), d).where(GroupTag.id.in_([t.id for t, _x in rows])).with_only_columns(GroupTag.id)
            )
        )
    return render("affairs/groups.html", block="list", page=page, rows=rows, groups=groups, group_id=group_id,
                  due_only=due_only, due_ids=due_ids, node=node, today=d)


# --- Visits -----------------------------------------------------------------------------


def _targets(q: str, limit=15):
    """Residents in the worker's grids matching q (or due for a visit when q is empty)."""
    cond = scope("affairs.visit")
    if q:
        stmt = (
            select(Resident).join(GridNode, GridNode.id == Resident.node_id).where(cond)
            .where(or_(Resident.name.contains(q), Resident.phone == q))
            .options(joinedload(Resident.house).joinedload(House.node).joinedload(GridNode.parent))
            .order_by(Resident.name).limit(limit)
        )
        residents = list(db.session.scalars(stmt))
        houses = list(
            db.session.scalars(
                select(House).join(GridNode, GridNode.id == House.node_id).where(cond)
                .where(or_(House.room == q, GridNode.name.contains(q))).options(HOUSE_PLACE)
                .order_by(GridNode.path, House.room).limit(8)
            )
        )
        return residents, houses, False
    due = db.session.execute(S.due_stmt(cond, today()).options(_TAG_PLACE).limit(limit)).all()
    seen, residents = set(), []
    for tag, _last in due:
        if tag.resident_id not in seen:
            seen.add(tag.resident_id)
            residents.append(tag.resident)
    return residents, [], True


@bp.route("/visits/targets")
@requires("affairs.visit")
def visit_targets():
    q = request.args.get("q", "").strip()
    from core.web import is_fragment_request

    if not is_fragment_request():
        return redirect(url_for("affairs.visit_new", q=q or None, target=request.args.get("target") or None))
    residents, houses, due = _targets(q)
    return render("affairs/visit_form.html", block="targets", residents=residents, houses=houses, due=due, q=q,
                  selected=request.args.get("target", ""))


def _visit_target(raw: str):
    kind, _sep, ident = (raw or "").partition(":")
    if not ident.isdigit():
        return None, None, None
    if kind == "r":
        r = _resident_or_404(int(ident), "affairs.visit")
        return r, r.house, db.session.get(GridNode, r.node_id)
    if kind == "h":
        h = _house_or_404(int(ident), "affairs.visit")
        return None, h, h.node
    return None, None, None


@bp.route("/visits/new", methods=["GET", "POST"])
@requires("affairs.visit")
def visit_new():
    form = VisitForm()
    if request.method == "GET" and request.args.get("target"):
        form.target.data = request.args["target"]
    q = request.args.get("q", "").strip()
    if request.method == "POST" and form.validate():
        resident, house, node = _visit_target(form.target.data)
        try:
            if node is None:
                raise S.AffairsError(_("Choose the household or the resident you visited."), "target")
            visit = S.record_visit(worker=current_user, node=node, day=form.visit_date.data, kind=form.kind.data,
                                   finding=form.finding.data, notes=form.notes.data, resident=resident, house=house)
        except S.AffairsError as exc:
            db.session.rollback()
            _field_error(form, exc)
        else:
            db.session.commit()
            if visit.finding == "problem":
                ref = S.hand_off_problem(current_app._get_current_object(), visit, current_user)
                db.session.commit()
                if ref:
                    flash(_("Visit saved. The problem was handed to Square Inquiry as %(ref)s.", ref=ref), "success")
                else:
                    flash(
                        _("Visit saved. The problem was NOT handed on: the Square Inquiry module is not on in this "
                          "community. Report it to the community office."),
                        "warning",
                    )
            else:
                flash(_("Visit saved."), "success")
            n = S.visits_this_week(current_user.id, today())
            flash(_("Your visits this week: %(n)s of %(quota)s.", n=n, quota=S.weekly_quota(community_of(node))), "info")
            return redirect(url_for("affairs.visit_new"))
    q = request.values.get("q", "").strip()
    residents, houses, due = _targets(q)
    chosen = None
    if form.target.data:
        try:
            chosen_r, chosen_h, _n = _visit_target(form.target.data)
        except NotFound:  # a stale choice simply is not shown
            chosen_r = chosen_h = None
        chosen = chosen_r or chosen_h
        # Keep the person or household chosen on the list, ticked, whatever the search shows.
        if chosen_r is not None and chosen_r not in residents:
            residents.insert(0, chosen_r)
        elif chosen_r is None and chosen_h is not None and chosen_h not in houses:
            houses.insert(0, chosen_h)
    n = S.visits_this_week(current_user.id, today())
    return render("affairs/visit_form.html", form=form, residents=residents, houses=houses, due=due, q=q,
                  selected=form.target.data or "", chosen=chosen, mine=n, quota=S.weekly_quota(current_community_id()))


@bp.route("/visits")
@requires("affairs.view")
def visits():
    walk = _share(_scope_totals(), "residents") >= WALK_SHARE
    stmt, finding = _visits_stmt(walk=walk)
    page = _long_page(stmt, Visit.id)
    return render("affairs/visits.html", block="list", page=page, finding=finding, mine=request.args.get("mine") == "1")


# --- Compliance -----------------------------------------------------------------------


def _week_arg():
    y, w = S.iso_week_of(today())
    raw = request.args.get("week", "")
    try:
        if raw:
            yy, ww = raw.split("-W")
            y, w = int(yy), int(ww)
            dt.date.fromisocalendar(y, w, 1)
    except ValueError:
        abort(404)
    return y, w


def _compliance_node():
    raw = request.args.get("node", "")
    if raw.isdigit():
        return _gate(db.session.get(GridNode, int(raw)), "affairs.compliance")
    return _compliance_node_for("affairs.compliance")


COMMUNITIES_PER_PAGE = 20


@bp.route("/compliance")
@requires("affairs.compliance")
def compliance():
    node = _compliance_node()
    y, w = _week_arg()
    quota = S.weekly_quota(community_of(node))
    monday, sunday = S.week_bounds(y, w)
    prev_w = S.iso_week_of(monday - dt.timedelta(days=7))
    next_w = S.iso_week_of(monday + dt.timedelta(days=7))
    if node.level == "district":
        # The district sees one row per community; each opens the list of its workers.
        # A page of communities at a time (the district's count is maintained on its node).
        try:
            number = max(1, int(request.args.get("page", 1)))
        except ValueError:
            number = 1
        page = Page(items=[], page=number, per_page=COMMUNITIES_PER_PAGE, total=node.n_communities)
        rows = S.compliance_by_community(node.path, y, w, offset=(number - 1) * COMMUNITIES_PER_PAGE,
                                         limit=COMMUNITIES_PER_PAGE)
        return render("affairs/compliance.html", block="list", node=node, rows=[], year=y, week=w, quota=quota,
                      monday=monday, sunday=sunday, prev_w=prev_w, next_w=next_w,
                      by_community=rows, met=0, page=page)
    rows = S.compliance(node, y, w, quota)
    return render("affairs/compliance.html", block="list", node=node, rows=rows, year=y, week=w, quota=quota,
                  monday=monday, sunday=sunday, prev_w=prev_w, next_w=next_w, by_community=None,
                  met=sum(1 for r in rows if r.met))


@bp.route("/compliance/workers/<int:user_id>")
@requires("affairs.compliance")
def worker_compliance(user_id: int):
    worker = db.session.get(User, user_id)
    if worker is None:
        abort(404)
    # The worker must work inside the viewer's scope (or be the viewer).
    if worker.id != current_user.id and not S.works_under(worker.id, scope_paths("affairs.compliance")):
        abort(404)
    weeks = S.previous_weeks(today(), 8)
    hist = S.worker_history(worker.id, weeks)
    quota = S.weekly_quota(current_community_id())
    recent = list(
        db.session.scalars(
            select(Visit).where(Visit.worker_id == worker.id).options(joinedload(Visit.resident), joinedload(Visit.house))
            .order_by(Visit.visit_date.desc(), Visit.id.desc()).limit(20)
        )
    )
    return render("affairs/worker.html", worker=worker, weeks=weeks, hist=hist, quota=quota, recent=recent)


# --- Task list, admission list, checklists ---------------------------------------------


@bp.route("/items")
@requires("affairs.tasks")
def items():
    cats = list(
        db.session.scalars(select(AffairCategory).options(selectinload(AffairCategory.items)).order_by(AffairCategory.sort_order, AffairCategory.id))
    )
    n_items = sum(len(c.items) for c in cats)
    n_admitted = sum(1 for c in cats for i in c.items if i.admitted)
    return render("affairs/items.html", cats=cats, n_items=n_items, n_admitted=n_admitted, form=ItemsImportForm())


@bp.route("/items/<int:item_id>/admission", methods=["POST"])
@requires("affairs.tasks.manage")
def item_admission(item_id: int):
    item = db.session.get(AffairItem, item_id)
    if item is None:
        abort(404)
    item.admitted = request.form.get("admitted") == "1"
    record("affairs.item.admission", item, summary=f"{item.code} {item.name}: {item.admitted}")
    db.session.commit()
    return render("affairs/items.html", block="item_row", it=item)


@bp.route("/items/import", methods=["POST"])
@requires("affairs.tasks.manage")
def items_import():
    form = ItemsImportForm()
    f = form.file.data
    keys = [k for k, _x in S.ITEM_COLUMNS]
    labels = [str(lbl) for _k, lbl in S.ITEM_COLUMNS]
    try:
        if f is None:
            raise ImportFileError(_("Choose an .xlsx file."))
        rows = ((n, {keys[labels.index(k)]: v for k, v in row.items()}) for n, row in read_rows(f, labels))
        written, errors = S.import_items(rows)
    except ImportFileError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("affairs.items"))
    if errors:
        db.session.rollback()
        flash(_("Nothing was imported: %(n)s rows are wrong. The first: row %(row)s, %(col)s: %(reason)s",
                n=len(errors), row=errors[0].row, col=errors[0].column, reason=errors[0].reason), "error")
    else:
        record("affairs.items.import", object_type="affairs_item", summary=f"{written} items")
        db.session.commit()
        flash(_("%(n)s items imported.", n=written), "success")
    return redirect(url_for("affairs.items"))


@bp.route("/items/template.xlsx")
@requires("affairs.tasks.manage")
def items_template():
    data = template_bytes([str(lbl) for _k, lbl in S.ITEM_COLUMNS],
                          ["01", "综治维稳", "01-001", "矛盾纠纷排查", "网格员", "每月排查一次", "estate,building", "是"])
    return Response(data, mimetype=XLSX_MIME, headers={"Content-Disposition": "attachment; filename=task-list-template.xlsx"})


@bp.route("/checklist")
@requires("affairs.tasks")
def checklist():
    node = _node_arg() or _compliance_node_for("affairs.tasks")
    period = request.args.get("period") or S.current_period(today())
    try:
        period = S.check_period(period)
    except S.AffairsError:
        period = S.current_period(today())
    tasks = list(
        db.session.scalars(
            select(AffairTask).where(AffairTask.node_id == node.id, AffairTask.period == period)
            .join(AffairItem).order_by(AffairItem.sort_order, AffairItem.id)
        )
    )
    form = AssignForm(period=period)
    form.item_id.choices = [(i.id, f"{i.code} {i.name}") for i in db.session.scalars(
        select(AffairItem).where(AffairItem.admitted.is_(True)).order_by(AffairItem.sort_order, AffairItem.id))]
    done = sum(1 for t in tasks if t.status == "done")
    children = list(db.session.scalars(select(GridNode).where(GridNode.parent_id == node.id).order_by(GridNode.sort_order, GridNode.id).limit(200)))
    return render("affairs/checklist.html", node=node, period=period, tasks=tasks, form=form, done=done, children=children)


def _compliance_node_for(action):
    """The community chosen in the header when the user sees all of it, else
    the user's first subtree root."""
    cid = current_community_id()
    if cid:
        node = db.session.get(GridNode, cid)
        if node is not None and in_scope(node, action):
            return _gate(node, action)
    paths = scope_paths(action)
    if not paths:
        abort(404)
    return _gate(db.session.get(GridNode, int(paths[0].strip("/").split("/")[-1])), action)


@bp.route("/checklist/<int:node_id>/assign", methods=["POST"])
@requires("affairs.tasks.assign")
def checklist_assign(node_id: int):
    node = _gate(node_in_scope_or_404(node_id, "affairs.tasks.assign"), "affairs.tasks.assign")
    form = AssignForm()
    item = db.session.get(AffairItem, form.item_id.data) if form.item_id.data else None
    try:
        task = S.assign_item(item, node, form.period.data, current_user.id)
    except S.AffairsError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("affairs.checklist", node=node.id, period=form.period.data or ""))
    record("affairs.task.assign", task, summary=f"{task.item.code} → {node.code} {task.period}", community_id=community_of(node))
    db.session.commit()
    flash(_("“%(name)s” is on the checklist of %(node)s for %(period)s.", name=task.item.name, node=node.name, period=task.period), "success")
    return redirect(url_for("affairs.checklist", node=node.id, period=task.period))


@bp.route("/tasks/<int:task_id>/status", methods=["POST"])
@requires("affairs.tasks")
def task_status(task_id: int):
    task = db.session.get(AffairTask, task_id)
    if task is None:
        abort(404)
    _gate(task.node, "affairs.tasks")
    status = request.form.get("status")
    if status in ("pending", "in_progress", "done"):
        task.status = status
        task.updated_by_id = current_user.id
        record("affairs.task.status", task, summary=f"{task.item.code} {status}", community_id=community_of(task.node))
        db.session.commit()
    return render("affairs/checklist.html", block="task_row", t=task)


# --- Grid squads ------------------------------------------------------------------------


@bp.route("/squads")
@requires("affairs.view")
def squads():
    members = (
        select(SquadMember.node_id, func.count().label("n")).where(SquadMember.active.is_(True)).group_by(SquadMember.node_id).subquery()
    )
    stmt = (
        select(GridNode, func.coalesce(members.c.n, 0))
        .outerjoin(members, members.c.node_id == GridNode.id)
        .where(GridNode.level == "estate", scope())
        .order_by(GridNode.path)
    )
    page = paginate(stmt, per_page=50, scalars=False)
    return render("affairs/squads.html", block="list", page=page)


@bp.route("/squads/<int:node_id>", methods=["GET", "POST"])
@requires("affairs.view")
def squad(node_id: int):
    node = _gate(node_in_scope_or_404(node_id, "affairs.view"))
    if node.level != "estate":
        abort(404)
    form = SquadMemberForm(prefix="m")
    rep = SquadReportForm(prefix="r")
    members = list(db.session.scalars(select(SquadMember).where(SquadMember.node_id == node.id, SquadMember.active.is_(True)).order_by(SquadMember.role, SquadMember.id)))
    rep.member_id.choices = [(m.id, f"{m.name} · {S.label(m.role)}") for m in members]
    if request.method == "POST":
        which = request.form.get("form")
        if which == "member":
            if not can("affairs.squads.manage"):
                abort(403)
            if form.validate():
                try:
                    phone = S.check_phone(form.phone.data)
                except S.AffairsError as exc:
                    form.phone.errors = [str(exc)]
                else:
                    m = SquadMember(node_id=node.id, role=form.role.data, name=form.name.data.strip(), phone=phone)
                    db.session.add(m)
                    db.session.flush()
                    record("affairs.squad.member", m, summary=f"{node.name}: {m.name}", community_id=community_of(node))
                    db.session.commit()
                    flash(_("Squad member added."), "success")
                    return redirect(url_for("affairs.squad", node_id=node.id))
        elif which == "report":
            if not can("affairs.edit"):
                abort(403)
            if rep.validate():
                r = SquadReport(node_id=node.id, member_id=rep.member_id.data, topic=rep.topic.data,
                                content=rep.content.data.strip(), recorded_by_id=current_user.id)
                db.session.add(r)
                db.session.flush()
                record("affairs.squad.report", r, summary=f"{node.name}: {r.topic}", community_id=community_of(node))
                db.session.commit()
                flash(_("Information change recorded."), "success")
                return redirect(url_for("affairs.squad", node_id=node.id))
        elif which == "remove":
            if not can("affairs.squads.manage"):
                abort(403)
            m = db.session.get(SquadMember, request.form.get("member_id", type=int) or 0)
            if m is None or m.node_id != node.id:
                abort(404)
            m.active = False
            record("affairs.squad.remove", m, summary=f"{node.name}: {m.name}", community_id=community_of(node))
            db.session.commit()
            flash(_("Squad member removed; their reports stay."), "success")
            return redirect(url_for("affairs.squad", node_id=node.id))
    reports = list(db.session.scalars(select(SquadReport).where(SquadReport.node_id == node.id).order_by(SquadReport.reported_at.desc()).limit(30)))
    return render("affairs/squad.html", node=node, members=members, reports=reports, form=form, rep=rep)


# --- Import -------------------------------------------------------------------------------


def _upload_dir() -> Path:
    base = current_app.config.get("UPLOAD_FOLDER") or str(Path(current_app.instance_path) / "uploads")
    d = Path(base) / "affairs"
    d.mkdir(parents=True, exist_ok=True)
    return d


@bp.route("/import", methods=["GET", "POST"])
@requires("affairs.import")
def import_start():
    form = ImportForm()
    if request.method == "POST" and form.validate():
        f = form.file.data
        name = getattr(f, "filename", "") or ""
        if f is None or not name:
            form.file.errors = [_("Choose an .xlsx file.")]
        elif not name.lower().endswith(".xlsx"):
            form.file.errors = [_("This is not an Excel .xlsx file. Expected columns: %(cols)s.",
                                  cols=", ".join(S.headers(form.kind.data, str(get_locale()))))]
        else:
            path = _upload_dir() / f"{uuid.uuid4().hex}.xlsx"
            f.save(path)
            job = ImportJob(kind=form.kind.data, mode=form.mode.data, filename=name[:255], stored_path=str(path),
                            locale=str(get_locale()), scope=json.dumps(scope_paths("affairs.import")), user_id=current_user.id)
            db.session.add(job)
            db.session.commit()
            if current_app.config.get("AFFAIRS_IMPORT_INLINE", current_app.testing):
                S.run_import(job.id)
            else:
                S.start_import_thread(current_app._get_current_object(), job.id)
            return redirect(url_for("affairs.import_job", job_id=job.id))
    recent = list(db.session.scalars(select(ImportJob).where(ImportJob.user_id == current_user.id).order_by(ImportJob.id.desc()).limit(5)))
    return render("affairs/import.html", form=form, recent=recent,
                  res_cols=S.headers("residents", str(get_locale())), house_cols=S.headers("houses", str(get_locale())))


def _job_or_404(job_id: int) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    if job is None or job.user_id != current_user.id:
        abort(404)
    return job


@bp.route("/import/<int:job_id>")
@requires("affairs.import")
def import_job(job_id: int):
    job = _job_or_404(job_id)
    stalled = (
        job.status == "running" and job.heartbeat_at is not None
        and (dt.datetime.now(dt.UTC).replace(tzinfo=None) - job.heartbeat_at).total_seconds() > 300
    )
    pct = int(100 * job.processed_rows / job.total_rows) if job.total_rows else 0
    return render("affairs/import_job.html", block="progress", job=job, pct=min(pct, 100), stalled=stalled)


@bp.route("/import/<int:job_id>/errors.xlsx")
@requires("affairs.import")
def import_errors(job_id: int):
    job = _job_or_404(job_id)
    if not job.error_report:
        abort(404)
    return Response(job.error_report, mimetype=XLSX_MIME,
                    headers={"Content-Disposition": f"attachment; filename=import-{job.id}-errors.xlsx"})


@bp.route("/import/template/<kind>.xlsx")
@requires("affairs.import")
def import_template(kind: str):
    if kind not in ("residents", "houses"):
        abort(404)
    loc = str(get_locale())
    notes = [
        _("One row per resident; the ID-card number is the key: importing the same person again updates them."),
        _("Building grid code: the code of the building or zone, as shown on the grid pages."),
        _("Residence: %(v)s", v=" / ".join(S.label(c) for c in S.RESIDENCE)),
        _("Social security: %(v)s", v=" / ".join(S.label(c) for c in S.SOCIAL_SECURITY)),
        _("Employment: %(v)s", v=" / ".join(S.label(c) for c in S.EMPLOYMENT)),
        _("Use: %(v)s", v=" / ".join(S.label(c) for c in S.HOUSE_USES)),
        _("Occupancy: %(v)s", v=" / ".join(S.label(c) for c in S.OCCUPANCIES)),
    ]
    data = template_bytes(S.headers(kind, loc), S.example_row(kind), notes)
    return Response(data, mimetype=XLSX_MIME, headers={"Content-Disposition": f"attachment; filename={kind}-template.xlsx"})


# --- Settings -----------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@requires("affairs.settings")
def settings():
    from core.security import admin_community_ids

    ids = admin_community_ids()
    target_id = current_community_id() if ids is not None else None
    if ids is not None and target_id not in ids:
        target_id = sorted(ids)[0] if ids else None
        if target_id is None:
            abort(404)
    target = db.session.get(GridNode, target_id) if target_id else None
    qform = QuotaForm(prefix="q", weekly_quota=S.weekly_quota(target_id))
    gform = GroupTypeForm(prefix="g")
    which = request.form.get("form")
    if request.method == "POST" and which == "quota" and qform.validate():
        S.set_weekly_quota(target_id, qform.weekly_quota.data, current_user.id)
        record("affairs.settings.quota", object_type="affairs_setting", summary=str(qform.weekly_quota.data), community_id=target_id)
        db.session.commit()
        flash(_("The weekly quota is now %(n)s visits.", n=qform.weekly_quota.data), "success")
        return redirect(url_for("affairs.settings"))
    district = ids is None
    if request.method == "POST" and which in ("group", "intervals") and not district:
        abort(403)  # special groups are the district's, shared by every community
    if request.method == "POST" and which == "group" and gform.validate():
        code = "custom_" + uuid.uuid4().hex[:8]
        g = GroupType(code=code, name=gform.name.data.strip(), builtin=False, visit_interval_days=gform.visit_interval_days.data)
        db.session.add(g)
        db.session.flush()
        record("affairs.settings.group", g, summary=g.name)
        db.session.commit()
        flash(_("Special group “%(name)s” added.", name=g.name), "success")
        return redirect(url_for("affairs.settings"))
    if request.method == "POST" and which == "intervals":
        for g in _groups():
            raw = request.form.get(f"interval-{g.id}", "").strip()
            if raw == "":
                g.visit_interval_days = None
            elif raw.isdigit() and 1 <= int(raw) <= 365:
                g.visit_interval_days = int(raw)
            else:
                flash(_("A visit interval is a number of days from 1 to 365."), "error")
                db.session.rollback()
                return redirect(url_for("affairs.settings"))
        record("affairs.settings.intervals", object_type="affairs_group_type")
        db.session.commit()
        flash(_("Changes saved."), "success")
        return redirect(url_for("affairs.settings"))
    return render("affairs/settings.html", qform=qform, gform=gform, groups=_groups(), target=target, district=district)


# --- Exports ------------------------------------------------------------------------------


def _resident_rows(full: bool):
    stmt = S.residents_stmt(scope("affairs.export" if full else "affairs.view")).options(
        joinedload(Resident.house).joinedload(House.node)
    ).execution_options(yield_per=2000)
    for r in db.session.scalars(stmt):
        yield (
            r.name,
            r.id_number if full else S.mask_id(r.id_number),
            S.label(r.sex),
            r.birth_date,
            (r.phone or "") if full else S.mask_phone(r.phone),
            r.house.node.name,
            r.house.node.code,
            r.house.unit,
            r.house.room,
            S.label(r.residence),
            _("Yes") if r.party_member else _("No"),
            S.label(r.social_security),
            S.label(r.employment),
        )


def _resident_headers():
    return [_("Name"), _("ID-card number"), _("Sex"), _("Birth date"), _("Phone"), _("Building"), _("Building grid code"),
            _("Unit"), _("Room"), _("Residence"), _("Party member"), _("Social security"), _("Employment")]


@bp.route("/export/residents.xlsx")
@requires("affairs.view")
def residents_export():
    record("affairs.export.residents", object_type="affairs_resident", summary=_("masked"))
    db.session.commit()
    return xlsx_response(_("residents") + ".xlsx", _resident_headers(), _resident_rows(False), title="residents")


@bp.route("/export/residents-full.xlsx")
@requires("affairs.export")
def residents_export_full():
    record("affairs.export.residents_full", object_type="affairs_resident", summary=_("ID numbers and phones in full"))
    db.session.commit()
    return xlsx_response(_("residents") + ".xlsx", _resident_headers(), _resident_rows(True), title="residents")


@bp.route("/export/houses.xlsx")
@requires("affairs.view")
def houses_export():
    stmt = S.houses_stmt(scope()).execution_options(yield_per=2000)
    rows = ((h.node.name, h.node.code, h.unit, h.floor, h.room, S.label(h.use), S.label(h.occupancy), h.area_m2)
            for h in db.session.scalars(stmt))
    return xlsx_response(_("houses") + ".xlsx", [_("Building"), _("Building grid code"), _("Unit"), _("Floor"), _("Room"),
                                                 _("Use"), _("Occupancy"), _("Area (m²)")], rows, title="houses")


@bp.route("/export/groups.xlsx")
@requires("affairs.export")
def groups_export():
    d = today()
    record("affairs.export.groups", object_type="affairs_group_tag")
    db.session.commit()
    stmt = (
        select(GroupTag).join(Resident, Resident.id == GroupTag.resident_id).join(GridNode, GridNode.id == Resident.node_id)
        .where(scope("affairs.export")).order_by(GroupTag.group_type_id, GridNode.path, Resident.name)
    )
    rows = ((S.group_name(t.group_type), t.resident.name, S.mask_id(t.resident.id_number), t.start_date, t.end_date,
             _("Yes") if t.end_date is None or t.end_date >= d else _("No"), t.notes or "") for t in db.session.scalars(stmt))
    return xlsx_response(_("special groups") + ".xlsx",
                         [_("Special group"), _("Name"), _("ID-card number"), _("From"), _("Until"), _("Current"), _("Notes")],
                         rows, title="groups")


@bp.route("/export/compliance.xlsx")
@requires("affairs.compliance")
def compliance_export():
    node = _compliance_node()
    y, w = _week_arg()
    quota = S.weekly_quota(community_of(node))
    rows = ((r.user.display_name, r.user.username, r.visits, r.covering, quota, _("Yes") if r.met else _("No"))
            for r in S.compliance(node, y, w, quota))
    return xlsx_response(
        _("visit compliance") + f" {y}-W{w:02d}.xlsx",
        [_("Grid worker"), _("Username"), _("Visits"), _("Of which as B-post"), _("Quota"), _("Met")],
        rows, title=f"{y}-W{w:02d}",
    )


def _visits_stmt(walk=False):
    # walk: a large scope, read along ix_affairs_visit_date with its grid checked
    # by a correlated EXISTS (a join made SQLite filter over every grid node).
    base = (
        select(Visit).where(exists().where(GridNode.id == Visit.node_id, scope(walk=True))) if walk
        else select(Visit).join(GridNode, GridNode.id == Visit.node_id).where(scope())
    )
    stmt = (
        base
        .options(joinedload(Visit.worker), joinedload(Visit.resident),
                 joinedload(Visit.house).joinedload(House.node).joinedload(GridNode.parent))
        .order_by(Visit.visit_date.desc(), Visit.id.desc())
    )
    if request.args.get("mine") == "1":
        stmt = stmt.where(Visit.worker_id == current_user.id)
    finding = request.args.get("finding", "")
    if finding in ("none", "opinion", "request", "problem"):
        stmt = stmt.where(Visit.finding == finding)
    return stmt, finding


@bp.route("/export/visits.xlsx")
@requires("affairs.view")
def visits_export():
    stmt, _f = _visits_stmt()
    record("affairs.export.visits", object_type="affairs_visit", summary=request.query_string.decode()[:200])
    db.session.commit()
    rows = ((v.visit_date, v.resident.name if v.resident else "", v.house.label if v.house else "", v.worker.display_name,
             _("Yes") if v.covering_for_id else "", S.label(v.kind), S.label(v.finding), v.problem_ref or "", v.notes or "")
            for v in db.session.scalars(stmt.execution_options(yield_per=2000)))
    return xlsx_response(_("visits") + ".xlsx", [_("Date"), _("Name"), _("House"), _("Grid worker"), _("as B-post"), _("How"),
                                                 _("Finding"), _("Problem"), _("Notes")], rows, title="visits")


@bp.route("/export/checklist.xlsx")
@requires("affairs.tasks")
def checklist_export():
    node = _node_arg() or _compliance_node_for("affairs.tasks")
    try:
        period = S.check_period(request.args.get("period") or S.current_period(today()))
    except S.AffairsError:
        abort(404)
    tasks = db.session.scalars(
        select(AffairTask).where(AffairTask.node_id == node.id, AffairTask.period == period)
        .join(AffairItem).order_by(AffairItem.sort_order, AffairItem.id)
    )
    rows = ((t.item.code, t.item.name, t.item.responsible_role, t.item.target, S.label(t.status)) for t in tasks)
    return xlsx_response(f"{node.name} {period}.xlsx", [_("Item code"), _("Item"), _("Responsible role"), _("Target"), _("Status")],
                         rows, title=period)


@bp.route("/export/items.xlsx")
@requires("affairs.tasks")
def items_export():
    return xlsx_response(_("task list") + ".xlsx", [str(lbl) for _k, lbl in S.ITEM_COLUMNS], S.item_rows(), title="items")


# --- Node panels and dashboard widgets ---------------------------------------------------


@bp.route("/panels/residents/<int:node_id>")
@requires("affairs.view")
def panel_residents(node_id: int):
    node = _gate(node_in_scope_or_404(node_id, "affairs.view"))
    return render("affairs/panels.html", block="residents", which="residents", node=node, c=S.subtree_counts(node))


@bp.route("/panels/houses/<int:node_id>")
@requires("affairs.view")
def panel_houses(node_id: int):
    node = _gate(node_in_scope_or_404(node_id, "affairs.view"))
    return render("affairs/panels.html", block="houses", which="houses", node=node, c=S.subtree_counts(node))


@bp.route("/panels/groups/<int:node_id>")
@requires("affairs.view")
def panel_groups(node_id: int):
    node = _gate(node_in_scope_or_404(node_id, "affairs.view"))
    d = today()
    if _share(S.node_totals([node.id]), "group:") >= WALK_SHARE:
        stmt = S.due_residents_stmt(scope_filter(GridNode.path.concat(""), "affairs.view"), d, node=node)
        due = S.due_figure_of(stmt)
    else:
        due = S.due_figure(S.due_stmt(scope_filter(GridNode.path, "affairs.view"), d, node=node))
    return render("affairs/panels.html", block="groups", which="groups", node=node, counts=S.group_counts(node, d), due=due)


@bp.route("/panels/compliance/<int:node_id>")
@requires("affairs.compliance")
def panel_compliance(node_id: int):
    node = _gate(node_in_scope_or_404(node_id, "affairs.compliance"), "affairs.compliance")
    y, w = S.iso_week_of(today())
    quota = S.weekly_quota(community_of(node))
    rows = S.compliance(node, y, w, quota)
    return render("affairs/panels.html", block="compliance", which="compliance", node=node, rows=rows, quota=quota, year=y, week=w,
                  met=sum(1 for r in rows if r.met))


@bp.route("/widgets/my-week")
@requires("affairs.visit")
def widget_my_week():
    d = today()
    n = S.visits_this_week(current_user.id, d)
    quota = S.weekly_quota(current_community_id())
    return render("affairs/panels.html", block="my_week", which="my_week", n=n, quota=quota)


@bp.route("/widgets/due")
@requires("affairs.view")
def widget_due():
    d = today()
    if _share(_scope_totals(), "group:") >= WALK_SHARE:
        stmt = S.due_residents_stmt(scope(walk=True), d)
        total = S.due_figure_of(stmt)
        rows = S.due_rows_of(list(db.session.scalars(stmt.limit(5))), d, options=[_TAG_PLACE])[:5]
    else:
        stmt = S.due_stmt(scope(), d)
        total = S.due_figure(stmt)
        rows = db.session.execute(stmt.options(_TAG_PLACE).limit(5)).all()
    return render("affairs/panels.html", block="due", which="due", rows=rows, total=total, today=d)
