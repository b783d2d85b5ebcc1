"""Excel exports: every one is audited (with the community chosen), and
those with personal data need their own permission."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import access, jobs
from core.audit import record
from core.excel import xlsx_response
from core.extensions import db
from core.security import can, requires
from core.web import current_community_id, render

from .. import exports as X
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


def _big(kind: str, args: dict | None = None):
    """A big export: the file at once up to X.DIRECT_LIMIT rows, else a page
    with the button that makes it a job."""
    args = args or {}
    _action, audit_action, summary = X.BIG[kind]
    if X.is_big(kind, args):
        return render("affairs/export_job.html", kind=kind, args=args, limit=X.DIRECT_LIMIT,
                      community_id=current_community_id())
    return _send(audit_action, lambda: X.big_build(kind, args), _(summary) if summary else None)


def _visit_args() -> dict:
    return {"worker_id": current_user.id if request.args.get("mine") == "1" else None,
            "finding": request.args.get("finding", "")}


@bp.route("/export/residents.xlsx")
@requires("affairs.view")
def residents_export():
    return _big("residents")


@bp.route("/export/residents-full.xlsx")
@requires("affairs.export")
def residents_export_full():
    return _big("residents_full")


@bp.route("/export/houses.xlsx")
@requires("affairs.view")
def houses_export():
    return _big("houses")


@bp.route("/export/groups.xlsx")
@requires("affairs.export")
def groups_export():
    return _big("groups")


@bp.route("/export/<kind>/job", methods=["POST"])
@requires(None)
def export_job(kind: str):
    """Start a big export as a job; the file is downloaded from the job's page."""
    if kind not in X.BIG:
        abort(404)
    action, _audit, summary = X.BIG[kind]
    if not can(action):
        abort(403)
    args = {}
    if kind == "visits":
        args = {"worker_id": current_user.id if request.form.get("mine") == "1" else None,
                "finding": request.form.get("finding", "")}
    titles = {"residents": _("Residents (masked)"), "residents_full": _("Residents with ID numbers and phones"),
              "houses": _("Houses"), "groups": _("Special groups"), "visits": _("Visits")}
    job = jobs.start("affairs.export", params={"kind": kind, "args": args, "summary": _(summary) if summary else None},
                     title=_("Export: %(what)s", what=titles[kind]), community_id=current_community_id())
    return redirect(url_for("jobs.detail", job_id=job.id))


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
    return _big("visits", _visit_args())


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
