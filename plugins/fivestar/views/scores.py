"""Monthly community scores: compute now, review, publish, explain, amend."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from core import access, audit, clock, jobs
from core.extensions import db
from core.forms import DomainError, StaleEdit, check_edit, edit_token, show_error
from core.forms import commit as commit_or_error
from core.security import can, requires
from core.web import paginate, render

from .. import queries
from ..forms import AmendForm, ComputeForm, NoteForm
from ..models import Amendment, MemberScore, ScoreMonth
from ..services import month_start, scoring
from ..tasks import COMPUTE, tell_published
from . import bp, parse_month


def _compute_form():
    form = ComputeForm()
    form.community.choices = queries.community_choices("fivestar.score")
    if not form.is_submitted():
        last = month_start(month_start(clock.today()) - dt.timedelta(days=1))
        form.month.data = last.strftime("%Y-%m")
    return form


@bp.route("/scores")
@requires("fivestar.view")
def scores():
    cid = request.args.get("community", type=int)
    page = paginate(queries.months(cid), per_page=20)
    form = _compute_form() if can("fivestar.score") else None
    return render("fivestar/scores.html", page=page, form=form, communities=queries.communities(),
                  community_id=cid)


@bp.route("/scores/compute", methods=["POST"])
@requires("fivestar.score")
def compute():
    form = _compute_form()
    if form.validate_on_submit():
        node = access.require_node(form.community.data, "fivestar.score", "fivestar")
        month = parse_month(form.month.data)
        try:
            if month is None:
                raise DomainError(_("Give the month as YYYY-MM."), "month")
            scoring.check_computable(node.id, month)
        except DomainError as exc:
            show_error(form, exc)
        else:
            # Scoring reads every module's records: a job, with its progress on the job's page.
            audit.record("fivestar.compute", obj=node, summary=f"{node.name} {month:%Y-%m}")
            job = jobs.start(COMPUTE, params={"community_id": node.id, "month": month.strftime("%Y-%m")},
                             title=_("Scores of %(community)s for %(month)s", community=node.name,
                                     month=month.strftime("%Y-%m")), community_id=node.id)
            flash(_("The scores are being computed; you will be told when they are ready to review."), "success")
            return redirect(url_for("jobs.detail", job_id=job.id))
    page = paginate(queries.months(), per_page=20)
    return render("fivestar/scores.html", page=page, form=form, communities=queries.communities(),
                  community_id=None), 422


@bp.route("/scores/<int:month_id>")
@requires("fivestar.view")
def month(month_id):
    sm = access.get_or_404(ScoreMonth, month_id)
    page = paginate(queries.scores_of_month(sm.id), per_page=30)
    return render("fivestar/month.html", sm=sm, page=page, form=NoteForm(), token=edit_token(sm, ["state"]),
                  may=can("fivestar.score", sm.community))


@bp.route("/scores/<int:month_id>/review", methods=["POST"], defaults={"step": "review"})
@bp.route("/scores/<int:month_id>/publish", methods=["POST"], defaults={"step": "publish"})
@requires("fivestar.score")
def month_step(month_id, step):
    sm = access.get_or_404(ScoreMonth, month_id, "fivestar.score")
    try:
        check_edit(sm, request.form.get("edit_token"), ["state"], {"state": _("State")})
        (scoring.review if step == "review" else scoring.publish)(sm, current_user.id)
        audit.record(f"fivestar.{step}", obj=sm, summary=f"{sm.community.name} {sm.month:%Y-%m}")
        if step == "publish":
            tell_published(sm, db.session.scalars(db.select(MemberScore).where(MemberScore.month_id == sm.id)))
        commit_or_error()
    except (DomainError, StaleEdit) as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("The month is published.") if step == "publish" else _("Marked as reviewed."), "success")
    return redirect(url_for("fivestar.month", month_id=month_id))


@bp.route("/score/<int:score_id>")
@requires("fivestar.view")
def score(score_id):
    sc = access.get_or_404(MemberScore, score_id, options=(selectinload(MemberScore.lines),))
    amendments = list(db.session.scalars(access.scoped(
        db.select(Amendment).where(Amendment.score_id == sc.id).order_by(Amendment.at), Amendment, community=None)))
    return render("fivestar/score.html", sc=sc, amendments=amendments, form=AmendForm(),
                  may=can("fivestar.score", sc.month.community))


@bp.route("/score/<int:score_id>/amend", methods=["POST"])
@requires("fivestar.score")
def amend(score_id):
    sc = access.get_or_404(MemberScore, score_id, "fivestar.score", options=(selectinload(MemberScore.lines),))
    form = AmendForm()
    if form.validate_on_submit():
        try:
            row = scoring.amend(sc, form.delta.data, form.reason.data, current_user.id)
            audit.record("fivestar.amend", obj=row, summary=f"{sc.member.display_name} {row.delta:+g}: {row.reason}")
            commit_or_error()
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("Amendment recorded."), "success")
            return redirect(url_for("fivestar.score", score_id=sc.id))
    amendments = list(db.session.scalars(access.scoped(
        db.select(Amendment).where(Amendment.score_id == sc.id), Amendment, community=None)))
    return render("fivestar/score.html", sc=sc, amendments=amendments, form=form, may=True), 422
