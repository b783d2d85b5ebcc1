"""Public pages (no login): a community's published monthly scores with each
score explained down to the evidence, and the five-star public notice with
its objection form. Names only — never a phone or ID number.

Public addresses name no database id: a community by its grid code, a score,
an evidence file or a nomination by a signed reference (fs_ref), so ids
cannot be walked and every integer id in a URL stays behind the object gate."""

from __future__ import annotations

from flask import abort, current_app, redirect, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import access, uploads
from core.extensions import db, limiter
from core.forms import DomainError, show_error
from core.models import GridNode
from core.modules import ModuleOff
from core.security import public
from core.web import paginate, render

from .. import queries
from ..forms import ObjectionForm
from ..models import (
    MODULE,
    Amendment,
    Batch,
    ManualRecord,
    MemberScore,
    Nomination,
    ScoreLine,
    ScoreMonth,
)
from ..services import batches as batches_svc
from ..tasks import tell_objection
from . import bp


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="fivestar-public")


@bp.app_template_global("fs_ref")
def fs_ref(kind: str, ident: int) -> str:
    """The public reference of a published score, an evidence file or a nomination."""
    return _signer().dumps([kind, int(ident)])


def _read(ref: str, kind: str) -> int:
    try:
        k, ident = _signer().loads(ref)
        if k == kind and isinstance(ident, int) and 0 < ident < 2**63:
            return ident
    except (BadSignature, TypeError, ValueError):
        pass
    abort(404)


@bp.route("/public/<code>")
@public
def public_community(code):
    node = db.session.scalar(select(GridNode).where(GridNode.code == code[:40], GridNode.level == "community"))
    if node is None:
        abort(404)
    if not access.module_on_at(MODULE, node):
        raise ModuleOff.for_node(MODULE, node)
    months = list(db.session.scalars(queries.public_months(node.id).limit(24)))
    chosen = next((m for m in months if m.month.strftime("%Y-%m") == request.args.get("month")),
                  months[0] if months else None)
    page = paginate(queries.public_scores(chosen.id), per_page=50) if chosen else None
    return render("fivestar/public_community.html", node=node, months=months, shown=chosen, page=page)


def _public_score(score_id: int) -> MemberScore:
    sc = db.session.scalar(
        select(MemberScore).join(ScoreMonth, ScoreMonth.id == MemberScore.month_id)
        .where(MemberScore.id == score_id, ScoreMonth.state == "published",
               access.module_condition(MODULE, ScoreMonth.community_id))
        .options(selectinload(MemberScore.lines)))
    if sc is None:
        abort(404)
    return sc


@bp.route("/public/score/<ref>")
@public
def public_score(ref):
    sc = _public_score(_read(ref, "score"))
    amendments = list(db.session.scalars(select(Amendment).where(Amendment.score_id == sc.id)
                                         .order_by(Amendment.at)))
    manual = {f"manual:{r.id}": r for r in db.session.scalars(select(ManualRecord).where(
        ManualRecord.id.in_([int(line.key.split(":")[1]) for line in sc.lines
                             if line.source == MODULE and line.key.startswith("manual:")])))}
    return render("fivestar/public_score.html", sc=sc, amendments=amendments, manual=manual)


@bp.route("/public/evidence/<ref>")
@public
def public_evidence(ref):
    """A manual record's evidence file, once it explains a published score."""
    record_id = _read(ref, "evidence")
    rec = db.session.get(ManualRecord, record_id)
    if rec is None or not rec.evidence_file:
        abort(404)
    shown = db.session.scalar(
        select(ScoreLine.id).join(MemberScore, MemberScore.id == ScoreLine.score_id)
        .join(ScoreMonth, ScoreMonth.id == MemberScore.month_id)
        .where(ScoreLine.source == MODULE, ScoreLine.key == rec.key, ScoreMonth.state == "published",
               access.module_condition(MODULE, ScoreMonth.community_id)).limit(1))
    if shown is None:
        abort(404)
    return uploads.send(rec.evidence_file, mimetype=rec.evidence_type)


@bp.route("/public/batch/<int:batch_id>")
@public
def public_batch(batch_id):
    b = db.session.get(Batch, batch_id) if 0 < batch_id < 2**63 else None
    if b is None or b.state == "nominating" or not access.module_on_at(MODULE, None):
        abort(404)
    page = paginate(queries.public_nominations(b.id), per_page=50)
    return render("fivestar/public_batch.html", b=b, page=page, form=ObjectionForm(),
                  open=batches_svc.in_notice(b))


@bp.route("/public/nomination/<ref>/object", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config.get("FIVESTAR_OBJECTION_LIMIT", "5 per 10 minutes"), methods=["POST"])
def public_object(ref):
    n = db.session.scalar(select(Nomination).where(
        Nomination.id == _read(ref, "nomination"), Nomination.state.in_(("approved", "awarded", "withdrawn")),
        access.module_condition(MODULE, Nomination.community_id)))
    if n is None:
        abort(404)
    form = ObjectionForm()
    done = False
    if form.validate_on_submit():
        if form.website.data:  # a bot filled the hidden field
            return redirect(url_for("fivestar.public_batch", batch_id=n.batch_id))
        try:
            o = batches_svc.object_to(n, form.reason.data, form.contact.data or "")
            db.session.flush()
            tell_objection(o)
            db.session.commit()
            done = True
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
    return render("fivestar/public_object.html", n=n, form=form, done=done,
                  open=batches_svc.in_notice(n.batch), msg=_("Objection received"))
