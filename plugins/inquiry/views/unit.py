"""The unit's side: its list, claim, return, extension request, result."""


from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from core.extensions import db
from core.models import utcnow
from core.security import requires
from core.web import render

from .. import queries
from .. import services as svc
from ..forms import (
    ExtensionForm,
    ReasonForm,
    ResultForm,
)
from ..models import HANDLER_STATES, Problem
from . import bp
from .common import _locale, _page
from .problem import _act

# --- The unit's side -------------------------------------------------------------------------------


@bp.route("/unit")
@requires("inquiry.handle")
def unit():
    if not current_user.organisation_id:
        return render("inquiry/unit.html", page=None, org=None, tab="open", counts={})
    tab = request.args.get("tab", "open")
    states = {"open": ("issued", "claimed"), "reported": ("reported",), "closed": ("closed",)}.get(tab, ("issued", "claimed"))
    mine = Problem.unit_id == current_user.organisation_id
    stmt = queries.problems(select(Problem).where(mine, Problem.state.in_(states)), community=None)
    page = _page(stmt.order_by(Problem.supervised.desc(), Problem.deadline, Problem.id))
    counts = dict(db.session.execute(queries.problems(
        select(Problem.state, func.count()).where(mine, Problem.state.in_(HANDLER_STATES)), community=None)
        .group_by(Problem.state)).all())
    return render("inquiry/unit.html", block="results", page=page, org=current_user.organisation, tab=tab, counts=counts,
                  places=queries.place_labels(page.items),
                  now=utcnow(), clock=svc.deadline_colour, loc=_locale(), category_title=svc.category_title, states=svc.STATE_TITLES)


@bp.route("/p/<int:problem_id>/claim", methods=["POST"])
@requires("inquiry.handle")
def claim(problem_id):
    return _act(problem_id, lambda p: svc.claim(p, current_user), ok=_("Signed for: the problem is your unit's to solve."))


@bp.route("/p/<int:problem_id>/return", methods=["POST"])
@requires("inquiry.handle")
def return_problem(problem_id):
    form = ReasonForm()

    def do(p):
        svc.return_to_triage(p, current_user, form.reason.data)

    resp = _act(problem_id, do, "return", form)
    if resp.status_code == 302:
        flash(_("Returned to the community for triage."), "success")
        return redirect(url_for("inquiry.unit"))
    return resp


@bp.route("/p/<int:problem_id>/extension", methods=["POST"])
@requires("inquiry.handle")
def extension(problem_id):
    form = ExtensionForm()
    return _act(problem_id, lambda p: svc.request_extension(p, current_user, form.days.data, form.reason.data),
                "extension", form, _("Extension requested; the community will decide."))


@bp.route("/p/<int:problem_id>/result", methods=["POST"])
@requires("inquiry.handle")
def result(problem_id):
    form = ResultForm()

    def do(p):
        photos = svc.prepare_photos(request.files.getlist(form.photos.name))
        svc.report_result(p, current_user, form.result_text.data, photos)

    return _act(problem_id, do, "result", form, _("Result reported; the community will visit the reporter."))
