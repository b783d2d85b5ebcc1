"""The board, one notice, a new notice, taking one down, the node panel, the
dashboard widget and the export. Thin: parse, gate, call a service, render."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import access, audit, clock
from core.extensions import db
from core.forms import DomainError, show_error
from core.models import GridNode
from core.security import requires
from core.web import paginate, render

from .. import exports, queries, services
from ..forms import NoticeForm
from ..models import Notice
from . import bp


@bp.route("/")
@requires("noticeboard.view")
def index():
    page = paginate(queries.board_stmt(), per_page=20)
    return render("noticeboard/index.html", block="notice_list", page=page)


@bp.route("/<int:notice_id>")
@requires("noticeboard.view")
def notice(notice_id: int):
    # The object gate: 404 out of scope or where the board is switched off.
    return render("noticeboard/notice.html", notice=access.get_or_404(Notice, notice_id))


def _post_targets():
    """The district and communities the user may post on, where the board is on."""
    stmt = (
        select(GridNode.id, GridNode.name)
        .where(GridNode.level.in_(("district", "community")),
               access.node_condition("noticeboard", "noticeboard.post"))
        .order_by(GridNode.depth, GridNode.sort_order, GridNode.id)
    )
    return [(i, n) for i, n in db.session.execute(stmt)]


@bp.route("/new", methods=["GET", "POST"])
@requires("noticeboard.post")
def new():
    form = NoticeForm()
    form.node_id.choices = _post_targets()
    if not form.is_submitted():
        form.expires_on.data = clock.today() + dt.timedelta(days=30)
    if form.validate_on_submit():
        # The write gate: 404 out of scope, the "switched off here" page where the board is off.
        node = access.require_node(form.node_id.data, "noticeboard.post", "noticeboard")
        try:
            notice = services.post_notice(node, form.title.data, form.body.data, current_user.id,
                                          form.expires_on.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            audit.record("noticeboard.posted", notice, summary=notice.title)  # community from the notice
            db.session.commit()
            flash(_("Notice posted."), "success")
            return redirect(url_for(".index"))
    return render("noticeboard/new.html", form=form)


@bp.route("/<int:notice_id>/delete", methods=["POST"])
@requires("noticeboard.post")
def delete(notice_id: int):
    notice = access.get_or_404(Notice, notice_id, "noticeboard.post")
    # Readers also see notices posted above their grids: taking one down needs its node in scope.
    access.require_node(notice.node_id, "noticeboard.post", "noticeboard")
    audit.record("noticeboard.removed", notice, summary=notice.title)
    services.take_down(notice)
    db.session.commit()
    flash(_("Notice removed."), "success")
    return redirect(url_for(".index"))


@bp.route("/panel/<int:node_id>")
@requires("noticeboard.view")
def panel(node_id: int):
    node = access.require_node(node_id, "noticeboard.view", "noticeboard")
    return render("noticeboard/panel.html", node=node, notices=queries.for_node(node))


@bp.route("/widget")
@requires("noticeboard.view")
def widget():
    notices = list(db.session.scalars(queries.board_stmt().limit(5)))
    return render("noticeboard/widget.html", notices=notices)


@bp.route("/export.xlsx")
@requires("noticeboard.view")
def export():
    return exports.notices_xlsx()
