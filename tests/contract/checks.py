"""Observing what a request showed: which anchored records it loaded (ORM
load events) and which object URLs it linked to."""

from __future__ import annotations

import re
from collections import defaultdict
from contextlib import contextmanager

from sqlalchemy import event, select

from core.extensions import db
from core.models import RoleGrant, User

from . import world as w

LINK = re.compile(r'(?:href|hx-get|hx-post|action|src)="([^"?#]+)')


@contextmanager
def loads(models):
    """Collect (model, id) of every instance of `models` loaded from the database."""
    seen: list[tuple[type, int]] = []

    def on_load(target, _context):
        pk = type(target).__mapper__.primary_key[0].key
        seen.append((type(target), getattr(target, pk)))

    for m in models:
        event.listen(m, "load", on_load)
    try:
        yield seen
    finally:
        for m in models:
            event.remove(m, "load", on_load)


def object_urls(app, model, ids) -> dict[str, tuple[type, int]]:
    """URL -> record for the GET object routes of these records."""
    out = {}
    anchor = next(a for a in w.installed_anchors(app) if a.model is model)
    rules = [r for r in w.object_routes(app, anchor) if "GET" in r.methods]
    for ident in ids:
        obj = db.session.get(model, ident)
        values = w.url_values(obj)
        for rule in rules:
            url = w.fill(rule, values)
            if url:
                out[url] = (model, ident)
    return out


def observe(client, urls, models, markers):
    """GET each URL; return {url: set of (model, id) it loaded or linked to}."""
    shown = defaultdict(set)
    for url in urls:
        with loads(models) as seen:
            resp = client.get(url)
        assert resp.status_code < 500, f"{url} answered {resp.status_code}"
        shown[url].update(seen)
        if resp.mimetype.startswith("text/"):
            for link in LINK.findall(resp.get_data(as_text=True)):
                if link in markers:
                    shown[url].add(markers[link])
    return shown


def may_use(username: str, app, endpoint: str) -> bool:
    """Could this user use the endpoint at all (some role of theirs is allowed
    its permission)? If not, 403 from @requires says nothing about the object."""
    view = app.view_functions[endpoint]
    perm = getattr(view, "wangge_permission", None)
    reg = w.registry(app)
    if perm not in reg.actions:
        return True
    roles = set(db.session.scalars(
        select(RoleGrant.role).join(User, User.id == RoleGrant.user_id).where(User.username == username)
    ))
    return bool(roles & set(reg.actions[perm].default_roles))


def in_scope_of(username: str, node_id: int) -> bool:
    """Is the node inside one of the user's role grants?"""
    from core.models import GridNode

    path = db.session.get(GridNode, node_id).path
    paths = db.session.scalars(
        select(GridNode.path).join(RoleGrant, RoleGrant.node_id == GridNode.id)
        .join(User, User.id == RoleGrant.user_id).where(User.username == username)
    )
    return any(path.startswith(p) for p in paths)
