"""Excel exports: every one is audited (with the community chosen), and
those with personal data need their own permission."""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user

from core import access
from core.audit import record
from core.excel import xlsx_response
from core.extensions import db
from core.security import requires
from core.web import current_community_id

from .. import exports as X
from .. import queries as Q
from .. import services as S
from . import bp
from .common import compliance_node, home_node, node_arg, today, week_arg


def _send(action: str, build, summary: str | None = None, community_id=None):
    """Audit the export and commit, then build and stream it (the rows are read
    by a server-side cursor that a commit would close)."""
    record(action, object_type="affairs_export", summary=summary or request.query_string.decode()[:200] or None,
           community_id=community_id if community_id is not None else current_community_id())
    db.session.commit()
    name, headers, rows, title = build()
    return xlsx_response(name, headers, rows, title=title)


@bp.route("/export/residents.xlsx")
@requires("affairs.view")
def residents_export():
    return _send("affairs.export.residents", lambda: X.residents(False), _("masked"))


@bp.route("/export/residents-full.xlsx")
@requires("affairs.export")
def residents_export_full():
    return _send("affairs.export.residents_full", lambda: X.residents(True), _("ID numbers and phones in full"))


@bp.route("/export/houses.xlsx")
@requires("affairs.view")
def houses_export():
    return _send("affairs.export.houses", X.houses)


@bp.route("/export/groups.xlsx")
@requires("affairs.export")
def groups_export():
    return _send("affairs.export.groups", lambda: X.groups(today()))


@bp.route("/export/compliance.xlsx")
@requires("affairs.compliance")
def compliance_export():
    node = compliance_node()
    y, w = week_arg()
    return _send("affairs.export.compliance", lambda: X.compliance(node, y, w), f"{node.code} {y}-W{w:02d}",
                 access.community_of(node))


@bp.route("/export/visits.xlsx")
@requires("affairs.view")
def visits_export():
    stmt = Q.visits_stmt(worker_id=current_user.id if request.args.get("mine") == "1" else None,
                         finding=request.args.get("finding", ""))
    return _send("affairs.export.visits", lambda: X.visits(stmt))


@bp.route("/export/checklist.xlsx")
@requires("affairs.tasks")
def checklist_export():
    node = node_arg("affairs.tasks") or home_node("affairs.tasks")
    try:
        period = S.check_period(request.args.get("period") or S.current_period(today()))
    except S.AffairsError:
        abort(404)
    return _send("affairs.export.checklist", lambda: X.checklist(node, period), f"{node.code} {period}",
                 access.community_of(node))


@bp.route("/export/items.xlsx")
@requires("affairs.tasks")
def items_export():
    return _send("affairs.export.items", X.items, community_id=None)
