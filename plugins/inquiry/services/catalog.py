"""Categories, responsible units and Open311 keys (the settings of the module)."""

from __future__ import annotations

import hashlib
import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from core.extensions import db
from core.models import GridNode, Organisation, utcnow

from ..models import (
    ApiKey,
    Category,
)
from .workflow import InquiryError

# --- Categories and units ---------------------------------------------------------

DEFAULT_CATEGORIES = [
    # code, name, English, working days, property management
    ("property", "物业管理", "Property management", 10, True),
    ("environment", "环境卫生", "Sanitation and environment", 5, False),
    ("city", "市容城管", "City appearance", 5, False),
    ("roads", "道路设施", "Roads and public facilities", 15, False),
    ("power", "供电照明", "Power and street lighting", 5, False),
    ("water", "供水排水", "Water supply and drainage", 7, False),
    ("safety", "治安消防", "Public safety and fire", 3, False),
    ("housing", "住房建设", "Housing and construction", 15, False),
    ("neighbour", "邻里纠纷", "Neighbour disputes", 10, False),
    ("other", "其他", "Other", 10, False),
]


def ensure_categories() -> list[Category]:
    """The categories, creating the defaults the first time."""
    cats = list(db.session.scalars(select(Category).order_by(Category.sort_order, Category.id)))
    if cats:
        return cats
    for i, (code, name, en, days, pm) in enumerate(DEFAULT_CATEGORIES):
        db.session.add(Category(code=code, name=name, name_en=en, deadline_days=days, property_management=pm, sort_order=i))
    db.session.flush()
    return list(db.session.scalars(select(Category).order_by(Category.sort_order, Category.id)))


def category_title(cat: Category | None, locale: str = "zh_CN") -> str:
    if cat is None:
        return ""
    return cat.name if locale.startswith("zh") or not cat.name_en else cat.name_en


def units() -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.kind.in_(("department", "property_company")), Organisation.active.is_(True))
            .order_by(Organisation.kind, Organisation.name)
        )
    )


def estate_of(node: GridNode) -> GridNode | None:
    if node.level == "estate":
        return node
    if node.level in ("building", "zone"):
        ids = node.ancestor_ids()
        return db.session.get(GridNode, ids[2]) if len(ids) > 2 else None
    return None


def proposed_unit_id(node: GridNode, category: Category | None) -> int | None:
    """For property-management problems, the estate's property company;
    otherwise the category's usual department."""
    if category is None:
        return None
    if category.property_management:
        estate = estate_of(node)
        if estate is not None and estate.property_company_id:
            return estate.property_company_id
    return category.default_unit_id


# --- Open311 keys -----------------------------------------------------------------------------------


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_api_key(name: str, user) -> tuple[ApiKey, str]:
    name = (name or "").strip()
    if not name:
        raise InquiryError(_("Name the integration that will use the key."), field="name")
    key = secrets.token_urlsafe(24)
    row = ApiKey(name=name[:80], key_hash=hash_key(key), prefix=key[:6], created_by_id=getattr(user, "id", None))
    db.session.add(row)
    db.session.flush()
    return row, key


def check_api_key(key: str | None) -> ApiKey | None:
    if not key:
        return None
    row = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None)))
    if row is not None:
        row.last_used_at = utcnow()
        row.n_requests = (row.n_requests or 0) + 1
    return row
