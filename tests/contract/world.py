"""What the contract tests read from the installed app: the registry, the
anchored models (core.access.anchors()) and the routes (app.url_map).

Nothing here names a module: a plugin installed with pip is covered as soon
as it declares its Module, anchors its models and registers its blueprints.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import aliased
from werkzeug.routing import IntegerConverter

from core import access
from core.models import GridNode
from core.testing import make_app


@dataclass
class World:
    app: object
    a: int  # community A (the one switched, the one whose records outsiders ask for)
    b: int  # community B
    district: int
    admin_a: str
    admin_b: str
    district_admin: str
    outsider_handler: str
    worker_a: str = "worker"  # the demo's grid worker of community A's first estate
    handler: str = "handler"  # the demo's handler of a department
    member_a: str = "member"  # the demo's Party member, granted "member" on community A


@functools.lru_cache(maxsize=1)
def installed():
    """An app with every installed module (no database needed): for collecting tests."""
    return make_app("sqlite://", "/tmp/wangge-contract-collect")


def registry(app=None):
    return (app or installed()).extensions["wangge"].registry


def module_anchors(module: str, app=None) -> list[access.Anchor]:
    return [a for a in access.anchors() if a.module == module and a.model.__table__.name in _tables(app)]


def installed_anchors(app=None) -> list[access.Anchor]:
    mods = set(registry(app).modules)
    return [a for a in access.anchors() if a.module in mods and a.model.__table__.name in _tables(app)]


def _tables(app=None) -> set[str]:
    from core.extensions import db

    return set(db.metadata.tables)


def on_core_access(module: str) -> bool:
    """Has the module moved onto core.access (does it anchor any model)?"""
    return module == "core" or bool(module_anchors(module))


def pending(module: str):
    """Marks for a module that anchors no model yet: its expectations run, but
    a failure is expected (xfail, not strict) until it is on core.access.
    Once it anchors its models the same tests hold it to the contract."""
    if on_core_access(module):
        return ()
    return (pytest.mark.xfail(reason=f"module {module!r} is not on core.access yet (no anchored model)",
                              strict=False),)


def switchable_modules() -> list[str]:
    return sorted(m.name for m in registry().modules.values() if m.switchable)


def module_of_endpoint(endpoint: str, app=None) -> str:
    bp = endpoint.rsplit(".", 1)[0] if "." in endpoint else ""
    return registry(app).blueprint_module.get(bp, "core")


# --- Records -------------------------------------------------------------------------


def _community_select(model):
    """select(pk, community column) of a model, through its anchor (via= links followed)."""
    pk = model.__mapper__.primary_key[0]
    stmt = select(pk)
    anchor, target = access.anchor_of(model), model
    while anchor.via:
        rel = getattr(target, anchor.via)
        parent = rel.property.mapper.class_
        stmt = stmt.join(parent, rel)
        target, anchor = parent, access.anchor_of(parent)
    if anchor.node:
        node = aliased(GridNode)
        stmt = stmt.join(node, node.id == getattr(target, anchor.node))
        community = node.community_id
        if target is GridNode:  # pragma: no cover - GridNode is path-anchored
            community = GridNode.community_id
    else:
        community = getattr(target, anchor.community)
    if target is GridNode:
        # A community node is its own community (its community_id column is empty).
        from sqlalchemy import case

        community = case((GridNode.level == "community", GridNode.id), else_=GridNode.community_id)
    return stmt.add_columns(community), pk, community


def record_ids(model, community_id: int, limit: int | None = None) -> list[int]:
    from core.extensions import db

    stmt, pk, community = _community_select(model)
    stmt = stmt.where(community == community_id).order_by(pk)
    if limit:
        stmt = stmt.limit(limit)
    return [row[0] for row in db.session.execute(stmt)]


def sample_ids(model, community_id: int, n: int = 3) -> list[int]:
    """A few records of the community: the first, the last and one between."""
    ids = record_ids(model, community_id)
    if len(ids) <= n:
        return ids
    return sorted({ids[0], ids[len(ids) // 2], ids[-1]})


# --- Routes ---------------------------------------------------------------------------


def int_args(rule) -> list[str]:
    return [name for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter)]


def url_values(obj) -> dict[str, int]:
    """URL argument -> id for an anchored object and the objects it hangs on (via=)."""
    values: dict[str, int] = {}
    while obj is not None:
        anchor = access.anchor_of(obj)
        pk = type(obj).__mapper__.primary_key[0].key
        for arg in anchor.url_args:
            values.setdefault(arg, getattr(obj, pk))
        obj = getattr(obj, anchor.via) if anchor.via else None
    return values


def object_routes(app, anchor) -> list:
    """Rules that take one of the anchor's url_args: the anchor's module's own
    rules (argument names are a module's own), every module's for the core's
    (node_id)."""
    return [
        r for r in app.url_map.iter_rules()
        if set(anchor.url_args) & set(r.arguments)
        and (anchor.module == "core" or module_of_endpoint(r.endpoint, app) == anchor.module)
    ]


def fill(rule, values: dict[str, int]) -> str | None:
    """The rule's URL with these values, or None when an argument cannot be filled."""
    if not set(rule.arguments) <= set(values):
        return None
    try:
        return rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]
    except Exception:  # noqa: BLE001 - a rule we cannot build is reported as skipped
        return None


def methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def list_routes(app) -> list:
    """GET rules that take no argument: lists, counts, widgets, exports, dashboards, APIs."""
    skip = {"static", "main.ping", "main.healthz"}
    return [
        r for r in app.url_map.iter_rules()
        if "GET" in r.methods and not r.arguments and r.endpoint not in skip
    ]


def node_routes(app) -> list:
    """GET rules whose only argument is node_id (node pages, panels)."""
    return [r for r in app.url_map.iter_rules() if "GET" in r.methods and set(r.arguments) == {"node_id"}]
