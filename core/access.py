"""The one access layer: who may see which rows, and which modules are on where.

A module's model says once how it hangs on the grid::

    from core.access import anchored

    @anchored("inquiry", path="node_path", community="community_id",
              view="inquiry.view", url_args=("problem_id",), reach=handler_reach)
    class Problem(db.Model): ...

    @anchored("affairs", node="node_id", view="affairs.view", url_args=("resident_id",))
    class Resident(db.Model): ...

    @anchored("inquiry", via="problem", url_args=("photo_id",))
    class Photo(db.Model): ...          # gated through its problem

From that declaration the core derives everything else:

- :func:`scoped` restricts any ``select`` of the model to the rows the user may
  see for an action *and* whose community has the module on (each module's
  default honoured); district-wide lists simply leave the other communities out.
- :func:`get_or_404` fetches one object by id through the same condition:
  404 when it does not exist, lies outside the user's scope, or its module is
  off in its community. Every object route (pages, HTMX fragments, photos,
  exports) uses it, whatever its URL argument is called.
- :func:`require_node` is the gate for writes: a form that names a grid node
  is refused (404) when the node is out of scope or the module is off there;
  :func:`module_on_at` lets a form show that as a field error instead.
- :func:`community_of` gives the community of any anchored object (the audit
  log takes it from there).

Rows outside any community (the district node itself) follow the district
default of the module switch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import abort, current_app, g, has_request_context
from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import aliased

from .extensions import db
from .models import GridNode, ModuleSetting, subtree
from .modules import ModuleOff, is_enabled
from .security import in_scope, scope_filter
from .web import current_community_id

CURRENT = "current"  # community="current": the community chosen for this request


@dataclass(frozen=True)
class Anchor:
    """How a model hangs on the grid (see the module docstring)."""

    model: Any
    module: str
    node: str | None = None
    path: str | None = None
    community: str | None = None
    via: str | None = None
    view: str | None = None
    url_args: tuple[str, ...] = ()
    # reach(model) -> SQL condition or None: rows visible to the current user
    # beyond the grid scope (a handler sees its own unit's problems).
    reach: Callable | None = None
    extra: dict = field(default_factory=dict)


_ANCHORS: dict[Any, Anchor] = {}


def anchored(
    module: str,
    *,
    node: str | None = None,
    path: str | None = None,
    community: str | None = None,
    via: str | None = None,
    view: str | None = None,
    url_args: tuple[str, ...] = (),
    reach: Callable | None = None,
):
    """Class decorator: declare how a model hangs on the grid.

    Exactly one of ``node`` (a foreign key to grid_node), ``path`` (a copied
    path column, with ``community`` its copied community column) or ``via``
    (a many-to-one relationship to another anchored model) is given.
    ``view`` is the action that lets a user see the rows (default
    ``"<module>.view"``); ``url_args`` name the URL arguments that carry the
    model's id (the contract tests request those routes as outsiders).
    """
    if sum(x is not None for x in (node, path, via)) != 1:
        raise TypeError("anchored(): give exactly one of node=, path= or via=")
    if path is not None and community is None:
        raise TypeError("anchored(path=...) needs community= (the copied community column)")

    def decorate(model):
        _ANCHORS[model] = Anchor(
            model=model,
            module=module,
            node=node,
            path=path,
            community=community,
            via=via,
            view=view if view is not None else (None if via else f"{module}.view"),
            url_args=tuple(url_args),
            reach=reach,
        )
        return model

    return decorate


def anchor_of(model) -> Anchor:
    model = model if isinstance(model, type) else type(model)
    try:
        return _ANCHORS[model]
    except KeyError:
        raise LookupError(
            f"{model.__name__} is not anchored on the grid: decorate it with core.access.anchored"
        ) from None


def anchors() -> list[Anchor]:
    """Every anchored model (of every imported module)."""
    return list(_ANCHORS.values())


def _parent(anchor: Anchor):
    rel = getattr(anchor.model, anchor.via)
    return rel.property.mapper.class_


def root_anchor(model) -> Anchor:
    """The anchor that places a model on the grid (following via= links)."""
    anchor = anchor_of(model)
    while anchor.via:
        anchor = anchor_of(_parent(anchor))
    return anchor


# --- Module switches as SQL -------------------------------------------------------------


def _registry():
    return current_app.extensions["wangge"].registry


def _switch_rows(module: str) -> list[tuple[int | None, bool]]:
    cache = g.setdefault("wangge_switch_rows", {}) if has_request_context() else {}
    if module not in cache:
        cache[module] = [
            (c, bool(e))
            for c, e in db.session.execute(
                select(ModuleSetting.community_id, ModuleSetting.enabled).where(ModuleSetting.module == module)
            )
        ]
    return cache[module]


def module_condition(module: str, community_column):
    """SQL condition: the row's community has `module` on.

    Honours the per-community rows, the district default row and the
    module's own default; rows with no community follow the district default.
    """
    reg = _registry()
    mod = reg.modules.get(module)
    if mod is None or not mod.switchable:
        return true()
    rows = _switch_rows(module)
    default = mod.default_enabled
    for cid, enabled in rows:
        if cid is None:
            default = enabled
    if default:
        off = [cid for cid, enabled in rows if cid is not None and not enabled]
        return or_(community_column.is_(None), community_column.notin_(off)) if off else true()
    on = [cid for cid, enabled in rows if cid is not None and enabled]
    return community_column.in_(on) if on else false()


def module_on_at(module: str, node: GridNode | None) -> bool:
    """Is `module` on in the community of `node` (the district default for the district)?"""
    return is_enabled(module, _community_id(node))


def _community_id(node: GridNode | None) -> int | None:
    if node is None or node.level == "district":
        return None
    return node.id if node.level == "community" else node.community_id


# --- Scope as SQL ---------------------------------------------------------------------------


def scope_condition(path_column, community_column, *, module: str | None, action: str | None,
                    community=CURRENT, reach=None):
    """The one condition behind every list: rows (given by their path and
    community columns) that the user may see for `action`, in communities
    where `module` is on, restricted to one community when asked
    (``community=CURRENT``: the community chosen for the request, if any;
    ``None``: every community in scope; an id: that one)."""
    cond = scope_filter(path_column, action)
    if reach is not None:
        cond = or_(cond, reach)
    if module is not None:
        cond = and_(cond, module_condition(module, community_column))
    cid = _resolve_community(community)
    if cid is not None:
        cond = and_(cond, community_column == cid)
    return cond


def _resolve_community(community):
    if community == CURRENT:
        if not has_request_context():
            return None
        return current_community_id()
    return community


def scoped(stmt, model, action: str | None = None, *, community=CURRENT, module: str | None = None):
    """Restrict ``stmt`` (a select involving `model`) to the rows the current
    user may see for `action` (default: the model's view action), in
    communities where the model's module is on.

    Node-anchored models are joined to an alias of grid_node; via-anchored
    ones to their parent first. The statement's own joins are untouched.
    """
    anchor = anchor_of(model)
    target = model
    while anchor.via:
        rel = getattr(target, anchor.via)
        parent = _parent(anchor)
        stmt = stmt.join(parent, rel)
        target, anchor = parent, anchor_of(parent)
    action = action or anchor.view
    module = module or anchor.module
    reach = anchor.reach(target) if anchor.reach is not None else None
    if anchor.node:
        node = aliased(GridNode)
        stmt = stmt.join(node, node.id == getattr(target, anchor.node))
        path_col, community_col = node.path, node.community_id
    else:
        path_col, community_col = getattr(target, anchor.path), getattr(target, anchor.community)
    return stmt.where(scope_condition(path_col, community_col, module=module, action=action,
                                      community=community, reach=reach))


def get_or_404(model, ident, action: str | None = None, *, options=()):
    """The object with this id if the user may see it (for `action`) and its
    module is on in its community; otherwise 404 — never 403, which would
    confirm that it exists."""
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        abort(404)
    if not -(2**63) < ident < 2**63:
        abort(404)
    pk = model.__mapper__.primary_key[0]
    stmt = scoped(select(model).where(pk == ident), model, action, community=None)
    obj = db.session.scalars(stmt.options(*options).limit(1)).first()
    if obj is None:
        abort(404)
    return obj


def gate(obj, action: str | None = None):
    """404 unless an already loaded anchored object passes the object gate."""
    if obj is None:
        abort(404)
    pk = type(obj).__mapper__.primary_key[0]
    stmt = scoped(select(pk).where(pk == getattr(obj, pk.key)), type(obj), action, community=None)
    if db.session.scalar(stmt) is None:
        abort(404)
    return obj


def node_condition(module: str | None, action: str | None, community=None):
    """SQL condition on GridNode itself: nodes in scope where `module` is on."""
    return scope_condition(GridNode.path, GridNode.community_id, module=module, action=action,
                           community=community)


def require_node(node_or_id, action: str | None, module: str | None = None) -> GridNode:
    """The gate for writes and node pages: the node, if it is in the user's
    scope for `action` and `module` is on in its community; otherwise 404."""
    node = node_or_id
    if not isinstance(node, GridNode):
        try:
            ident = int(node_or_id)
        except (TypeError, ValueError):
            abort(404)
        node = db.session.get(GridNode, ident) if -(2**63) < ident < 2**63 else None
    if node is None or not in_scope(node, action):
        abort(404)
    if module is not None and not module_on_at(module, node):
        raise ModuleOff.for_node(module, node)
    return node


def community_of(obj) -> int | None:
    """The community of an anchored object (None: district level or unknown)."""
    if obj is None:
        return None
    if isinstance(obj, GridNode):
        return _community_id(obj)
    try:
        anchor = anchor_of(obj)
    except LookupError:
        return None
    if anchor.via:
        return community_of(getattr(obj, anchor.via))
    if anchor.community:
        return getattr(obj, anchor.community)
    node_id = getattr(obj, anchor.node)
    node = db.session.get(GridNode, node_id) if node_id is not None else None
    return _community_id(node)


def node_of(obj) -> GridNode | None:
    """The grid node an anchored object hangs on (its parent's, for via=)."""
    anchor = anchor_of(obj)
    if anchor.via:
        return node_of(getattr(obj, anchor.via))
    if anchor.node:
        return db.session.get(GridNode, getattr(obj, anchor.node))
    path = getattr(obj, anchor.path)
    return db.session.scalar(select(GridNode).where(GridNode.path == path)) if path else None


def in_subtree(model, node: GridNode):
    """SQL condition for a scoped select of `model`: rows under `node`."""
    anchor = root_anchor(model)
    if anchor.path:
        return subtree(getattr(anchor.model, anchor.path), node.path)
    return getattr(anchor.model, anchor.node).in_(
        select(GridNode.id).where(subtree(GridNode.path, node.path))
    )


# The tree's own nodes hang on the grid by their own path (the core cannot be switched off).
anchored("core", path="path", community="community_id", view="grid.view", url_args=("node_id",))(GridNode)
