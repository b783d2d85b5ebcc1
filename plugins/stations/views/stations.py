"""Stations: the list by estate, a station's page, creating and editing,
photo, claims, QR code and the Excel import/export of stations."""

from __future__ import annotations

import segno
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import access, clock
from core.audit import record
from core.excel import ImportFileError, read_rows, template_bytes, xlsx_response
from core.extensions import db
from core.forms import DomainError, check_edit, commit, edit_token, show_error
from core.models import GridNode, Organisation, subtree
from core.security import can, in_scope, requires
from core.uploads import save_bytes, send
from core.web import paginate, render

from .. import queries as q
from ..forms import ClaimForm, ImportForm, StationForm
from ..models import Claim, Station
from ..services import medicine as med
from ..services import stations as svc
from ..services.modes import open_incident
from . import bp, station_for

EDIT_FIELDS = ("name", "kind", "address", "opening_hours", "weight", "cutoff_hours")


@bp.route("/")
@requires("stations.view")
def index():
    mode = request.args.get("mode") or None
    page = paginate(q.stations_stmt(mode=mode, q=request.args.get("q")), per_page=20,
                    options=(selectinload(Station.claims),))
    return render("stations/index.html", block="rows", page=page, estates=q.estate_names(page.items), mode=mode)


@bp.route("/<int:station_id>")
@requires(None)
def station(station_id):
    st = station_for(station_id, options=(selectinload(Station.served), selectinload(Station.claims)))
    today = clock.today()
    now = clock.utcnow()
    shifts = list(db.session.scalars(q.coverage_stmt(today, 7, community=None).where(
        q.Shift.station_id == st.id, q.Shift.starts_at > now, q.Shift.restricted.is_(False))).all()) \
        if can("stations.signup") else []
    residents, items = q.station_medicine(st)
    organiser = can("stations.organise", st.node)
    return render("stations/station.html", st=st, shifts=shifts, residents=residents, items=items,
                  organiser=organiser, manager=can("stations.manage", st.node),
                  expiring=med.expiring_batches(st, today) if organiser else [],
                  incident=open_incident(st), today=today)


@bp.route("/<int:station_id>/photo")
@requires(None)
def photo(station_id):
    st = station_for(station_id)
    if not st.photo:
        abort(404)
    return send(st.photo)


def _node_choices(action="stations.manage"):
    """Communities and estates the user may place a station on."""
    stmt = (select(GridNode).where(GridNode.level.in_(("community", "estate")),
                                   access.node_condition("stations", action)).order_by(GridNode.path).limit(600))
    return [(n.id, ("" if n.level == "community" else "— ") + n.name) for n in db.session.scalars(stmt)]


def _served_choices(community_id):
    comm = db.session.get(GridNode, community_id) if community_id else None
    if comm is None:
        return []
    stmt = (select(GridNode).where(subtree(GridNode.path, comm.path), GridNode.level.in_(("community", "estate")))
            .order_by(GridNode.path).limit(400))
    return [(n.id, n.name) for n in db.session.scalars(stmt)]


def _save_photo(form, st) -> None:
    f = form.photo.data
    if f and getattr(f, "filename", ""):
        data = f.read()
        if len(data) > 5 * 1024 * 1024:
            raise DomainError(_("The photo is larger than 5 MB."), "photo")
        suffix = "." + f.filename.rsplit(".", 1)[-1].lower()
        svc.set_photo(st, save_bytes("stations", data, suffix))


@bp.route("/new", methods=["GET", "POST"])
@requires("stations.manage")
def new():
    form = StationForm()
    form.node_id.choices = _node_choices()
    node_id = form.node_id.data or request.args.get("node_id", type=int)
    node = db.session.get(GridNode, node_id) if node_id else None
    form.served.choices = _served_choices(svc.community_id_of(node) if node else None)
    if form.validate_on_submit():
        if node is None:
            form.node_id.errors = [_("Choose where the station is.")]
        else:
            node = access.require_node(node, "stations.manage", "stations")
            try:
                served = [db.session.get(GridNode, i) for i in form.served.data or []]
                st = svc.create_station(node, name=form.name.data, kind=form.kind.data, address=form.address.data or "",
                                        opening_hours=form.opening_hours.data or "", weight=form.weight.data,
                                        cutoff_hours=form.cutoff_hours.data, served=[s for s in served if s])
                _save_photo(form, st)
                commit(duplicate_field="name")
                flash(_("Station created."), "success")
                return redirect(url_for("stations.station", station_id=st.id))
            except DomainError as exc:
                db.session.rollback()
                show_error(form, exc)
    elif request.method == "GET" and node is not None:
        form.node_id.data = node.id
    return render("stations/edit.html", form=form, st=None)


@bp.route("/<int:station_id>/edit", methods=["GET", "POST"])
@requires("stations.manage")
def edit(station_id):
    st = station_for(station_id, "stations.manage", options=(selectinload(Station.served),))
    form = StationForm(obj=st if request.method == "GET" else None)
    form.node_id.choices = [(st.node_id, st.node.name)]
    form.served.choices = _served_choices(st.community_id)
    if request.method == "GET":
        form.edit_token.data = edit_token(st, EDIT_FIELDS)
        form.served.data = [s.node_id for s in st.served]
        form.node_id.data = st.node_id
    if form.validate_on_submit():
        try:
            check_edit(st, form.edit_token.data, EDIT_FIELDS)
            svc.update_station(st, name=form.name.data, kind=form.kind.data, address=form.address.data or "",
                               opening_hours=form.opening_hours.data or "", weight=form.weight.data,
                               cutoff_hours=form.cutoff_hours.data)
            served = [db.session.get(GridNode, i) for i in form.served.data or []]
            svc.set_served(st, [s for s in served if s] or [st.node])
            _save_photo(form, st)
            commit(duplicate_field="name")
            flash(_("Station saved."), "success")
            return redirect(url_for("stations.station", station_id=st.id))
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
    return render("stations/edit.html", form=form, st=st)


@bp.route("/<int:station_id>/claims", methods=["GET", "POST"])
@requires("stations.manage")
def claims(station_id):
    st = station_for(station_id, "stations.manage", options=(selectinload(Station.claims),))
    form = ClaimForm()
    form.organisation_id.choices = [(o.id, o.name) for o in db.session.scalars(
        select(Organisation).where(Organisation.kind == "department", Organisation.active.is_(True))
        .order_by(Organisation.name))]
    if form.validate_on_submit():
        try:
            org = db.session.get(Organisation, form.organisation_id.data) if form.organisation_id.data else None
            svc.add_claim(st, org, start=form.start.data, liaison_name=form.liaison_name.data,
                          liaison_phone=form.liaison_phone.data or "")
            commit()
            flash(_("Claim recorded."), "success")
            return redirect(url_for("stations.claims", station_id=st.id))
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
    return render("stations/claims.html", st=st, form=form)


@bp.route("/claims/<int:claim_id>/end", methods=["POST"])
@requires("stations.manage")
def end_claim(claim_id):
    claim = access.get_or_404(Claim, claim_id, "stations.manage")
    station_for(claim.station_id, "stations.manage")
    try:
        svc.end_claim(claim)
        commit()
        flash(_("Claim ended."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("stations.claims", station_id=claim.station_id))


# --- QR check-in code ----------------------------------------------------------------------

def _signer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="stations-checkin")


def checkin_url(st: Station) -> str:
    return url_for("stations.checkin", station_id=st.id, t=_signer().dumps(st.id), _external=True)


def check_token(st: Station, token: str | None) -> bool:
    try:
        return _signer().loads(token or "") == st.id
    except Exception:  # noqa: BLE001 - any bad token is just refused
        return False


@bp.route("/<int:station_id>/qr")
@requires("stations.organise")
def qr(station_id):
    st = station_for(station_id, "stations.organise")
    url = checkin_url(st)
    data = segno.make(url, error="m").svg_data_uri(scale=8, border=2)
    return render("stations/qr.html", st=st, url=url, qr_src=data)


# --- Department, panel, widget -------------------------------------------------------------

@bp.route("/department")
@requires(None)
def department():
    """A contact department's stations: its handlers see their own; station
    managers (community, district) choose a department."""
    if not (can("stations.claimed") or can("stations.manage")):
        abort(403)
    org_id = current_user.organisation_id
    orgs = []
    if can("stations.manage"):
        orgs = list(db.session.execute(select(Organisation.id, Organisation.name).where(
            Organisation.kind == "department").order_by(Organisation.name)))
        org_id = request.args.get("org", type=int) or org_id or (orgs[0][0] if orgs else None)
    org = db.session.get(Organisation, org_id) if org_id else None
    page = paginate(q.claimed_stmt(org.id), per_page=20, options=(selectinload(Station.claims),)) if org else None
    return render("stations/department.html", block="rows", org=org, orgs=orgs, page=page)


@bp.route("/panel/<int:node_id>")
@requires("stations.view")
def node_panel(node_id):
    node = access.require_node(node_id, "stations.view", "stations")
    stations = list(db.session.scalars(q.stations_stmt(community=None, node=node).limit(10)))
    n = q.count_stations(community=None, node=node)
    return render("stations/panel.html", node=node, stations=stations, n=n)


@bp.route("/widget")
@requires("stations.organise")
def widget():
    today = clock.today()
    shifts, slots = q.coverage_counts(today)
    residents, items = q.district_medicine()
    return render("stations/widget.html", n=q.count_stations(), shifts=shifts, slots=slots,
                  hours=q.hours_total(clock.month_start(today), today), residents=residents, items=items)


# --- Excel import / export of stations ------------------------------------------------------

def _export_rows(stmt):
    labels = svc.kind_labels()
    for st in db.session.scalars(stmt.options(selectinload(Station.claims))):
        c = st.current_claim
        yield [st.node.code, st.name, labels.get(st.kind, st.kind), st.address, st.opening_hours, st.weight,
               st.cutoff_hours, c.organisation.name if c else "", c.liaison_name if c else "",
               c.liaison_phone if c else ""]


@bp.route("/export.xlsx")
@requires("stations.export")
def export_stations():
    record("stations.export", summary="stations", community_id=None)
    db.session.commit()
    return xlsx_response(_("stations") + ".xlsx", svc.import_columns(), _export_rows(q.stations_stmt()),
                         title=_("Stations"))


@bp.route("/import", methods=["GET", "POST"])
@requires("stations.manage")
def import_stations():
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        try:
            rows = list(read_rows(form.file.data, svc.import_columns()))
            created, updated, errors = svc.import_rows(rows, lambda n: in_scope(n, "stations.manage")
                                                       and access.module_on_at("stations", n))
            if errors:
                db.session.rollback()
                result = {"errors": errors}
            else:
                record("stations.import", summary=f"{created} created, {updated} updated")
                commit()
                flash(_("%(c)s stations created, %(u)s updated.", c=created, u=updated), "success")
                return redirect(url_for("stations.index"))
        except ImportFileError as exc:
            form.file.errors = [str(exc)]
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
    return render("stations/import.html", form=form, result=result)


@bp.route("/import/template.xlsx")
@requires("stations.manage")
def import_template():
    from core.excel import XLSX_MIME

    data = template_bytes(svc.import_columns(), ["340221-C01-E01", "城东社区锦绣花园先锋驿站", _("Party service centre"),
                                                 "湾沚大道1号", "周一至周日 8:30-17:30", 1, 2, "住建局", "张三",
                                                 "13800000000"])
    return current_app.response_class(data, mimetype=XLSX_MIME,
                                      headers={"Content-Disposition": "attachment; filename=stations-template.xlsx"})
