"""Registration with the home community (双报到): register, confirm or return,
the member role on confirmation, the unit's view, and the bulk import."""

from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy import func, select

from core import audit
from core.extensions import db
from core.models import GridNode, Organisation, RoleGrant, User, utcnow

from ..models import Registration, split_words
from . import OrdersError

PHONE_DIGITS = (7, 11)


def clean_phone(phone: str | None, field: str = "phone") -> str:
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if not (PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1]):
        raise OrdersError(_("Enter a phone number of 7 to 11 digits."), field)
    return digits


def match_home_node(community: GridNode, address: str) -> GridNode | None:
    """The deepest grid (zone, else building, else estate) of the community
    whose name the address mentions: '锦绣花园3栋2单元' finds 锦绣花园 › 3栋 › 2单元."""
    address = (address or "").replace(" ", "")
    if not address:
        return None
    estates = db.session.scalars(
        select(GridNode).where(GridNode.parent_id == community.id).order_by(GridNode.sort_order)
    ).all()
    estate = next((e for e in sorted(estates, key=lambda e: -len(e.name)) if e.name in address), None)
    if estate is None:
        return None
    rest = address.split(estate.name, 1)[1]
    buildings = db.session.scalars(select(GridNode).where(GridNode.parent_id == estate.id)).all()
    building = next((b for b in sorted(buildings, key=lambda b: -len(b.name)) if rest.startswith(b.name)), None)
    if building is None:
        return estate
    zones = db.session.scalars(select(GridNode).where(GridNode.parent_id == building.id)).all()
    # A zone is named "2单元" or, with its building, "1栋2单元".
    zone = next((z for z in sorted(zones, key=lambda z: -len(z.name)) if z.name in rest), None)
    return zone or building


def employer_by_name(name: str) -> Organisation | None:
    name = (name or "").strip()
    if not name:
        return None
    return db.session.scalar(
        select(Organisation).where(
            Organisation.kind.in_(("partner_unit", "department")),
            (Organisation.name == name) | (Organisation.short_name == name),
        ).limit(1)
    )


def register(user: User, community: GridNode, *, employer_org_id: int | None, employer_name: str,
             party_branch: str, address: str, phone: str, skills: str, resources: str,
             hours_per_month: int, state: str = "submitted") -> Registration:
    """A member registers (or registers again after a return) with a community."""
    if community is None or community.level != "community":
        raise OrdersError(_("Choose the community where you live."), "community_id")
    phone = clean_phone(phone)
    if not employer_org_id and not (employer_name or "").strip():
        raise OrdersError(_("Name your employer unit."), "employer_name")
    if hours_per_month is None or hours_per_month < 0 or hours_per_month > 200:
        raise OrdersError(_("Hours a month must be between 0 and 200."), "hours_per_month")
    reg = db.session.scalar(
        select(Registration).where(Registration.user_id == user.id, Registration.community_id == community.id)
    )
    if reg is not None and reg.state == "confirmed" and state != "confirmed":
        raise OrdersError(_("You are already registered with this community."), "community_id")
    if reg is None:
        reg = Registration(user_id=user.id, community_id=community.id)
        db.session.add(reg)
    reg.employer_org_id = employer_org_id or None
    reg.employer_name = "" if employer_org_id else employer_name.strip()
    reg.party_branch = (party_branch or "").strip()
    reg.address = (address or "").strip()
    home = match_home_node(community, reg.address)
    reg.home_node_id = home.id if home is not None else None
    reg.phone = phone
    reg.skills = ", ".join(split_words(skills))
    reg.resources = (resources or "").strip()
    reg.hours_per_month = hours_per_month
    reg.state = state
    reg.reason = ""
    db.session.flush()
    if state == "confirmed":
        _grant_member(reg)
    audit.record("orders.register", reg, summary=f"{user.display_name} → {community.name}",
                 community_id=community.id)
    return reg


def _grant_member(reg: Registration) -> None:
    """A confirmed member holds the member role on their home community."""
    exists = db.session.scalar(
        select(RoleGrant.id).where(RoleGrant.user_id == reg.user_id, RoleGrant.role == "member",
                                   RoleGrant.node_id == reg.community_id)
    )
    if exists is None:
        db.session.add(RoleGrant(user_id=reg.user_id, role="member", node_id=reg.community_id))


def confirm(reg: Registration, by: User) -> Registration:
    if reg.state == "confirmed":
        raise OrdersError(_("This registration is already confirmed."))
    reg.state = "confirmed"
    reg.reason = ""
    reg.decided_at = utcnow()
    reg.decided_by_id = by.id
    _grant_member(reg)
    audit.record("orders.registration_confirm", reg, summary=reg.user.display_name,
                 community_id=reg.community_id)
    return reg


def return_(reg: Registration, by: User, reason: str) -> Registration:
    reason = (reason or "").strip()
    if not reason:
        raise OrdersError(_("Say why the registration is returned."), "reason")
    if reg.state == "confirmed":
        raise OrdersError(_("A confirmed registration cannot be returned."))
    reg.state = "returned"
    reg.reason = reason[:255]
    reg.decided_at = utcnow()
    reg.decided_by_id = by.id
    audit.record("orders.registration_return", reg, summary=reason, community_id=reg.community_id)
    return reg


def confirmed_registration(user_id: int, community_id: int | None = None) -> Registration | None:
    stmt = select(Registration).where(Registration.user_id == user_id, Registration.state == "confirmed")
    if community_id is not None:
        stmt = stmt.where(Registration.community_id == community_id)
    return db.session.scalars(stmt.order_by(Registration.id).limit(1)).first()


# --- Bulk import from the units' lists ----------------------------------------------------

IMPORT_COLUMNS = ("姓名", "手机", "工作单位", "所在党支部", "报到社区", "家庭住址", "技能特长", "可服务时长")


def community_by_name(name: str) -> GridNode | None:
    return db.session.scalar(
        select(GridNode).where(GridNode.level == "community",
                               (GridNode.name == name) | (GridNode.code == name)).limit(1)
    )


def import_rows(rows, allowed_community_ids: set[int] | None, *, keep_good: bool, by: User):
    """Import members from rows {column: value}. Every row is checked first;
    with errors, nothing is saved unless `keep_good` (then the good rows are).
    Re-importing the same list updates (keyed by phone and community).
    Returns (saved count, [RowError])."""
    from core.excel import RowError

    errors: list[RowError] = []
    good = []
    seen = set()
    for n, row in rows:
        name = str(row.get("姓名") or "").strip()
        if not name:
            errors.append(RowError(n, "姓名", _("The name is missing.")))
            continue
        try:
            phone = clean_phone(str(row.get("手机") or ""))
        except OrdersError as exc:
            errors.append(RowError(n, "手机", str(exc)))
            continue
        community = community_by_name(str(row.get("报到社区") or "").strip())
        if community is None or (allowed_community_ids is not None and community.id not in allowed_community_ids):
            errors.append(RowError(n, "报到社区", _("No such community in your area.")))
            continue
        unit = str(row.get("工作单位") or "").strip()
        if not unit:
            errors.append(RowError(n, "工作单位", _("Name your employer unit.")))
            continue
        hours_raw = row.get("可服务时长")
        try:
            hours = int(float(hours_raw)) if hours_raw not in (None, "") else 0
            if not 0 <= hours <= 200:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(RowError(n, "可服务时长", _("Hours a month must be between 0 and 200.")))
            continue
        if (phone, community.id) in seen:
            errors.append(RowError(n, "手机", _("This member appears twice in the file.")))
            continue
        seen.add((phone, community.id))
        good.append((name, phone, community, unit, row, hours))
    if errors and not keep_good:
        return 0, errors
    for name, phone, community, unit, row, hours in good:
        user = db.session.scalar(select(User).where(User.phone == phone).order_by(User.id).limit(1))
        if user is None:
            user = User(username=_free_username(phone), display_name=name, phone=phone)
            user.set_password(secrets.token_urlsafe(16))
            db.session.add(user)
            db.session.flush()
        org = employer_by_name(unit)
        register(user, community, employer_org_id=org.id if org else None, employer_name=unit,
                 party_branch=str(row.get("所在党支部") or ""), address=str(row.get("家庭住址") or ""),
                 phone=phone, skills=str(row.get("技能特长") or ""), resources="", hours_per_month=hours,
                 state="confirmed")
    audit.record("orders.registration_import", summary=f"{len(good)} rows, {len(errors)} errors", user=by)
    return len(good), errors


def _free_username(phone: str) -> str:
    base = f"m{phone}"
    n = db.session.scalar(select(func.count()).select_from(User).where(User.username.like(base + "%"))) or 0
    return base if n == 0 else f"{base}-{n + 1}"

