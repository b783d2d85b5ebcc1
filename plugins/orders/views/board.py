"""Public commitments and the board: the staff page, an A4 print page, and a
public read-only link (with its kiosk page for the service centre's screen)
that needs no login — names, items and deadlines only."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import access, clock
from core.extensions import db
from core.forms import DomainError, commit, show_error
from core.models import GridNode
from core.modules import ModuleOff, is_enabled
from core.security import public, requires
from core.web import paginate, render

from .. import queries
from ..forms import CommitmentForm
from ..models import Commitment, ServicePost
from ..services import commitments as svc
from ..services.registrations import confirmed_registration
from . import bp

KIOSK_SECONDS = 60


@bp.route("/commitments/new", methods=["POST"])
@requires("orders.take")
def new_commitment():
    reg = confirmed_registration(current_user.id)
    if reg is None:
        abort(404)
    community = access.require_node(reg.community_id, "orders.take", "orders")
    form = CommitmentForm()
    form.post_id.choices = [(0, "—")] + [(p.id, p.name) for p in queries.post_choices(community.id)]
    if form.validate_on_submit():
        post = access.get_or_404(ServicePost, form.post_id.data) if form.post_id.data else None
        try:
            svc.commit_to(current_user, community, text=form.text.data, items=form.items.data,
                          deadline=form.deadline.data, post=post)
            commit()
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("Your commitment is on the public board."), "success")
            return redirect(url_for("orders.me"))
    for name, errs in form.errors.items():
        for e in errs:
            flash(f"{getattr(form, name).label.text}: {e}", "error")
    return redirect(url_for("orders.me"))


@bp.route("/commitments/<int:commitment_id>/done", methods=["POST"])
@requires("orders.manage")
def commitment_done(commitment_id):
    c = access.get_or_404(Commitment, commitment_id, "orders.manage")
    try:
        svc.mark_done(c, current_user)
        commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("orders.board", node_id=c.community_id))


def _community(node_id: int, action: str) -> GridNode:
    node = access.require_node(node_id, action, "orders")
    if node.level != "community":
        abort(404)
    return node


@bp.route("/board/<int:node_id>")
@requires("orders.view")
def board(node_id):
    community = _community(node_id, "orders.view")
    page = paginate(queries.board_stmt(community.id), per_page=50)
    return render("orders/board.html", block="list", community=community, page=page,
                  counts=queries.board_counts(community.id), state_of=svc.state_of, today=clock.today(),
                  token=svc.board_token(community.id))


@bp.route("/board/<int:node_id>/print")
@requires("orders.view")
def board_print(node_id):
    community = _community(node_id, "orders.view")
    rows = db.session.scalars(queries.board_stmt(community.id).limit(500)).all()
    return render("orders/board_print.html", community=community, rows=rows, state_of=svc.state_of,
                  counts=queries.board_counts(community.id), today=clock.today())


def _public_community(node_id: int, token: str) -> GridNode:
    if not svc.check_token(node_id, token):
        abort(404)
    community = db.session.get(GridNode, node_id)
    if community is None or community.level != "community":
        abort(404)
    if not is_enabled("orders", community.id):
        raise ModuleOff.for_node("orders", community)
    return community


@bp.route("/public/<int:node_id>/<token>")
@public
def public_board(node_id, token):
    community = _public_community(node_id, token)
    page = paginate(queries.board_stmt(community.id, public=True), per_page=50)
    return render("orders/public_board.html", block="list", community=community, page=page, token=token,
                  counts=queries.board_counts(community.id, public=True), state_of=svc.state_of,
                  today=clock.today())


@bp.route("/public/<int:node_id>/<token>/kiosk")
@public
def kiosk(node_id, token):
    community = _public_community(node_id, token)
    rows = db.session.scalars(queries.board_stmt(community.id, public=True).limit(40)).all()
    return render("orders/kiosk.html", block="screen", community=community, rows=rows, token=token,
                  counts=queries.board_counts(community.id, public=True), state_of=svc.state_of,
                  today=clock.today(), seconds=KIOSK_SECONDS, now=clock.now())
