"""Manual service records, their evidence, rejections and adjustments."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import access, audit, uploads
from core.extensions import db
from core.forms import DomainError, show_error
from core.forms import commit as commit_or_error
from core.security import requires
from core.web import paginate, render

from .. import queries
from ..forms import AdjustForm, RecordForm, RejectForm
from ..models import ManualRecord
from ..services import records as records_svc
from ..services import rules as rules_svc
from ..services import scoring
from . import bp, member_gate, parse_month


@bp.route("/records")
@requires("fivestar.view")
def records():
    cid = request.args.get("community", type=int)
    page = paginate(queries.records_stmt(cid), per_page=20)
    return render("fivestar/records.html", page=page, communities=queries.communities(), community_id=cid)


@bp.route("/records/new", methods=["GET", "POST"])
@requires("fivestar.record")
def record_new():
    form = RecordForm()
    records_svc.sync_members()
    members = list(db.session.scalars(queries.members_stmt(request.args.get("community", type=int),
                                                           "fivestar.record").limit(500)))
    form.member.choices = [(m.id, m.display_name) for m in members]
    if request.method == "GET" and request.args.get("member", type=int):
        form.member.data = request.args.get("member", type=int)
    if form.validate_on_submit():
        home = records_svc.member_home(form.member.data)
        if home is None:
            abort(404)
        node = access.require_node(home, "fivestar.record", "fivestar")
        f = form.evidence.data
        try:
            rec = records_svc.add_manual(
                node=node, member_id=form.member.data, day=form.day.data, hours=form.hours.data or 0,
                kind=form.kind.data, title=form.title.data, note=form.note.data or "",
                file_data=f.read() if f else None, file_name=f.filename if f else "", user_id=current_user.id)
            audit.record("fivestar.record", obj=rec, summary=f"{rec.member.display_name} {rec.day} {rec.title}")
            commit_or_error()
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("Service record saved."), "success")
            return redirect(url_for("fivestar.member", member_id=rec.member_id))
    return render("fivestar/record_form.html", form=form)


@bp.route("/records/<int:record_id>")
@requires("fivestar.view")
def record(record_id):
    rec = access.get_or_404(ManualRecord, record_id)
    return render("fivestar/record.html", rec=rec)


@bp.route("/records/<int:record_id>/evidence")
@requires("fivestar.view")
def record_evidence(record_id):
    rec = access.get_or_404(ManualRecord, record_id)
    if not rec.evidence_file:
        abort(404)
    return uploads.send(rec.evidence_file, mimetype=rec.evidence_type)


@bp.route("/members/<int:member_id>/reject", methods=["POST"])
@requires("fivestar.score")
def reject(member_id):
    member_gate(member_id, "fivestar.score")
    community = records_svc.member_community(member_id)
    form = RejectForm()
    try:
        day = dt.date.fromisoformat(form.day.data or "")
    except ValueError:
        abort(404)
    rec = records_svc.find_record(community.id, member_id, form.source.data or "", form.key.data or "", day)
    if rec is None:
        abort(404)
    if not form.validate_on_submit():
        flash(_("Give the reason for rejecting the record."), "error")
    else:
        try:
            row = records_svc.reject(community_id=community.id, record=rec, reason=form.reason.data,
                                     user_id=current_user.id,
                                     locked=lambda d: scoring.is_published(community.id, d))
            db.session.flush()
            audit.record("fivestar.reject", obj=row, summary=f"{rec.source} {rec.key}: {row.reason}")
            commit_or_error("reason", _("This record has already been rejected."))
            flash(_("The record was rejected; it scores nothing."), "success")
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    return redirect(url_for("fivestar.member", member_id=member_id))


@bp.route("/members/<int:member_id>/adjust", methods=["POST"])
@requires("fivestar.score")
def adjust(member_id):
    member_gate(member_id, "fivestar.score")
    community = records_svc.member_community(member_id)
    form = AdjustForm(prefix="adj")
    month = parse_month(form.month.data)
    if month is None:
        flash(_("Give the month as YYYY-MM."), "error")
        return redirect(url_for("fivestar.member", member_id=member_id))
    form.code.choices = [(i["code"], i["title"]) for i in rules_svc.in_force(month).items]
    try:
        adj = scoring.add_adjustment(community_id=community.id, member_id=member_id, month=month,
                                     code=form.code.data or "", reason=form.reason.data or "",
                                     user_id=current_user.id)
        audit.record("fivestar.adjust", obj=adj, summary=f"{adj.title} {adj.points}: {adj.reason}")
        db.session.commit()
        flash(_("Saved; it counts when the month is computed."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("fivestar.member", member_id=member_id))
