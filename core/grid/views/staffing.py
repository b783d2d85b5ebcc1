"""Staffing: posts, A/B cover, leave."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ... import security
from ...audit import record
from ...excel import xlsx_response
from ...extensions import db
from ...models import (
    GridNode,
    GridPost,
    Leave,
    subtree,
)
from ...reminders import leave_cover_reminders
from ...security import (
    can,
    in_scope,
    requires,
    scope_filter,
)
from ...staffing import StaffingError
from ...web import current_community_id, paginate, render
from .. import services as svc
from ..forms import LeaveForm, PostForm
from .common import (
    _community,
    _crumbs,
    _node,
    bp,
)

# --- staffing ------------------------------------------------------------------------


def _user_choices(community: GridNode, blank):
    return [(0, blank)] + [(u.id, f"{u.display_name} ({u.username})") for u in svc.worker_candidates(community)]


@bp.route("/node/<int:node_id>/post", methods=["GET", "POST"])
@requires("staffing.manage")
def post(node_id: int):
    node = _node(node_id, "staffing.manage")
    if node.level == "district":
        abort(404)
    community = db.session.get(GridNode, node.id if node.level == "community" else node.community_id)
    current = svc.post_for(node)
    form = PostForm(obj=current)
    form.a_user_id.choices = _user_choices(community, _("— nobody —"))
    form.b_user_id.choices = _user_choices(community, _("— nobody —"))
    if request.method == "GET" and current:
        form.a_user_id.data = current.a_user_id or 0
        form.b_user_id.data = current.b_user_id or 0
    status = 200
    if form.validate_on_submit():
        try:
            saved = svc.set_post(node, form.a_user_id.data or None, form.b_user_id.data or None)
        except StaffingError as exc:
            db.session.rollback()
            form.b_user_id.errors = [*form.b_user_id.errors, str(exc)]
            status = 422
        else:
            record("post.set", saved, summary=f"{node.code} A={saved.a_user_id} B={saved.b_user_id}", community_id=community.id)
            db.session.commit()
            flash(_("The posts of %(name)s are saved.", name=node.name), "success")
            return redirect(url_for("grid.node", node_id=node.id))
    elif request.method == "POST":
        status = 422
    return render("grid/post_form.html", form=form, node=node, crumbs=_crumbs(node) + [(node, True)]), status


@bp.route("/coverage")
@requires("staffing.view")
def coverage_home():
    cid = current_community_id()
    if cid:
        node = db.session.get(GridNode, cid)
        if node is not None and in_scope(node, "staffing.view"):
            return redirect(url_for("grid.coverage", node_id=cid))
    communities = list(
        db.session.scalars(
            select(GridNode)
            .where(GridNode.level == "community", scope_filter(GridNode.path, "staffing.view"))
            .order_by(GridNode.sort_order, GridNode.id)
            .limit(500)
        )
    )
    rows = None
    if not communities:
        # A grid worker: the coverage of their own grids (and those they cover today).
        posts = db.session.scalars(
            select(GridPost)
            .join(GridNode, GridNode.id == GridPost.node_id)
            .where(scope_filter(GridNode.path, "staffing.view"))
            .order_by(GridNode.path)
            .limit(200)
        ).all()
        rows = svc.coverage(list(posts), security.today())
    return render("grid/coverage_home.html", communities=communities, rows=rows, day=security.today())


def _day_arg() -> dt.date:
    raw = request.args.get("day", "")
    try:
        return dt.date.fromisoformat(raw) if raw else security.today()
    except ValueError:
        return security.today()


@bp.route("/node/<int:node_id>/coverage")
@requires("staffing.view")
def coverage(node_id: int):
    community = _community(node_id, "staffing.view")
    day = _day_arg()
    rows = svc.community_coverage(community, day)
    return render(
        "grid/coverage.html", block="coverage_rows", community=community, rows=rows, day=day,
        nobody=[r for r in rows if r.state == "nobody"], crumbs=_crumbs(community) + [(community, True)],
    )


@bp.route("/node/<int:node_id>/coverage.xlsx")
@requires("staffing.view")
def coverage_export(node_id: int):
    community = _community(node_id, "staffing.view")
    day = _day_arg()
    states = {"a": _("A present"), "b": _("B covering"), "nobody": _("Nobody present")}
    rows = (
        [
            c.node.code, c.node.name, c.post.a_user.display_name if c.post.a_user else "",
            c.post.b_user.display_name if c.post.b_user else "", c.covering.display_name if c.covering else "", states[c.state],
        ]
        for c in svc.community_coverage(community, day)
    )
    return xlsx_response(
        f"{community.name}-{day.isoformat()}.xlsx",
        [_("Grid code"), _("Grid"), _("A-post worker"), _("B-post worker"), _("Covers today"), _("Status")],
        rows,
        title=day.isoformat(),
    )


def _leave_stmt(community: GridNode, show: str = "current"):
    workers = select(GridPost.a_user_id).join(GridNode, GridNode.id == GridPost.node_id).where(subtree(GridNode.path, community.path))
    workers_b = select(GridPost.b_user_id).join(GridNode, GridNode.id == GridPost.node_id).where(subtree(GridNode.path, community.path))
    stmt = select(Leave).where(Leave.user_id.in_(workers) | Leave.user_id.in_(workers_b))
    day = security.today()
    if show == "current":
        stmt = stmt.where(Leave.end_date >= day)
    return stmt.order_by(Leave.start_date.desc(), Leave.id.desc()), show


@bp.route("/node/<int:node_id>/leave", methods=["GET", "POST"])
@requires("staffing.view")
def leave(node_id: int):
    community = _community(node_id, "staffing.view")
    manage = can("staffing.manage", community)
    form = LeaveForm()
    form.user_id.choices = _user_choices(community, _("— choose —")) if manage else []
    status = 200
    if request.method == "POST":
        if not manage:
            abort(403)
        if form.validate_on_submit():
            try:
                lv = svc.add_leave(form.user_id.data, form.start_date.data, form.end_date.data, form.reason.data, current_user.id)
            except StaffingError as exc:
                db.session.rollback()
                target = form.reason if "reason" in str(exc).lower() or "原因" in str(exc) else form.end_date
                target.errors = [*target.errors, str(exc)]
                status = 422
            else:
                record("leave.added", lv, summary=f"user {lv.user_id} {lv.start_date}..{lv.end_date}", community_id=community.id)
                if lv.start_date <= security.today():
                    # Under way already: the B-post hears now, not at tomorrow's reminder
                    # (the same key, so the morning run sends nothing twice).

                    leave_cover_reminders(community.id)
                db.session.commit()
                flash(_("The leave is recorded. The B-post covers while the worker is away."), "success")
                return redirect(url_for("grid.leave", node_id=community.id))
        else:
            status = 422
    show = request.args.get("show", "current")
    stmt, show = _leave_stmt(community, show)
    page = paginate(stmt, per_page=30)
    return render(
        "grid/leave.html", form=form, community=community, page=page, show=show, manage=manage, day=security.today(),
        crumbs=_crumbs(community) + [(community, True)],
    ), status


@bp.route("/node/<int:node_id>/leave/<int:leave_id>/delete", methods=["POST"])
@requires("staffing.manage")
def leave_delete(node_id: int, leave_id: int):
    community = _community(node_id, "staffing.manage")
    lv = db.session.get(Leave, leave_id)
    visible = db.session.scalar(_leave_stmt(community, "all")[0].with_only_columns(Leave.id).where(Leave.id == leave_id).limit(1)) if lv else None
    if lv is None or visible is None:
        abort(404)
    record("leave.deleted", lv, summary=f"user {lv.user_id} {lv.start_date}..{lv.end_date}", community_id=community.id)
    db.session.delete(lv)
    db.session.commit()
    flash(_("The leave was removed."), "success")
    return redirect(url_for("grid.leave", node_id=community.id))
