"""Grid squads: members and their reports of changed information."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from core.audit import record
from core.extensions import db
from core.models import GridNode
from core.security import can, node_in_scope_or_404, requires
from core.web import community_of, paginate, render

from .. import services as S
from ..forms import (
    SquadMemberForm,
    SquadReportForm,
)
from ..models import (
    SquadMember,
    SquadReport,
)
from . import bp
from .common import _gate, scope


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


