"""Excel exports of grid affairs: each function gives (file name, headers,
rows, sheet title) for core.excel.xlsx_response. The rows are read through
queries.scope (core.access): the user's scope for the action, communities
where the module is on. The views audit every export (views/exports.py).

The big ones (residents, houses, special groups, visits: a district holds
hundreds of thousands of rows) download directly up to DIRECT_LIMIT rows;
beyond it the page offers a button that starts the core job
"affairs.export" (run_export): the file is written in a consumer, the export
is audited there, and the user downloads it from the job's page."""

from __future__ import annotations

import datetime as dt

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core import clock
from core.audit import record
from core.extensions import db
from core.i18n import N_
from core.jobs import JobFailed
from core.models import GridNode
from core.security import can

from . import queries as Q
from . import services as S
from .models import AffairItem, AffairTask, GroupTag, House, Resident

YIELD = 2000
# Up to this many rows an export downloads at once; beyond it, it is a job.
DIRECT_LIMIT = 20_000


def residents_stmt(full: bool):
    return Q.residents_stmt(Q.scope("affairs.export" if full else "affairs.view"))


def residents(full: bool):
    stmt = residents_stmt(full).options(
        joinedload(Resident.house).joinedload(House.node)
    ).execution_options(yield_per=YIELD)
    rows = (
        (
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
        for r in db.session.scalars(stmt)
    )
    headers = [_("Name"), _("ID-card number"), _("Sex"), _("Birth date"), _("Phone"), _("Building"),
               _("Building grid code"), _("Unit"), _("Room"), _("Residence"), _("Party member"),
               _("Social security"), _("Employment")]
    return _("residents") + ".xlsx", headers, rows, "residents"


def houses_stmt():
    return Q.houses_stmt(Q.scope())


def houses():
    stmt = houses_stmt().execution_options(yield_per=YIELD)
    rows = ((h.node.name, h.node.code, h.unit, h.floor, h.room, S.label(h.use), S.label(h.occupancy), h.area_m2)
            for h in db.session.scalars(stmt))
    headers = [_("Building"), _("Building grid code"), _("Unit"), _("Floor"), _("Room"), _("Use"), _("Occupancy"),
               _("Area (m²)")]
    return _("houses") + ".xlsx", headers, rows, "houses"


def groups_stmt():
    return (
        select(GroupTag).join(Resident, Resident.id == GroupTag.resident_id)
        .join(GridNode, GridNode.id == Resident.node_id)
        .where(Q.scope("affairs.export")).order_by(GroupTag.group_type_id, GridNode.path, Resident.name)
    )


def groups(today: dt.date):
    stmt = groups_stmt().execution_options(yield_per=YIELD)
    rows = ((S.group_name(t.group_type), t.resident.name, S.mask_id(t.resident.id_number), t.start_date, t.end_date,
             _("Yes") if t.end_date is None or t.end_date >= today else _("No"), t.notes or "")
            for t in db.session.scalars(stmt))
    headers = [_("Special group"), _("Name"), _("ID-card number"), _("From"), _("Until"), _("Current"), _("Notes")]
    return _("special groups") + ".xlsx", headers, rows, "groups"


def compliance(node: GridNode, year: int, week: int):
    quota = S.weekly_quota(node.id if node.level == "community" else node.community_id)
    rows = ((r.user.display_name, r.user.username, r.visits, r.covering, quota, _("Yes") if r.met else _("No"))
            for r in S.compliance(node, year, week, quota))
    headers = [_("Grid worker"), _("Username"), _("Visits"), _("Of which as B-post"), _("Quota"), _("Met")]
    return _("visit compliance") + f" {year}-W{week:02d}.xlsx", headers, rows, f"{year}-W{week:02d}"


def visits(stmt):
    rows = ((v.visit_date, v.resident.name if v.resident else "", v.house.label if v.house else "",
             v.worker.display_name, _("Yes") if v.covering_for_id else "", S.label(v.kind), S.label(v.finding),
             v.problem_ref or "", v.notes or "")
            for v in db.session.scalars(stmt.execution_options(yield_per=YIELD)))
    headers = [_("Date"), _("Name"), _("House"), _("Grid worker"), _("as B-post"), _("How"), _("Finding"),
               _("Problem"), _("Notes")]
    return _("visits") + ".xlsx", headers, rows, "visits"


def checklist(node: GridNode, period: str):
    tasks = db.session.scalars(
        select(AffairTask).where(AffairTask.node_id == node.id, AffairTask.period == period)
        .join(AffairItem).order_by(AffairItem.sort_order, AffairItem.id)
    )
    rows = ((t.item.code, t.item.name, t.item.responsible_role, t.item.target, S.label(t.status)) for t in tasks)
    headers = [_("Item code"), _("Item"), _("Responsible role"), _("Target"), _("Status")]
    return f"{node.name} {period}.xlsx", headers, rows, period


def items():
    return _("task list") + ".xlsx", [str(lbl) for _k, lbl in S.ITEM_COLUMNS], S.item_rows(), "items"


# --- Big exports: direct below DIRECT_LIMIT rows, else the job "affairs.export" ----------

# kind -> (permission, audit action, summary msgid or None)
BIG = {
    "residents": ("affairs.view", "affairs.export.residents", N_("masked")),
    "residents_full": ("affairs.export", "affairs.export.residents_full", N_("ID numbers and phones in full")),
    "houses": ("affairs.view", "affairs.export.houses", None),
    "groups": ("affairs.export", "affairs.export.groups", None),
    "visits": ("affairs.view", "affairs.export.visits", None),
}


def big_stmt(kind: str, args: dict):
    """The statement of a big export's rows (for counting)."""
    if kind in ("residents", "residents_full"):
        return residents_stmt(kind == "residents_full")
    if kind == "houses":
        return houses_stmt()
    if kind == "groups":
        return groups_stmt()
    return Q.visits_stmt(worker_id=args.get("worker_id"), finding=args.get("finding", ""))


def big_build(kind: str, args: dict):
    if kind in ("residents", "residents_full"):
        return residents(kind == "residents_full")
    if kind == "houses":
        return houses()
    if kind == "groups":
        return groups(clock.today())
    return visits(big_stmt(kind, args))


def is_big(kind: str, args: dict) -> bool:
    return Q.count_upto(big_stmt(kind, args), DIRECT_LIMIT) > DIRECT_LIMIT


def run_export(job, kind: str, args: dict | None = None, summary: str | None = None) -> dict:
    """The task "affairs.export": write the export to the job's file, audited
    here (as its starter, in the community chosen when it started)."""
    args = dict(args or {})
    if kind not in BIG:
        raise JobFailed(N_("This export does not exist."))
    g.wangge_community = job.community_id
    action, audit_action, _summary = BIG[kind]
    if not can(action):
        raise JobFailed(N_("You may no longer make this export."))
    total = Q.count_upto(big_stmt(kind, args), 10_000_000)
    record(audit_action, object_type="affairs_export", summary=summary, community_id=job.community_id)
    name, headers, rows, title = big_build(kind, args)
    job.save_xlsx(name, headers, rows, title=title, total=total)
    return {"rows": total, "message": N_("%(n)s rows exported."), "params": {"n": total}}
