"""Scoring rules, set by the district and versioned.

A rule set is never edited: a change is a new version in force from a month's
first day. A month is scored by the version in force on its first day, and a
published month keeps the lines it was scored with (see scoring.py), so a
later version never rewrites it.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from core.extensions import db
from core.models import GridNode

from ..models import RuleSet
from . import FivestarError

PER = ("hour", "record")

DEFAULT_RULES = [
    {"source": "stations", "kind": "*", "per": "hour", "points": 1.0, "cap": 20.0},
    {"source": "orders", "kind": "*", "per": "record", "points": 5.0, "cap": 30.0},
    {"source": "fivestar", "kind": "*", "per": "record", "points": 3.0, "cap": 15.0},
    {"source": "*", "kind": "*", "per": "hour", "points": 0.5, "cap": 10.0},
]
DEFAULT_ITEMS = [
    {"code": "commended", "title": "受到社区表扬", "points": 5.0},
    {"code": "emergency", "title": "参加应急值守", "points": 5.0},
    {"code": "missed", "title": "未履行承诺", "points": -5.0},
    {"code": "complaint", "title": "群众投诉属实", "points": -10.0},
]
DEFAULT_WEIGHT = 4.0
DEFAULT_CAP = 60.0
EPOCH = dt.date(2000, 1, 1)


def district_node() -> GridNode | None:
    return db.session.scalar(select(GridNode).where(GridNode.level == "district").order_by(GridNode.id).limit(1))


def ensure_default(user_id: int | None = None) -> RuleSet:
    """The first version (the defaults), created when the district has none."""
    node = district_node()
    existing = db.session.scalar(select(RuleSet).where(RuleSet.node_id == node.id).order_by(RuleSet.number).limit(1))
    if existing is not None:
        return existing
    rs = RuleSet(node_id=node.id, number=1, valid_from=EPOCH, rules=[dict(r) for r in DEFAULT_RULES],
                 items=[dict(i) for i in DEFAULT_ITEMS], rating_weight=DEFAULT_WEIGHT, month_cap=DEFAULT_CAP,
                 note="默认规则", created_by_id=user_id)
    db.session.add(rs)
    db.session.flush()
    return rs


def in_force(day: dt.date) -> RuleSet:
    """The version in force on `day`."""
    ensure_default()
    return db.session.scalar(
        select(RuleSet).where(RuleSet.valid_from <= day).order_by(RuleSet.valid_from.desc()).limit(1))


def versions() -> list[RuleSet]:
    ensure_default()
    return list(db.session.scalars(select(RuleSet).order_by(RuleSet.valid_from.desc())))


def clean_rules(rows) -> list[dict]:
    out = []
    for i, r in enumerate(rows):
        source = (r.get("source") or "").strip()
        if not source:
            continue
        per = r.get("per") or "record"
        if per not in PER:
            raise FivestarError(_("Rule %(n)s: count per hour or per record.", n=i + 1), "rules")
        try:
            points = float(r.get("points"))
            cap = float(r["cap"]) if r.get("cap") not in (None, "") else None
        except (TypeError, ValueError):
            raise FivestarError(_("Rule %(n)s: points and cap are numbers.", n=i + 1), "rules") from None
        if cap is not None and cap < 0:
            raise FivestarError(_("Rule %(n)s: a cap cannot be negative.", n=i + 1), "rules")
        out.append({"source": source, "kind": (r.get("kind") or "*").strip() or "*", "per": per,
                    "points": points, "cap": cap})
    if not out:
        raise FivestarError(_("Give at least one rule."), "rules")
    return out


def clean_items(rows) -> list[dict]:
    out, codes = [], set()
    for i, r in enumerate(rows):
        code = (r.get("code") or "").strip()
        if not code:
            continue
        if code in codes:
            raise FivestarError(_("Item %(n)s: the code %(code)s is used twice.", n=i + 1, code=code), "items")
        codes.add(code)
        try:
            points = float(r.get("points"))
        except (TypeError, ValueError):
            raise FivestarError(_("Item %(n)s: points are a number.", n=i + 1), "items") from None
        out.append({"code": code, "title": (r.get("title") or code).strip(), "points": points})
    return out


def create_version(*, valid_from: dt.date, rules, items, rating_weight: float, month_cap: float | None,
                   note: str, user_id: int | None, published_months=()) -> RuleSet:
    """A new version in force from the first day of `valid_from`'s month."""
    valid_from = valid_from.replace(day=1)
    current = ensure_default(user_id)
    if rating_weight < 0:
        raise FivestarError(_("The weight cannot be negative."), "rating_weight")
    if db.session.scalar(select(RuleSet.id).where(RuleSet.valid_from == valid_from)) is not None:
        raise FivestarError(_("A version already starts in that month."), "valid_from")
    number = (db.session.scalar(select(RuleSet.number).order_by(RuleSet.number.desc()).limit(1)) or 0) + 1
    rs = RuleSet(node_id=current.node_id, number=number, valid_from=valid_from, rules=clean_rules(rules),
                 items=clean_items(items), rating_weight=rating_weight, month_cap=month_cap, note=note or "",
                 created_by_id=user_id)
    db.session.add(rs)
    db.session.flush()
    return rs


def match(rule_set: RuleSet, source: str, kind: str) -> tuple[int, dict] | None:
    """The most specific rule for a record: source and kind, then source, then any."""
    best = None
    for i, r in enumerate(rule_set.rules):
        if r["source"] not in (source, "*") or r["kind"] not in (kind, "*"):
            continue
        rank = (r["source"] == source) * 2 + (r["kind"] == kind)
        if best is None or rank > best[0]:
            best = (rank, i, r)
    return (best[1], best[2]) if best else None


def describe(rule: dict) -> str:
    what = f"{rule['source']}/{rule['kind']}"
    if rule["per"] == "hour":
        text = _("%(what)s: %(p)s points an hour", what=what, p=fmt(rule["points"]))
    else:
        text = _("%(what)s: %(p)s points a record", what=what, p=fmt(rule["points"]))
    if rule.get("cap") is not None:
        text += _(", at most %(c)s a month", c=fmt(rule["cap"]))
    return text


def fmt(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:g}" if abs(x - round(x, 2)) < 1e-9 else f"{x:.2f}"


def item(rule_set: RuleSet, code: str) -> dict | None:
    return next((i for i in rule_set.items if i["code"] == code), None)
