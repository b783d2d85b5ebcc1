"""Registration (双报到): the member's form and record, the community's list
with confirm/return, status per community and unit, the unit's view, the import."""

from __future__ import annotations

from flask import abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import access, audit, clock, uploads
from core.excel import ImportFileError, error_report_bytes, read_rows, template_bytes
from core.extensions import db
from core.forms import DomainError, commit, show_error
from core.models import GridNode, Organisation
from core.modules import is_enabled
from core.plugins import service_records
from core.privacy import mask_phone
from core.security import admin_community_ids, requires
from core.web import paginate, render

from .. import queries
from ..forms import CommitmentForm, ImportForm, ReasonForm, RegistrationForm
from ..models import Registration
from ..services import registrations as svc
from ..services.commitments import state_of
from . import bp


def _community_choices() -> list[tuple[int, str]]:
    """Communities where the module is on (any member may live in any of them)."""
    nodes = db.session.scalars(
        select(GridNode).where(GridNode.level == "community",
                               access.module_condition("orders", GridNode.id))
        .order_by(GridNode.sort_order, GridNode.id)
    ).all()
    return [(n.id, n.name) for n in nodes]


def _unit_choices() -> list[tuple[int, str]]:
    orgs = db.session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.kind.in_(("partner_unit", "department")), Organisation.active.is_(True))
        .order_by(Organisation.kind, Organisation.name)
    ).all()
    return [(0, _("Other (type it below)"))] + [(i, n) for i, n in orgs]


@bp.route("/register", methods=["GET", "POST"])
@requires(None)
def register():
    form = RegistrationForm()
    form.community_id.choices = _community_choices()
    form.employer_org_id.choices = _unit_choices()
    if request.method == "GET" and current_user.phone:
        form.phone.data = current_user.phone
    if form.validate_on_submit():
        community = db.session.get(GridNode, form.community_id.data)
        if community is None or not is_enabled("orders", community.id):
            form.community_id.errors.append(_("Volunteer orders are switched off in this community."))
        else:
            try:
                svc.register(current_user, community, employer_org_id=form.employer_org_id.data,
                             employer_name=form.employer_name.data or "", party_branch=form.party_branch.data,
                             address=form.address.data, phone=form.phone.data, skills=form.skills.data,
                             resources=form.resources.data, hours_per_month=form.hours_per_month.data)
                commit(duplicate_field="community_id")
            except DomainError as exc:
                db.session.rollback()
                show_error(form, exc)
            else:
                flash(_("Registered. The community will confirm it soon."), "success")
                return redirect(url_for("orders.me"))
    return render("orders/register.html", form=form)


@bp.route("/me")
@requires(None)
def me():
    regs = db.session.scalars(
        access.scoped(select(Registration), Registration, community=None)
        .where(Registration.user_id == current_user.id).order_by(Registration.id)
    ).all()
    takes = paginate(queries.takes_of_member_stmt(current_user.id), per_page=10)
    commitments = db.session.scalars(queries.commitments_of_member_stmt(current_user.id).limit(50)).all()
    today = clock.today()
    records = service_records([current_user.id], today.replace(year=today.year - 1), today)
    form = None
    confirmed = [r for r in regs if r.state == "confirmed"]
    if confirmed:
        form = CommitmentForm()
        form.post_id.choices = [(0, "—")] + [(p.id, p.name) for p in queries.post_choices(confirmed[0].community_id)]
    return render("orders/me.html", regs=regs, takes=takes, commitments=commitments, records=records,
                  commitment_form=form, hours=sum(r.hours for r in records), state_of=state_of)


@bp.route("/registrations")
@requires("orders.registrations")
def registrations():
    state = request.args.get("state", "submitted")
    if state not in ("submitted", "confirmed", "returned", ""):
        state = "submitted"
    page = paginate(queries.registrations_stmt(state or None))
    return render("orders/registrations.html", block="list", page=page, state=state, mask_phone=mask_phone)


@bp.route("/registrations/<int:registration_id>")
@requires("orders.registrations")
def registration(registration_id):
    reg = access.get_or_404(Registration, registration_id)
    return render("orders/registration.html", reg=reg, form=ReasonForm(), mask_phone=mask_phone)


@bp.route("/registrations/<int:registration_id>/confirm", methods=["POST"])
@requires("orders.manage")
def registration_confirm(registration_id):
    reg = access.get_or_404(Registration, registration_id, "orders.manage")
    try:
        svc.confirm(reg, current_user)
        commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("Confirmed: %(name)s is a member of this community's volunteers.", name=reg.user.display_name),
              "success")
    return redirect(url_for("orders.registration", registration_id=reg.id))


@bp.route("/registrations/<int:registration_id>/return", methods=["POST"])
@requires("orders.manage")
def registration_return(registration_id):
    reg = access.get_or_404(Registration, registration_id, "orders.manage")
    form = ReasonForm()
    try:
        svc.return_(reg, current_user, form.reason.data)
        commit()
    except DomainError as exc:
        db.session.rollback()
        show_error(form, exc)
        return render("orders/registration.html", reg=reg, form=form, mask_phone=mask_phone), 422
    flash(_("Returned to the member with your reason."), "success")
    return redirect(url_for("orders.registration", registration_id=reg.id))


@bp.route("/registrations/status")
@requires("orders.registrations")
def status():
    return render("orders/status.html", by_community=queries.status_by_community(),
                  by_unit=queries.status_by_unit())


@bp.route("/unit")
@requires("orders.unit")
def unit():
    """A unit's handler: which of the unit's own members registered where."""
    if not current_user.organisation_id:
        abort(404)
    # The grid scope of "orders.registrations" excludes handlers: what remains
    # is the model's reach, the handler's own unit's members.
    page = paginate(queries.registrations_stmt(None, community=None))
    return render("orders/unit.html", block="list", page=page, mask_phone=mask_phone)


# --- Import from the units' lists ------------------------------------------------------------

@bp.route("/registrations/import", methods=["GET", "POST"])
@requires("orders.manage")
def import_members():
    form = ImportForm()
    errors, saved = [], None
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            form.file.errors.append(_("Choose an Excel file."))
        else:
            try:
                rows = list(read_rows(upload, svc.IMPORT_COLUMNS))
            except ImportFileError as exc:
                form.file.errors.append(str(exc))
            else:
                saved, errors = svc.import_rows(rows, admin_community_ids(), keep_good=form.keep_good.data,
                                                by=current_user)
                if errors and not form.keep_good.data:
                    db.session.rollback()
                    saved = 0
                else:
                    commit()
                if errors:
                    session["orders_import_report"] = uploads.save_bytes("orders", error_report_bytes(errors),
                                                                         ".xlsx", "reports")
                if saved:
                    flash(_("%(n)s members imported.", n=saved), "success")
    return render("orders/import.html", form=form, errors=errors[:50], n_errors=len(errors), saved=saved)


@bp.route("/registrations/import/template")
@requires("orders.manage")
def import_template():
    from flask import Response

    data = template_bytes(svc.IMPORT_COLUMNS, example=["张三", "13800001234", "湾沚区财政局", "区财政局机关党支部",
                                                       "城东社区", "锦绣花园1栋1单元", "政策宣传, 法律咨询", 8])
    resp = Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp.headers["Content-Disposition"] = "attachment; filename=members-template.xlsx"
    return resp


@bp.route("/registrations/import/errors")
@requires("orders.manage")
def import_errors():
    stored = session.get("orders_import_report")
    if not stored:
        abort(404)
    audit.record("orders.import_errors_download", summary=stored)
    db.session.commit()
    return uploads.send(stored, download_name="import-errors.xlsx")


