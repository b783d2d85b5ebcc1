"""Dashboard, locale and community switches, the exports page."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import GridNode
from ..modules import is_enabled
from ..security import can, in_scope, public, requires, scope_paths
from ..web import current_community_id, render

bp = Blueprint("main", __name__)


def _back():
    target = request.form.get("next") or request.referrer or url_for("main.dashboard")
    if target.startswith(request.host_url):
        return target
    # "//host" and "/\host" are other sites to a browser.
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("main.dashboard")


@bp.route("/")
@requires("dashboard.view")
def dashboard():
    return render("dashboard.html")


@bp.route("/ping")
@requires(None)
def ping():
    """The trivial page the benchmarks compare every page with: the shared
    layout (navigation, switchers) around one line of text, behind the same
    middleware and sign-in as every page. What a page costs beyond it is the
    page's own work."""
    return render("ping.html")


@bp.route("/healthz")
@public
def healthz():
    """For load balancers: the app answers and reaches its database."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return "database unavailable", 503, {"Cache-Control": "no-store"}
    return "ok", 200, {"Cache-Control": "no-store"}


@bp.route("/locale", methods=["POST"])
@public
def set_locale():
    locale = request.form.get("locale")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            db.session.commit()
    return redirect(_back())


@bp.route("/community", methods=["POST"])
@requires(None)
def set_community():
    """Choose the community the pages are about (module switches follow it)."""
    raw = request.form.get("community", "")
    if raw.isdigit():
        node = db.session.get(GridNode, int(raw))
        if node is not None and node.level == "community" and in_scope(node):
            session["community_id"] = node.id
    else:
        session.pop("community_id", None)
    return redirect(_back())


def communities_for_switcher():
    """Communities the user can pick in the header (at most a district's worth)."""
    paths = scope_paths()
    if not paths:
        return []
    # Communities are the root's children: reached through the parent index
    # (a filter on level would scan the whole tree on every page).
    roots = select(GridNode.id).where(GridNode.parent_id.is_(None))
    stmt = select(GridNode.id, GridNode.name, GridNode.path).where(GridNode.parent_id.in_(roots))
    rows = db.session.execute(stmt.order_by(GridNode.sort_order, GridNode.id)).all()
    return [(i, n) for i, n, p in rows if any(p.startswith(s) for s in paths)]


@bp.app_context_processor
def inject_switcher():
    return {"communities_for_switcher": communities_for_switcher}


@bp.route("/widgets/summary")
@requires("dashboard.view")
def widget_summary():
    paths = scope_paths()
    roots = []
    if paths:
        roots = list(
            db.session.scalars(
                select(GridNode).where(GridNode.path.in_(paths)).order_by(GridNode.path).limit(20)
            )
        )
    cid = current_community_id()
    return render("widgets/summary.html", roots=roots, community_id=cid)


@bp.route("/exports")
@requires("exports.view")
def exports():
    reg = current_app.extensions["wangge"].registry
    cid = current_community_id()
    items = [e for e in reg.exports if is_enabled(e.module, cid) and (not e.permission or can(e.permission))]
    return render("exports.html", items=items)
