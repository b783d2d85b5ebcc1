"""Half-year resident rating rounds: staff pages and the residents' link."""

from __future__ import annotations

import datetime as dt

import segno
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core import access, audit, clock
from core.extensions import db, limiter
from core.forms import DomainError, show_error
from core.forms import commit as commit_or_error
from core.models import User
from core.security import can, public, requires
from core.web import paginate, render

from .. import queries
from ..forms import LinkForm, ModerateForm, RoundForm, rating_form
from ..models import MODULE, RatingResponse, RatingRound
from ..services import half_of
from ..services import ratings as ratings_svc
from ..services import records as records_svc
from . import bp


@bp.route("/rounds")
@requires("fivestar.view")
def rounds():
    page = paginate(queries.rounds(request.args.get("community", type=int)), per_page=20)
    return render("fivestar/rounds.html", page=page)


@bp.route("/rounds/new", methods=["GET", "POST"])
@requires("fivestar.score")
def round_new():
    form = RoundForm()
    form.community.choices = queries.community_choices("fivestar.score")
    if not form.is_submitted():
        today = clock.today()
        form.half.data, form.items.data = half_of(today), "，".join(ratings_svc.DEFAULT_ITEMS)
        form.opens_on.data, form.closes_on.data = today, today + dt.timedelta(days=30)
    if form.validate_on_submit():
        node = access.require_node(form.community.data, "fivestar.score", MODULE)
        try:
            items = form.items.data.replace("，", ",").replace("、", ",").split(",")
            rnd = ratings_svc.open_round(community_id=node.id, half=form.half.data.strip().upper(), items=items,
                                         opens_on=form.opens_on.data, closes_on=form.closes_on.data)
            audit.record("fivestar.round", obj=rnd, summary=f"{node.name} {rnd.half}")
            commit_or_error("half", _("This half year already has a round."))
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("Rating round opened."), "success")
            return redirect(url_for("fivestar.round", round_id=rnd.id))
    return render("fivestar/round_form.html", form=form)


def _round_page(rnd, link=None, sheet=None, status=200):
    members = records_svc.members_of(rnd.community_id)
    link_form = LinkForm()
    link_form.member.choices = [(m.id, m.display_name) for m in members]
    pending = paginate(queries.responses(rnd.id, "pending"), per_page=10)
    return render("fivestar/round.html", rnd=rnd, members=members, results=ratings_svc.results(rnd.id),
                  link_form=link_form, link=link, pending=pending, moderate=ModerateForm(),
                  may=can("fivestar.score", rnd.community), is_open=ratings_svc.is_open(rnd)), status


@bp.route("/rounds/<int:round_id>")
@requires("fivestar.view")
def round(round_id):
    return _round_page(access.get_or_404(RatingRound, round_id))


@bp.route("/rounds/<int:round_id>/link")
@requires("fivestar.score")
def round_link(round_id):
    """A fresh one-time link (and its QR code) for a resident to rate a member."""
    rnd = access.get_or_404(RatingRound, round_id, "fivestar.score")
    member_id = request.args.get("member", type=int)
    if member_id is None:  # no member chosen yet: the round page, where one is chosen
        return render("fivestar/round.html", block="link", rnd=rnd, link=None) \
            if request.headers.get("HX-Request") else _round_page(rnd)
    if member_id not in {m.id for m in records_svc.members_of(rnd.community_id)}:
        abort(404)
    url = url_for("fivestar.rate", token=ratings_svc.make_token(rnd, member_id), _external=True)
    qr = segno.make(url, error="m").svg_inline(scale=4, dark="#111", light="#fff")
    member = db.session.get(User, member_id)
    audit.record("fivestar.link", obj=rnd, summary=f"one-time link for {member.display_name}")
    db.session.commit()
    return render("fivestar/round.html", block="link", rnd=rnd, link={"url": url, "qr": qr, "member": member}) \
        if request.headers.get("HX-Request") else _round_page(rnd, link={"url": url, "qr": qr, "member": member})


@bp.route("/rounds/<int:round_id>/close", methods=["POST"])
@requires("fivestar.score")
def round_close(round_id):
    rnd = access.get_or_404(RatingRound, round_id, "fivestar.score")
    rnd.closed = True
    audit.record("fivestar.round_close", obj=rnd, summary=rnd.half)
    db.session.commit()
    flash(_("The round is closed."), "success")
    return redirect(url_for("fivestar.round", round_id=rnd.id))


@bp.route("/rounds/<int:round_id>/sheet", methods=["GET", "POST"])
@requires("fivestar.score")
def round_sheet(round_id):
    """A resident representative's review sheet, entered by staff."""
    rnd = access.get_or_404(RatingRound, round_id, "fivestar.score")
    form = rating_form(rnd.items, sheet=True)()
    form.member.choices = [(m.id, m.display_name) for m in records_svc.members_of(rnd.community_id)]
    if form.validate_on_submit():
        key = "sheet:" + " ".join(form.representative.data.split())
        try:
            if ratings_svc.already_rated(rnd.id, form.member.data, key):
                raise DomainError(_("This representative has already rated this member."), "representative")
            resp = ratings_svc.submit(rnd=rnd, member_id=form.member.data, resident_key=key, channel="sheet",
                                      stars=[form[f"s{i}"].data for i in range(len(rnd.items))],
                                      opinion=form.opinion.data)
            db.session.flush()
            audit.record("fivestar.sheet", obj=resp, summary=key)
            commit_or_error("representative", _("This representative has already rated this member."))
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("Review sheet saved."), "success")
            return redirect(url_for("fivestar.round_sheet", round_id=rnd.id))
    return render("fivestar/sheet.html", rnd=rnd, form=form, fields=[form[f"s{i}"] for i in range(len(rnd.items))])


@bp.route("/responses/<int:response_id>/moderate", methods=["POST"])
@requires("fivestar.score")
def moderate(response_id):
    resp = access.get_or_404(RatingResponse, response_id, "fivestar.score")
    try:
        ratings_svc.moderate(resp, request.form.get("decision", ""))
        audit.record("fivestar.moderate", obj=resp, summary=resp.moderation)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("fivestar.round", round_id=resp.round_id))


# --- The resident's side: no account, a one-time signed link -----------------------------


def _rate_limit():
    return current_app.config.get("FIVESTAR_RATE_LIMIT", "10 per 10 minutes")


@bp.route("/rate/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_rate_limit, methods=["POST"])
def rate(token):
    data = ratings_svc.read_token(token)
    if data is None:
        abort(404)
    round_id, member_id, nonce = data
    rnd = db.session.scalar(select(RatingRound).where(
        RatingRound.id == round_id, access.module_condition(MODULE, RatingRound.community_id)))
    member = db.session.get(User, member_id)
    if rnd is None or member is None:
        abort(404)
    key = f"link:{nonce}"
    form = rating_form(rnd.items)()
    fields = [form[f"s{i}"] for i in range(len(rnd.items))]
    ctx = {"rnd": rnd, "member": member, "form": form, "fields": fields}
    if ratings_svc.already_rated(rnd.id, member_id, key):
        return render("fivestar/rate.html", used=True, **ctx), (409 if request.method == "POST" else 200)
    if not ratings_svc.is_open(rnd):
        return render("fivestar/rate.html", closed=True, **ctx)
    if form.validate_on_submit():
        try:
            ratings_svc.submit(rnd=rnd, member_id=member_id, resident_key=key, channel="link",
                               stars=[f.data for f in fields], opinion=form.opinion.data)
            commit_or_error("s0", _("This link has already been used to rate this member."))
        except DomainError as exc:
            db.session.rollback()
            if ratings_svc.already_rated(rnd.id, member_id, key):
                return render("fivestar/rate.html", used=True, **ctx), 409
            show_error(form, exc)
        else:
            return render("fivestar/rate.html", thanks=True, **ctx)
    return render("fivestar/rate.html", **ctx)
