"""Excel exports (audited where they hold personal data)."""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.audit import record
from core.excel import xlsx_response
from core.extensions import db
from core.models import GridNode
from core.security import requires
from core.web import community_of
from plugins.affairs.views.common import _compliance_node, _visits_stmt, _week_arg

from .. import queries as Q
from .. import services as S
from ..models import (
    AffairItem,
    AffairTask,
    GroupTag,
    House,
    Resident,
)
from . import bp
from .common import _compliance_node_for, _node_arg, scope, today


def _resident_rows(full: bool):
    stmt = Q.residents_stmt(scope("affairs.export" if full else "affairs.view")).options(
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
    stmt = Q.houses_stmt(scope()).execution_options(yield_per=2000)
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


