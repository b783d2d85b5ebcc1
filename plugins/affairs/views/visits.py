"""Recording visits, the visit list and the weekly quota compliance."""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from core import access
from core.extensions import db
from core.forms import DomainError, show_error
from core.models import GridNode, User
from core.security import requires, scope_paths
from core.web import Page, current_community_id, render

from .. import queries as Q
from .. import services as S
from ..forms import (
    VisitForm,
)
from ..models import (
    House,
    Resident,
    Visit,
)
from . import bp
from .common import RESIDENT_PLACE, audit, compliance_node, long_page, today, week_arg


@bp.route("/visits/targets")
@requires("affairs.visit")
def visit_targets():
    q = request.args.get("q", "").strip()
    from core.web import is_fragment_request

    if not is_fragment_request():
        return redirect(url_for("affairs.visit_new", q=q or None, target=request.args.get("target") or None))
    residents, houses, due = Q.visit_targets(q, today())
    return render("affairs/visit_form.html", block="targets", residents=residents, houses=houses, due=due, q=q,
                  selected=request.args.get("target", ""))


def _visit_target(raw: str):
    kind, _sep, ident = (raw or "").partition(":")
    if not ident.isdigit():
        return None, None, None
    if kind == "r":
        r = access.get_or_404(Resident, int(ident), "affairs.visit", options=RESIDENT_PLACE)
        return r, r.house, db.session.get(GridNode, r.node_id)
    if kind == "h":
        h = access.get_or_404(House, int(ident), "affairs.visit", options=[Q.HOUSE_PLACE])
        return None, h, h.node
    return None, None, None


@bp.route("/visits/new", methods=["GET", "POST"])
@requires("affairs.visit")
def visit_new():
    form = VisitForm()
    if request.method == "GET" and request.args.get("target"):
        form.target.data = request.args["target"]
    q = request.args.get("q", "").strip()
    if request.method == "POST" and form.validate():
        resident, house, node = _visit_target(form.target.data)
        try:
            if node is None:
                raise S.AffairsError(_("Choose the household or the resident you visited."), "target")
            visit = S.record_visit(worker=current_user, node=node, day=form.visit_date.data, kind=form.kind.data,
                                   finding=form.finding.data, notes=form.notes.data, resident=resident, house=house)
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            audit("affairs.visit.create", visit, summary=f"{visit.visit_date} {visit.kind} {visit.finding}")
            db.session.commit()
            if visit.finding == "problem":
                ref = S.hand_off_problem(current_app._get_current_object(), visit, current_user)
                db.session.commit()
                if ref:
                    flash(_("Visit saved. The problem was handed to Square Inquiry as %(ref)s.", ref=ref), "success")
                else:
                    flash(
                        _("Visit saved. The problem was NOT handed on: the Square Inquiry module is not on in this "
                          "community. Report it to the community office."),
                        "warning",
                    )
            else:
                flash(_("Visit saved."), "success")
            n = Q.visits_this_week(current_user.id, today())
            flash(_("Your visits this week: %(n)s of %(quota)s.", n=n, quota=S.weekly_quota(access.community_of(node))), "info")
            return redirect(url_for("affairs.visit_new"))
    q = request.values.get("q", "").strip()
    residents, houses, due = Q.visit_targets(q, today())
    chosen = None
    if form.target.data:
        try:
            chosen_r, chosen_h, _n = _visit_target(form.target.data)
        except NotFound:  # a stale choice simply is not shown
            chosen_r = chosen_h = None
        chosen = chosen_r or chosen_h
        # Keep the person or household chosen on the list, ticked, whatever the search shows.
        if chosen_r is not None and chosen_r not in residents:
            residents.insert(0, chosen_r)
        elif chosen_r is None and chosen_h is not None and chosen_h not in houses:
            houses.insert(0, chosen_h)
    n = Q.visits_this_week(current_user.id, today())
    return render("affairs/visit_form.html", form=form, residents=residents, houses=houses, due=due, q=q,
                  selected=form.target.data or "", chosen=chosen, mine=n, quota=S.weekly_quota(current_community_id()))


@bp.route("/visits")
@requires("affairs.view")
def visits():
    walk = Q.walks(Q.scope_totals(), "residents")
    finding = request.args.get("finding", "")
    stmt = Q.visits_stmt(worker_id=current_user.id if request.args.get("mine") == "1" else None,
                         finding=finding, walk=walk)
    page = long_page(stmt, Visit.id)
    return render("affairs/visits.html", block="list", page=page, finding=finding, mine=request.args.get("mine") == "1")


# --- Compliance -----------------------------------------------------------------------

COMMUNITIES_PER_PAGE = 20


@bp.route("/compliance")
@requires("affairs.compliance")
def compliance():
    node = compliance_node()
    y, w = week_arg()
    quota = S.weekly_quota(access.community_of(node))
    monday, sunday = S.week_bounds(y, w)
    prev_w = S.iso_week_of(monday - dt.timedelta(days=7))
    next_w = S.iso_week_of(monday + dt.timedelta(days=7))
    if node.level == "district":
        # The district sees one row per community; each opens the list of its workers.
        # A page of communities at a time, those where the module is on.
        try:
            number = max(1, int(request.args.get("page", 1)))
        except ValueError:
            number = 1
        page = Page(items=[], page=number, per_page=COMMUNITIES_PER_PAGE,
                    total=S.communities_on(node.id))
        rows = S.compliance_by_community(node.path, y, w, offset=(number - 1) * COMMUNITIES_PER_PAGE,
                                         limit=COMMUNITIES_PER_PAGE)
        return render("affairs/compliance.html", block="list", node=node, rows=[], year=y, week=w, quota=quota,
                      monday=monday, sunday=sunday, prev_w=prev_w, next_w=next_w,
                      by_community=rows, met=0, page=page)
    rows = S.compliance(node, y, w, quota)
    return render("affairs/compliance.html", block="list", node=node, rows=rows, year=y, week=w, quota=quota,
                  monday=monday, sunday=sunday, prev_w=prev_w, next_w=next_w, by_community=None,
                  met=sum(1 for r in rows if r.met))


@bp.route("/compliance/workers/<int:user_id>")
@requires("affairs.compliance")
def worker_compliance(user_id: int):
    worker = db.session.get(User, user_id)
    if worker is None:
        abort(404)
    # The worker must work inside the viewer's scope (or be the viewer).
    if worker.id != current_user.id and not S.works_under(worker.id, scope_paths("affairs.compliance")):
        abort(404)
    weeks = S.previous_weeks(today(), 8)
    hist = S.worker_history(worker.id, weeks)
    quota = S.weekly_quota(current_community_id())
    recent = list(
        db.session.scalars(
            select(Visit).join(GridNode, GridNode.id == Visit.node_id)
            .where(Visit.worker_id == worker.id, Q.scope("affairs.compliance", community=None))
            .options(joinedload(Visit.resident), joinedload(Visit.house))
            .order_by(Visit.visit_date.desc(), Visit.id.desc()).limit(20)
        )
    )
    return render("affairs/worker.html", worker=worker, weeks=weeks, hist=hist, quota=quota, recent=recent)


