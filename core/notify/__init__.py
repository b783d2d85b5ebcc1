"""Notifications: the core's inbox service.

Modules tell people things with one call::

    from core.i18n import N_
    from core.notify import notify

    notify("inquiry.deadline_near", N_("Problem %(ref)s is due tomorrow."), {"ref": p.ref},
           role="handler", node=p.node_id, link=("inquiry.problem", {"problem_id": p.id}),
           about=p, key=f"deadline-near:{p.id}")

The message is an English msgid (marked with `N_` so that pybabel extracts
it) stored with its params and translated when read, in the reader's
language. Recipients are the `users` given and the holders of `role` granted
on `node` or one of its ancestors; each receives the kind unless they turned
it off on the inbox's preferences page. `key` de-duplicates per (user, kind,
key) in the database: sending the same event twice, even from two consumers
at once, stores it once. Kinds are declared by `wangge_notification_kinds`;
channels other than the in-app inbox are plugins (`wangge_deliver_notification`).
The caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select

from ..extensions import db
from ..models import GridNode, RoleGrant, User
from .models import Notification, NotificationPreference

__all__ = ["Notification", "NotificationPreference", "enabled_kinds", "notify", "unread_count"]

UNREAD_CAP = 99


def _registry():
    return current_app.extensions["wangge"].registry


def _insert():
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(Notification.__table__)


def _about(about) -> tuple[str | None, str | None]:
    if about is None:
        return None, None
    if isinstance(about, tuple):
        kind, ident = about
        return str(kind)[:40], str(ident)[:40]
    return about.__class__.__tablename__[:40], str(about.id)[:40]


def _community(node: GridNode | None, about) -> int | None:
    from ..access import community_of

    if node is not None:
        return community_of(node)
    if about is not None and not isinstance(about, tuple):
        return community_of(about)
    return None


def recipients(users: Iterable = (), role: str | Iterable[str] | None = None, node=None) -> set[int]:
    """User ids: those given, plus holders of `role` on `node` or an ancestor."""
    ids = {u if isinstance(u, int) else u.id for u in users}
    if role is not None:
        if node is None:
            raise ValueError("notify(role=…) needs the node the role is held on")
        roles = (role,) if isinstance(role, str) else tuple(role)
        ids |= set(db.session.scalars(
            select(RoleGrant.user_id).where(RoleGrant.role.in_(roles), RoleGrant.node_id.in_(node.ancestor_ids()))
        ))
    return ids


def notify(kind: str, message: str, params: dict | None = None, *, users=(), role=None, node=None,
           link=None, about=None, key: str | None = None) -> int:
    """Store a notification for each recipient; returns how many were created.

    `link` is a URL or (endpoint, {args}) built when read; `about` the record
    it is about (a model object or ("type", id)); `node` a GridNode or its id.
    A kind of a module that is off in the node's community sends nothing.
    """
    from ..modules import is_enabled

    declared = _registry().notification_kinds.get(kind)
    if declared is None:
        raise KeyError(f"Notification kind {kind!r} is not declared (wangge_notification_kinds)")
    if node is not None and not isinstance(node, GridNode):
        node = db.session.get(GridNode, int(node))
    community_id = _community(node, about)
    if not is_enabled(declared.module or "core", community_id):
        return 0
    ids = recipients(users, role, node)
    if not ids:
        return 0
    active = set(db.session.scalars(select(User.id).where(User.id.in_(ids), User.active)))
    choices = dict(db.session.execute(
        select(NotificationPreference.user_id, NotificationPreference.enabled).where(
            NotificationPreference.kind == kind, NotificationPreference.user_id.in_(active))
    ).all())
    wanted = sorted(u for u in active if choices.get(u, declared.default))
    if not wanted:
        return 0
    about_type, about_id = _about(about)
    link_value, link_args = (link[0], dict(link[1])) if isinstance(link, tuple) else (link, None)
    from ..models import utcnow

    now = utcnow()
    rows = [
        {"user_id": u, "kind": kind, "message": str(message), "params": dict(params or {}), "link": link_value,
         "link_args": link_args, "about_type": about_type, "about_id": about_id, "key": key,
         "community_id": community_id, "created_at": now}
        for u in wanted
    ]
    stmt = _insert().values(rows).on_conflict_do_nothing().returning(Notification.__table__.c.id)
    created = list(db.session.execute(stmt).scalars())
    if created:
        _deliver(created, community_id)
    return len(created)


def _deliver(ids: list[int], community_id: int | None) -> None:
    """Other channels (plugins); in-app delivery is the stored row itself."""
    state = current_app.extensions["wangge"]
    if not state.pm.hook.wangge_deliver_notification.get_hookimpls():
        return
    from ..plugins import call_for_community

    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    for note in db.session.scalars(select(Notification).where(Notification.id.in_(ids))):
        user = db.session.get(User, note.user_id)
        with force_locale(user.locale or default):
            text = note.text
        call_for_community(current_app, "wangge_deliver_notification", community_id,
                           notification=note, user=user, text=text)


def unread_count(user_id: int) -> int:
    """Unread notifications of a user, counted up to UNREAD_CAP + 1 ("99+")."""
    inner = (
        select(Notification.id)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .limit(UNREAD_CAP + 1)
        .subquery()
    )
    return db.session.scalar(select(func.count()).select_from(inner)) or 0


def enabled_kinds(user_id: int) -> list[tuple[object, bool]]:
    """(kind, on) for every declared kind, as the user chose or by default."""
    choices = dict(db.session.execute(
        select(NotificationPreference.kind, NotificationPreference.enabled).where(
            NotificationPreference.user_id == user_id)
    ).all())
    kinds = sorted(_registry().notification_kinds.values(), key=lambda k: (k.module != "core", k.module, k.name))
    return [(k, choices.get(k.name, k.default)) for k in kinds]
