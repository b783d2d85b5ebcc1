"""The one permission mechanism.

Every view declares who may use it with exactly one of:

- ``@public`` — anyone, signed in or not (login page, the public problem form);
- ``@requires(None)`` — any signed-in user;
- ``@requires("action.name")`` — signed-in users holding a role that the
  action allows (actions and their default roles come from the
  ``wangge_permissions`` hook).

A test walks ``app.url_map`` and fails on a view with no declaration.

Scope: a role is granted on a grid node and covers that node's subtree;
grid workers also cover the grids of their posts (and an A-post's grid
while covering as B). Objects outside the user's scope answer 404.
"""

from __future__ import annotations

import datetime as dt
import functools

from flask import abort, current_app, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import false, or_, select

from . import clock
from .extensions import db
from .models import GridNode, RoleGrant, subtree
from .staffing import covered_paths

PUBLIC = "__public__"
SIGNED_IN = "__signed_in__"


def public(view):
    view.wangge_permission = PUBLIC
    return view


def requires(action: str | None):
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                if request.headers.get("HX-Request"):
                    resp = current_app.response_class(status=401)
                    resp.headers["HX-Redirect"] = url_for("auth.login", next=request.full_path)
                    return resp
                return redirect(url_for("auth.login", next=request.full_path))
            if action is not None and not can(action):
                abort(403)
            return view(*args, **kwargs)

        wrapper.wangge_permission = action or SIGNED_IN
        return wrapper

    return decorator


def today() -> dt.date:
    """Today in the district (core.clock): A/B cover follows the district's day."""
    return clock.today()


def grants() -> list[tuple[str, str]]:
    """(role, path) for the current user, including A/B cover today. Cached per request."""
    if "wangge_grants" in g:
        return g.wangge_grants
    grants: list[tuple[str, str]] = []
    if current_user.is_authenticated:
        rows = db.session.execute(
            select(RoleGrant.role, GridNode.path)
            .join(GridNode, GridNode.id == RoleGrant.node_id)
            .where(RoleGrant.user_id == current_user.id)
        ).all()
        grants = [(r, p) for r, p in rows]
        grants += [("grid_worker", p) for p in covered_paths(current_user.id, today())]
    g.wangge_grants = grants
    return grants


def roles() -> set[str]:
    return {r for r, _ in grants()}


def allowed_roles(action: str) -> tuple[str, ...]:
    reg = current_app.extensions["wangge"].registry
    act = reg.actions.get(action)
    if act is None:
        raise KeyError(f"Unknown permission {action!r}: declare it with wangge_permissions")
    return act.default_roles


def can(action: str, node: GridNode | None = None) -> bool:
    """May the current user do `action` (on `node`, when given)?"""
    if not current_user.is_authenticated:
        return False
    allowed = allowed_roles(action)
    for role, path in grants():
        if role in allowed and (node is None or node.path.startswith(path)):
            return True
    return False


def scope_paths(action: str | None = None) -> list[str]:
    """The minimal set of subtree roots the current user may see (for `action`)."""
    allowed = allowed_roles(action) if action else None
    paths = sorted({p for r, p in grants() if allowed is None or r in allowed})
    minimal: list[str] = []
    for p in paths:
        if not any(p.startswith(m) for m in minimal):
            minimal.append(p)
    return minimal


def scope_filter(path_column, action: str | None = None):
    """SQL condition: the row's node path lies in the user's scope."""
    paths = scope_paths(action)
    if not paths:
        return false()
    return or_(*[subtree(path_column, p) for p in paths])


def in_scope(node: GridNode, action: str | None = None) -> bool:
    return any(node.path.startswith(p) for p in scope_paths(action))


def node_in_scope_or_404(node_id: int, action: str | None = None) -> GridNode:
    node = db.session.get(GridNode, node_id)
    if node is None or not in_scope(node, action):
        abort(404)
    return node


def is_district_admin() -> bool:
    return any(r == "district_admin" and p.count("/") == 2 for r, p in grants())


def admin_community_ids() -> set[int] | None:
    """Communities the user administers; None means all (district admin)."""
    if is_district_admin():
        return None
    paths = [p for r, p in grants() if r == "community_admin"]
    ids = set()
    for p in paths:
        parts = [int(x) for x in p.strip("/").split("/") if x]
        if len(parts) >= 2:
            ids.add(parts[1])
    return ids
