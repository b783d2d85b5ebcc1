"""Grid squads: members and their reports of changed information."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from core import access
from core.extensions import db
from core.forms import DomainError, show_error
from core.models import GridNode
from core.security import can, requires
from core.web import paginate, render

from .. import queries as Q
from .. import services as S
from ..forms import (
    SquadMemberForm,
    SquadReportForm,
)
from ..models import (
    SquadMember,
    SquadReport,
)
from ..queries import MODULE
from . import bp
from .common import audit


@bp.route("/squads")
@requires("affairs.view")
def squads():
    members = (
        select(SquadMember.node_id, func.count().label("n")).where(SquadMember.active.is_(True)).group_by(SquadMember.node_id).subquery()
    )
    stmt = (
        select(GridNode, func.coalesce(members.c.n, 0))
        .outerjoin(members, members.c.node_id == GridNode.id)
        .where(GridNode.level == "estate", Q.scope())
        .order_by(GridNode.path)
    )
    page = paginate(stmt, per_page=50, scalars=False)
    return render("affairs/squads.html", block="list", page=page)


@bp.route("/squads/<int:node_id>", methods=["GET", "POST"])
@requires("affairs.view")
def squad(node_id: int):
    node = access.require_node(node_id, "affairs.view", MODULE)
    if node.level != "estate":
        abort(404)
    form = SquadMemberForm(prefix="m")
    rep = SquadReportForm(prefix="r")
    members = list(db.session.scalars(select(SquadMember).where(SquadMember.node_id == node.id, SquadMember.active.is_(True)).order_by(SquadMember.role, SquadMember.id)))
    rep.member_id.choices = [(m.id, f"{m.name} · {S.label(m.role)}") for m in members]
    if request.method == "POST":
        done = _post(node, request.form.get("form"), form, rep)
        if done:
            return redirect(url_for("affairs.squad", node_id=node.id))
    reports = list(db.session.scalars(select(SquadReport).where(SquadReport.node_id == node.id).order_by(SquadReport.reported_at.desc()).limit(30)))
    return render("affairs/squad.html", node=node, members=members, reports=reports, form=form, rep=rep)


def _post(node, which: str | None, form, rep) -> bool:
    """One of the squad page's three forms; True when saved. Each is a write
    gated by core.access for its own action."""
    try:
        if which == "member":
            access.require_node(node, "affairs.squads.manage", MODULE)
            if not can("affairs.squads.manage"):
                abort(403)
            if not form.validate():
                return False
            m = S.add_member(node, form.role.data, form.name.data, form.phone.data)
            audit("affairs.squad.member", m, summary=f"{node.name}: {m.name}")
            message = _("Squad member added.")
        elif which == "report":
            access.require_node(node, "affairs.edit", MODULE)
            if not can("affairs.edit"):
                abort(403)
            if not rep.validate():
                return False
            r = S.add_report(node, rep.member_id.data, rep.topic.data, rep.content.data, current_user.id)
            audit("affairs.squad.report", r, summary=f"{node.name}: {r.topic}")
            message = _("Information change recorded.")
        elif which == "remove":
            if not can("affairs.squads.manage"):
                abort(403)
            m = access.get_or_404(SquadMember, request.form.get("member_id", type=int) or 0, "affairs.squads.manage")
            if m.node_id != node.id:
                abort(404)
            S.remove_member(m)
            audit("affairs.squad.remove", m, summary=f"{node.name}: {m.name}")
            message = _("Squad member removed; their reports stay.")
        else:
            return False
    except DomainError as exc:
        db.session.rollback()
        show_error(form if which == "member" else rep, exc)
        return False
    db.session.commit()
    flash(message, "success")
    return True
