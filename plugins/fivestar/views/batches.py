"""Five-star batches: nomination, review, public notice, objections, award, certificates."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import access, audit, clock
from core.extensions import db
from core.forms import DomainError, StaleEdit, check_edit, edit_token, show_error
from core.forms import commit as commit_or_error
from core.security import can, requires
from core.web import paginate, render

from .. import queries
from ..forms import AnswerForm, BatchForm, DecideForm, NominateForm
from ..models import Batch, Nomination, Objection
from ..services import batches as batches_svc
from . import bp


@bp.route("/batches")
@requires("fivestar.view")
def batches():
    return render("fivestar/batches.html", page=paginate(queries.batches(), per_page=20))


@bp.route("/batches/new", methods=["GET", "POST"])
@requires("fivestar.file")
def batch_new():
    from ..services.rules import district_node

    access.require_node(district_node(), "fivestar.file", "fivestar")
    form = BatchForm()
    if not form.is_submitted():
        n = db.session.scalar(select(Batch.number).order_by(Batch.number.desc()).limit(1)) or 0
        form.number.data, form.title.data = n + 1, f"第{n + 1}批五星级在职党员评定"
        form.opened_on.data, form.min_quarter_score.data, form.min_rating.data = clock.today(), 60, 4.5
    if form.validate_on_submit():
        try:
            b = batches_svc.open_batch(number=form.number.data, title=form.title.data, opened_on=form.opened_on.data,
                                       min_quarter_score=form.min_quarter_score.data, min_rating=form.min_rating.data,
                                       no_rejected=form.no_rejected.data, notice_days=form.notice_days.data)
            audit.record("fivestar.batch", obj=b, summary=b.title)
            commit_or_error("number", _("A batch with this number exists."))
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("Batch opened; communities can nominate now."), "success")
            return redirect(url_for("fivestar.batch", batch_id=b.id))
    return render("fivestar/batch_form.html", form=form)


@bp.route("/batches/<int:batch_id>")
@requires("fivestar.view")
def batch(batch_id):
    b = access.get_or_404(Batch, batch_id)
    cid = request.args.get("community", type=int)
    nominate_in = [c for c in queries.communities("fivestar.nominate")]
    chosen = next((c for c in nominate_in if c.id == cid), nominate_in[0] if len(nominate_in) == 1 else None)
    proposals = batches_svc.proposals(b, chosen.id) if chosen and b.state == "nominating" else None
    page = paginate(queries.nominations(b.id), per_page=40)
    # scoped() joins the nomination (the objection's parent) itself.
    objections = list(db.session.scalars(access.scoped(select(Objection).order_by(Objection.at), Objection,
                                                       community=None).where(Nomination.batch_id == b.id)))
    return render("fivestar/batch.html", b=b, page=page, proposals=proposals, nominating_in=chosen,
                  nominate_in=nominate_in, objections=objections, quarters=batches_svc.quarters(b),
                  nominate=NominateForm(), decide=DecideForm(), answer=AnswerForm(), token=edit_token(b, ["state"]),
                  may_file=can("fivestar.file"), today=clock.today())


@bp.route("/batches/<int:batch_id>/nominate", methods=["POST"])
@requires("fivestar.nominate")
def nominate(batch_id):
    b = access.get_or_404(Batch, batch_id)
    form = NominateForm()
    try:
        member_id = int(form.member.data or "")
    except ValueError:
        abort(404)
    from ..services.records import member_community

    comm = member_community(member_id)
    if comm is None:
        abort(404)
    node = access.require_node(comm, "fivestar.nominate", "fivestar")
    try:
        n = batches_svc.nominate(b, node.id, member_id, current_user.id)
        db.session.flush()
        audit.record("fivestar.nominate", obj=n, summary=f"{b.title}: {n.member.display_name}")
        commit_or_error("member", _("This member is already nominated."))
        flash(_("Nominated."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("fivestar.batch", batch_id=b.id, community=node.id))


@bp.route("/nominations/<int:nomination_id>/decide", methods=["POST"])
@requires("fivestar.file")
def decide(nomination_id):
    n = access.get_or_404(Nomination, nomination_id, "fivestar.file")
    form = DecideForm()
    try:
        batches_svc.decide(n, form.decision.data == "approve", form.note.data or "")
        audit.record("fivestar.decide", obj=n, summary=f"{n.state} {n.review_note}")
        commit_or_error()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("fivestar.batch", batch_id=n.batch_id))


@bp.route("/batches/<int:batch_id>/notice", methods=["POST"], defaults={"step": "notice"})
@bp.route("/batches/<int:batch_id>/award", methods=["POST"], defaults={"step": "award"})
@requires("fivestar.file")
def batch_step(batch_id, step):
    b = access.get_or_404(Batch, batch_id, "fivestar.file")
    try:
        check_edit(b, request.form.get("edit_token"), ["state"], {"state": _("State")})
        if step == "notice":
            batches_svc.start_notice(b)
            msg = _("The public notice period runs until %(d)s.", d=b.notice_end.isoformat())
        else:
            n = batches_svc.award(b)
            msg = _("%(n)s members awarded five stars.", n=n)
        audit.record(f"fivestar.{step}", obj=b, summary=b.title)
        commit_or_error()
    except (DomainError, StaleEdit) as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(msg, "success")
    return redirect(url_for("fivestar.batch", batch_id=b.id))


@bp.route("/objections/<int:objection_id>/answer", methods=["POST"])
@requires("fivestar.file")
def answer(objection_id):
    o = access.get_or_404(Objection, objection_id, "fivestar.file")
    form = AnswerForm()
    try:
        if not form.validate_on_submit():
            raise DomainError(_("Write the answer."), "answer")
        batches_svc.answer(o, form.answer.data, bool(form.upheld.data), current_user.id)
        audit.record("fivestar.answer", obj=o, summary=("upheld: " if o.upheld else "dismissed: ") + o.answer[:100])
        commit_or_error()
        flash(_("Answer saved."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("fivestar.batch", batch_id=o.nomination.batch_id))


@bp.route("/nominations/<int:nomination_id>/certificate")
@requires(None)
def certificate(nomination_id):
    """The printable certificate (staff in scope, or the member themselves)."""
    n = db.session.get(Nomination, nomination_id) if 0 < nomination_id < 2**63 else None
    if n is not None and n.member_id == current_user.id and can("fivestar.own"):
        from . import member_gate

        member_gate(n.member_id)
    else:
        n = access.get_or_404(Nomination, nomination_id)
    if n.state != "awarded":
        abort(404)
    return render("fivestar/certificate.html", n=n)


