"""Administration: users and their roles, module switches, the audit log."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from .. import clock
from ..audit import record
from ..excel import csv_response, xlsx_response
from ..extensions import db
from ..models import ROLES, AuditLog, GridNode, Organisation, RoleGrant, User
from ..modules import ModuleSwitchError, enabled_modules, set_enabled
from ..security import admin_community_ids, can, in_scope, is_district_admin, requires, scope_filter
from ..web import Page, localtime, paginate, render
from .auth import password_rule

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_TITLES = {
    "district_admin": _l("District admin"),
    "community_admin": _l("Community admin"),
    "grid_worker": _l("Grid worker"),
    "member": _l("Party member"),
    "handler": _l("Handler"),
    "resident": _l("Resident"),
}

PHONE = Regexp(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$", message=_l("Enter an 11-digit mobile number or a landline such as 0553-1234567."))


class UserForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(max=60),
            Regexp(r"^[A-Za-z0-9_.-]+$", message=_l("Use letters, digits, dots, dashes or underscores.")),
        ],
    )
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)])
    phone = StringField(_l("Phone"), validators=[Optional(), PHONE])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=8, max=128), password_rule])
    organisation_id = SelectField(_l("Organisation (handlers)"), coerce=int, validators=[Optional()])
    active = BooleanField(_l("Account active"), default=True)


class GrantForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[])
    node_code = StringField(_l("On grid (code)"), validators=[DataRequired(), Length(max=40)])


@bp.route("/")
@requires("users.manage")
def index():
    return render("admin/index.html")


def _users_stmt():
    stmt = select(User).order_by(User.username)
    if not is_district_admin():
        # A community admin manages the accounts holding a role in their communities,
        # and only those with no role elsewhere: else they could reset the password
        # of, say, a district admin who also works in their community.
        granted = select(RoleGrant.user_id).join(GridNode, GridNode.id == RoleGrant.node_id)
        in_area = scope_filter(GridNode.path, "users.manage")
        stmt = stmt.where(User.id.in_(granted.where(in_area)), User.id.not_in(granted.where(~in_area)))
    q = request.args.get("q", "").strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.display_name.ilike(like)))
    return stmt


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if not is_district_admin():
        visible = db.session.scalar(_users_stmt().where(User.id == user_id).with_only_columns(User.id))
        if visible is None:
            abort(404)
    return user


@bp.route("/users")
@requires("users.manage")
def users():
    page = paginate(_users_stmt().options(selectinload(User.grants).joinedload(RoleGrant.node)), per_page=30)
    return render("admin/users.html", block="user_list", page=page, role_titles=ROLE_TITLES, q=request.args.get("q", ""))


@bp.route("/users/export.xlsx")
@requires("users.manage")
def users_export():
    stmt = _users_stmt().options(selectinload(User.grants).joinedload(RoleGrant.node))
    record("users.exported", object_type="user_account", summary=request.query_string.decode()[:200])
    db.session.commit()

    def rows():
        for u in db.session.scalars(stmt):
            roles = "; ".join(f"{ROLE_TITLES.get(g.role, g.role)} · {g.node.name}" for g in u.grants)
            yield (u.username, u.display_name, u.phone or "", roles, _("Active") if u.active else _("Disabled"))

    return xlsx_response(
        "users.xlsx",
        [_("Username"), _("Name"), _("Phone"), _("Roles"), _("Status")],
        rows(),
        title="users",
    )


def _org_choices(current: int | None = None):
    """The organisations an account may be bound to by this admin.

    Binding an account to a department or property company gives it that
    organisation's problems across the district: only a district admin
    binds (there is no role that speaks for one organisation). Anyone else
    sees the account's current organisation and cannot change it.
    """
    stmt = (
        select(Organisation.id, Organisation.name)
        .where(Organisation.kind.in_(("department", "property_company")))
        .order_by(Organisation.kind, Organisation.name)
    )
    if not may_bind_organisations():
        stmt = stmt.where(Organisation.id == (current or -1))
    return [(0, _("— none —"))] + [(i, n) for i, n in db.session.execute(stmt).all()]


def may_bind_organisations() -> bool:
    return is_district_admin()


def _check_organisation(form: UserForm, current: int | None) -> bool:
    chosen = form.organisation_id.data or None
    if chosen != current and not may_bind_organisations():
        form.organisation_id.errors.append(
            _("Only a district admin can bind an account to a department or property company.")
        )
        return False
    return True


def _grantable_roles():
    if is_district_admin():
        return list(ROLES)
    return [r for r in ROLES if r != "district_admin"]


@bp.route("/users/new", methods=["GET", "POST"])
@requires("users.manage")
def user_new():
    form = UserForm()
    form.organisation_id.choices = _org_choices()
    grant = GrantForm(prefix="g")
    grant.role.choices = [(r, ROLE_TITLES[r]) for r in _grantable_roles()]
    if request.method == "POST":
        ok = form.validate() & grant.validate()
        ok = ok and _check_organisation(form, None)
        node = _node_for_grant(grant) if ok else None
        if ok and node is not None:
            if db.session.scalar(select(User.id).where(User.username == form.username.data)):
                form.username.errors.append(_("This username is taken."))
            elif not form.password.data:
                form.password.errors.append(_("Give the new account a password of at least 8 characters."))
            else:
                user = User(
                    username=form.username.data,
                    display_name=form.display_name.data,
                    phone=form.phone.data or None,
                    organisation_id=form.organisation_id.data or None,
                    active=form.active.data,
                )
                user.set_password(form.password.data)
                user.must_change_password = True  # the owner picks their own at first sign-in
                db.session.add(user)
                db.session.flush()
                db.session.add(RoleGrant(user_id=user.id, role=grant.role.data, node_id=node.id))
                record("user.created", user, summary=f"{grant.role.data}@{node.code}", community_id=node.community_id)
                db.session.commit()
                flash(_("Account %(name)s created.", name=user.username), "success")
                return redirect(url_for("admin.user_edit", user_id=user.id))
    return render("admin/user_form.html", form=form, grant=grant, user=None, may_bind=may_bind_organisations())


def _node_for_grant(grant: GrantForm) -> GridNode | None:
    node = db.session.scalar(select(GridNode).where(GridNode.code == grant.node_code.data.strip()))
    if node is None or not in_scope(node, "users.manage"):
        grant.node_code.errors.append(_("No grid with this code in your area."))
        return None
    if grant.role.data == "district_admin" and node.level != "district":
        grant.node_code.errors.append(_("A district admin is granted on the district."))
        return None
    if grant.role.data == "community_admin" and node.level not in ("district", "community"):
        grant.node_code.errors.append(_("A community admin is granted on a community."))
        return None
    return node


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires("users.manage")
def user_edit(user_id: int):
    user = _user_or_404(user_id)
    form = UserForm(obj=user)
    form.organisation_id.choices = _org_choices(user.organisation_id)
    if request.method == "GET":
        form.organisation_id.data = user.organisation_id or 0
    grant = GrantForm(prefix="g")
    grant.role.choices = [(r, ROLE_TITLES[r]) for r in _grantable_roles()]
    if request.method == "POST" and form.validate():
        clash = db.session.scalar(select(User.id).where(User.username == form.username.data, User.id != user.id))
        if clash:
            form.username.errors.append(_("This username is taken."))
        elif user.id == current_user.id and not form.active.data:
            form.active.errors.append(_("You cannot disable your own account."))
        elif not _check_organisation(form, user.organisation_id):
            pass
        else:
            was_active = user.active
            user.username = form.username.data
            user.display_name = form.display_name.data
            user.phone = form.phone.data or None
            user.organisation_id = form.organisation_id.data or None
            user.active = form.active.data
            if form.password.data:
                user.set_password(form.password.data)
                user.must_change_password = user.id != current_user.id
                user.end_sessions()
            elif was_active and not user.active:
                user.end_sessions()
            action = "user.updated"
            if was_active and not user.active:
                action = "user.disabled"
            elif not was_active and user.active:
                action = "user.enabled"
            record(action, user)
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render(
        "admin/user_form.html", form=form, grant=grant, user=user, role_titles=ROLE_TITLES, may_bind=may_bind_organisations()
    )


@bp.route("/users/<int:user_id>/grants", methods=["POST"])
@requires("users.manage")
def grant_add(user_id: int):
    user = _user_or_404(user_id)
    grant = GrantForm(prefix="g")
    grant.role.choices = [(r, ROLE_TITLES[r]) for r in _grantable_roles()]
    if grant.validate():
        node = _node_for_grant(grant)
        if node is not None:
            exists = db.session.scalar(
                select(RoleGrant.id).where(
                    RoleGrant.user_id == user.id, RoleGrant.role == grant.role.data, RoleGrant.node_id == node.id
                )
            )
            if not exists:
                db.session.add(RoleGrant(user_id=user.id, role=grant.role.data, node_id=node.id))
                record("role.granted", user, summary=f"{grant.role.data}@{node.code}", community_id=node.community_id)
                db.session.commit()
            flash(_("Role granted."), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    for errors in (grant.role.errors, grant.node_code.errors):
        for e in errors:
            flash(str(e), "error")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/users/<int:user_id>/grants/<int:grant_id>/delete", methods=["POST"])
@requires("users.manage")
def grant_delete(user_id: int, grant_id: int):
    user = _user_or_404(user_id)
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != user.id or not in_scope(grant.node, "users.manage"):
        abort(404)
    if grant.role == "district_admin" and user.id == current_user.id:
        flash(_("You cannot remove your own district admin role."), "error")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    record("role.revoked", user, summary=f"{grant.role}@{grant.node.code}", community_id=grant.node.community_id)
    db.session.delete(grant)
    db.session.commit()
    flash(_("Role removed."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


# --- Module switches ------------------------------------------------------------


def _switchable_communities():
    ids = admin_community_ids()
    stmt = select(GridNode).where(GridNode.level == "community").order_by(GridNode.sort_order, GridNode.id)
    if ids is not None:
        stmt = stmt.where(GridNode.id.in_(ids or [-1]))
    return list(db.session.scalars(stmt))


def _switch_target() -> GridNode | None:
    """The community whose switches are shown; None is the district default."""
    raw = request.values.get("community", "")
    ids = admin_community_ids()
    if raw.isdigit():
        node = db.session.get(GridNode, int(raw))
        if node is None or node.level != "community" or (ids is not None and node.id not in ids):
            abort(404)
        return node
    if ids is None:
        return None
    if len(ids) >= 1:
        return db.session.get(GridNode, sorted(ids)[0])
    abort(404)


@bp.route("/modules")
@requires("modules.manage")
def modules():
    target = _switch_target()
    return _render_modules(target)


def _render_modules(target, error: str | None = None, block: str | None = "content"):
    reg = current_app.extensions["wangge"].registry
    cid = target.id if target else None
    on = enabled_modules(cid)
    items = [m for m in reg.modules.values() if m.switchable]
    return render(
        "admin/modules.html",
        block=block,
        target=target,
        items=items,
        on=on,
        error=error,
        communities=_switchable_communities(),
        district=is_district_admin(),
        titles={m.name: m.title for m in reg.modules.values()},
    )


@bp.route("/modules/switch", methods=["POST"])
@requires("modules.manage")
def module_switch():
    target = _switch_target()
    name = request.form.get("module", "")
    on = request.form.get("enabled") == "1"
    error = None
    try:
        changed = set_enabled(target.id if target else None, name, on, current_user.id)
    except ModuleSwitchError as exc:
        error = str(exc)
        db.session.rollback()
    else:
        where = target.name if target else _("district default")
        record(
            "module.enabled" if on else "module.disabled",
            object_type="module",
            object_id=name,
            summary=f"{', '.join(changed) or name} @ {where}",
            community_id=target.id if target else None,
        )
        db.session.commit()
    return _render_modules(target, error=error, block="switches")


# --- Audit log ------------------------------------------------------------------


def _audit_stmt():
    stmt = select(AuditLog).order_by(AuditLog.id.desc())
    ids = admin_community_ids()
    if ids is not None:
        stmt = stmt.where(AuditLog.community_id.in_(ids or [-1]))
    a = request.args
    if a.get("user"):
        stmt = stmt.where(AuditLog.username.ilike(f"%{a['user'].strip()}%"))
    if a.get("action"):
        stmt = stmt.where(AuditLog.action.ilike(f"{a['action'].strip()}%"))
    if a.get("object_type"):
        stmt = stmt.where(AuditLog.object_type == a["object_type"].strip())
    for key, op in (("from", "ge"), ("to", "lt")):
        raw = a.get(key, "").strip()
        if raw:
            try:
                day = dt.date.fromisoformat(raw[:10])
                # District days (core.clock); 0001-01-01 or 9999-12-31 means no bound.
                bound = clock.start_of_day(day) if op == "ge" else clock.end_of_day(day)
            except (ValueError, OverflowError):
                continue
            stmt = stmt.where(AuditLog.at >= bound if op == "ge" else AuditLog.at < bound)
    return stmt


@bp.route("/audit")
@requires("audit.view")
def audit():
    page: Page = paginate(_audit_stmt(), per_page=50)
    return render("admin/audit.html", block="audit_list", page=page, args=request.args)


AUDIT_HEADERS = (_l("Time"), _l("User"), _l("Action"), _l("Record type"), _l("Record"), _l("Summary"), _l("IP address"))


def _audit_rows():
    for e in db.session.scalars(_audit_stmt().limit(100_000)).yield_per(1000):
        yield (localtime(e.at, "yyyy-MM-dd HH:mm:ss"), e.username, e.action, e.object_type, e.object_id, e.summary, e.ip)


@bp.route("/audit/export.xlsx")
@requires("audit.view")
def audit_export():
    record("audit.exported", object_type="audit_log", summary=request.query_string.decode()[:200])
    db.session.commit()
    return xlsx_response("audit-log.xlsx", [str(h) for h in AUDIT_HEADERS], _audit_rows(), title="audit")


@bp.route("/audit/export.csv")
@requires("audit.view")
def audit_export_csv():
    record("audit.exported", object_type="audit_log", summary=request.query_string.decode()[:200])
    db.session.commit()
    # core.excel.csv_response: control characters dropped, formulas neutralised.
    return csv_response("audit-log.csv", [str(h) for h in AUDIT_HEADERS], _audit_rows())


@bp.app_template_global()
def role_title(role: str):
    return ROLE_TITLES.get(role, role)


__all__ = ["bp", "can"]
