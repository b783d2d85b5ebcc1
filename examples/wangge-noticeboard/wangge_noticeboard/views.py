"""The notice board's pages: the board, a new notice, the node panel, the
dashboard widget and the Excel export. Thin: parse, check, call a service, render."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from core.audit import record
from core.excel import xlsx_response
from core.extensions import db
from core.models import GridNode
from core.security import in_scope, node_in_scope_or_404, requires, scope_filter, scope_paths
from core.web import current_community_id, paginate, render

from . import services
from .forms import NoticeForm
from .models import Notice

bp = Blueprint("noticeboard", __name__, url_prefix="/noticeboard", template_folder="templates")

EXPORT_HEADERS = (_l("Posted at (UTC)"), _l("Grid"), _l("Grid code"), _l("Title"), _l("Text"), _l("Author"))


def _board_stmt():
    return services.visible_stmt(scope_paths("noticeboard.view"), current_community_id())


@bp.route("/")
@requires("noticeboard.view")
def index():
    page = paginate(_board_stmt(), per_page=20)
    return render("noticeboard/index.html", block="notice_list", page=page)


def _post_targets():
    """The district and communities the user may post on (a district's worth at most)."""
    stmt = (
        select(GridNode.id, GridNode.name)
        .where(GridNode.level.in_(("district", "community")), scope_filter(GridNode.path, "noticeboard.post"))
        .order_by(GridNode.depth, GridNode.sort_order, GridNode.id)
    )
    return [(i, n) for i, n in db.session.execute(stmt)]


@bp.route("/new", methods=["GET", "POST"])
@requires("noticeboard.post")
def new():
    form = NoticeForm()
    form.node_id.choices = _post_targets()
    if form.validate_on_submit():
        node = node_in_scope_or_404(form.node_id.data, "noticeboard.post")
        notice = services.post_notice(node, form.title.data, form.body.data, current_user.id)
        record("noticeboard.posted", notice, summary=notice.title, community_id=node.community_id)
        db.session.commit()
        flash(_("Notice posted."), "success")
        return redirect(url_for(".index"))
    return render("noticeboard/new.html", form=form)


@bp.route("/<int:notice_id>/delete", methods=["POST"])
@requires("noticeboard.post")
def delete(notice_id: int):
    notice = db.session.get(Notice, notice_id)
    if notice is None or not in_scope(notice.node, "noticeboard.post"):
        abort(404)
    record("noticeboard.removed", notice, summary=notice.title, community_id=notice.node.community_id)
    db.session.delete(notice)
    db.session.commit()
    flash(_("Notice removed."), "success")
    return redirect(url_for(".index"))


@bp.route("/panel/<int:node_id>")
@requires("noticeboard.view")
def panel(node_id: int):
    node = node_in_scope_or_404(node_id, "noticeboard.view")
    return render("noticeboard/panel.html", node=node, notices=services.for_node(node))


@bp.route("/widget")
@requires("noticeboard.view")
def widget():
    notices = list(db.session.scalars(_board_stmt().limit(5)))
    return render("noticeboard/widget.html", notices=notices)


@bp.route("/export.xlsx")
@requires("noticeboard.view")
def export():
    def rows():
        for n in db.session.scalars(_board_stmt().limit(100_000)).yield_per(1000):
            author = n.author.display_name if n.author else ""
            yield (n.created_at.isoformat(sep=" ", timespec="seconds"), n.node.name, n.node.code, n.title, n.body, author)

    return xlsx_response("notices.xlsx", [str(h) for h in EXPORT_HEADERS], rows(), title="notices")
