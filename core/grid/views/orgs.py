"""Organisations and co-building committees."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ...audit import record
from ...excel import xlsx_response
from ...extensions import db
from ...models import (
    CommitteeMember,
    GridNode,
    Organisation,
    User,
)
from ...security import (
    can,
    requires,
    scope_filter,
)
from ...web import paginate, render
from .. import services as svc
from ..forms import OrgForm, SeatForm
from .common import (
    KIND_SINGULAR,
    KIND_TITLES,
    _community,
    _crumbs,
    bp,
)

# --- organisations ---------------------------------------------------------------


@bp.route("/orgs")
@requires("orgs.view")
def orgs():
    kind = request.args.get("kind", "department")
    if kind not in KIND_TITLES:
        kind = "department"
    q = request.args.get("q", "").strip()[:60]
    stmt = select(Organisation).where(Organisation.kind == kind).order_by(Organisation.name)
    if q:
        stmt = stmt.where(Organisation.name.contains(q, autoescape=True))
    page = paginate(stmt, per_page=50)
    ids = [o.id for o in page.items]
    estates = seats = {}
    if ids and kind == "property_company":
        estates = dict(
            db.session.execute(
                select(GridNode.property_company_id, func.count())
                .where(GridNode.property_company_id.in_(ids))
                .group_by(GridNode.property_company_id)
            ).all()
        )
    if ids and kind == "partner_unit":
        seats = dict(
            db.session.execute(
                select(CommitteeMember.organisation_id, func.count())
                .where(CommitteeMember.organisation_id.in_(ids))
                .group_by(CommitteeMember.organisation_id)
            ).all()
        )
    counts = {k: n for k, n in db.session.execute(select(Organisation.kind, func.count()).group_by(Organisation.kind))}
    return render(
        "grid/orgs.html", block="org_list", kind=kind, q=q, page=page, estates=estates, seats=seats, counts=counts,
        kind_singular=KIND_SINGULAR,
    )


def _org_or_404(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None:
        abort(404)
    return org


@bp.route("/orgs/<int:org_id>")
@requires("orgs.view")
def org(org_id: int):
    org = _org_or_404(org_id)
    estates = committees = None
    if org.kind == "property_company":
        estates = paginate(
            select(GridNode)
            .where(GridNode.property_company_id == org.id, scope_filter(GridNode.path, "orgs.view"))
            .order_by(GridNode.path),
            per_page=50,
        )
    committees = list(
        db.session.execute(
            select(CommitteeMember, GridNode)
            .join(GridNode, GridNode.id == CommitteeMember.community_id)
            .where(CommitteeMember.organisation_id == org.id, scope_filter(GridNode.path, "orgs.view"))
            .order_by(GridNode.sort_order, GridNode.id)
            .limit(200)
        ).all()
    )
    handlers = list(db.session.scalars(select(User).where(User.organisation_id == org.id).order_by(User.username).limit(50)))
    where = svc.paths_names(estates.items) if estates else {}
    return render(
        "grid/org.html", block="estate_list", org=org, estates=estates, committees=committees, handlers=handlers,
        where=where, kind_singular=KIND_SINGULAR,
    )


def _org_form(org: Organisation | None):
    form = OrgForm(obj=org)
    form.kind.choices = [(k, str(v)) for k, v in KIND_SINGULAR.items()]
    if request.method == "GET" and org is None:
        form.kind.data = request.args.get("kind", "department")
    if form.validate_on_submit():
        clash = db.session.scalar(
            select(Organisation.id).where(Organisation.name == form.name.data.strip(), Organisation.id != (org.id if org else 0))
        )
        if clash:
            form.name.errors.append(_("An organisation of this name exists already."))
        else:
            new = org is None
            if new:
                org = Organisation(kind=form.kind.data, name="")
                db.session.add(org)
            org.kind = form.kind.data
            org.name = form.name.data.strip()
            org.short_name = form.short_name.data or None
            org.contact_name = form.contact_name.data or None
            org.phone = form.phone.data or None
            org.address = form.address.data or None
            org.active = bool(form.active.data)
            db.session.flush()
            record("org.created" if new else "org.updated", org, summary=f"{org.kind} {org.name}")
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("grid.org", org_id=org.id))
    return render("grid/org_form.html", form=form, org=org)


@bp.route("/orgs/new", methods=["GET", "POST"])
@requires("orgs.edit")
def org_new():
    return _org_form(None)


@bp.route("/orgs/<int:org_id>/edit", methods=["GET", "POST"])
@requires("orgs.edit")
def org_edit(org_id: int):
    return _org_form(_org_or_404(org_id))


@bp.route("/orgs/export.xlsx")
@requires("orgs.view")
def orgs_export():
    kind = request.args.get("kind", "department")
    if kind not in KIND_TITLES:
        abort(404)
    rows = db.session.execute(
        select(Organisation.name, Organisation.short_name, Organisation.contact_name, Organisation.phone, Organisation.address)
        .where(Organisation.kind == kind)
        .order_by(Organisation.name)
    )
    return xlsx_response(
        f"{KIND_TITLES[kind]}.xlsx",
        [_("Organisation name"), _("Short name"), _("Contact person"), _("Phone"), _("Address")],
        rows,
        title=kind,
    )


@bp.route("/node/<int:node_id>/committee", methods=["GET", "POST"])
@requires("orgs.view")
def committee(node_id: int):
    community = _community(node_id, "orgs.view")
    form = SeatForm()
    editable = can("orgs.edit", community)
    seated = select(CommitteeMember.organisation_id).where(CommitteeMember.community_id == community.id)
    form.organisation_id.choices = [(0, _("— choose —"))] + [
        (i, n)
        for i, n in db.session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.kind == "partner_unit", Organisation.active, Organisation.id.not_in(seated))
            .order_by(Organisation.name)
        ).all()
    ] if editable else []
    status = 200
    if request.method == "POST":
        if not editable:
            abort(403)
        if form.validate_on_submit():
            seat = CommitteeMember(community_id=community.id, organisation_id=form.organisation_id.data, role_note=form.role_note.data or None)
            db.session.add(seat)
            db.session.flush()
            record("committee.added", seat, summary=f"{community.code} + org {seat.organisation_id}", community_id=community.id)
            db.session.commit()
            flash(_("The partner unit joined the co-building committee."), "success")
            return redirect(url_for("grid.committee", node_id=community.id))
        status = 422
    seats = list(
        db.session.scalars(select(CommitteeMember).where(CommitteeMember.community_id == community.id).order_by(CommitteeMember.id))
    )
    return render("grid/committee.html", community=community, seats=seats, form=form, editable=editable, crumbs=_crumbs(community) + [(community, True)]), status


@bp.route("/node/<int:node_id>/committee/<int:seat_id>/delete", methods=["POST"])
@requires("orgs.edit")
def committee_remove(node_id: int, seat_id: int):
    community = _community(node_id, "orgs.edit")
    seat = db.session.get(CommitteeMember, seat_id)
    if seat is None or seat.community_id != community.id:
        abort(404)
    record("committee.removed", seat, summary=f"{community.code} - org {seat.organisation_id}", community_id=community.id)
    db.session.delete(seat)
    db.session.commit()
    flash(_("The partner unit left the co-building committee."), "success")
    return redirect(url_for("grid.committee", node_id=community.id))
