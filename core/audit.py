"""The audit log: record() is the one way to write it."""

from __future__ import annotations

from flask import has_request_context
from flask_login import current_user

from .access import community_of
from .extensions import db
from .models import AuditLog
from .text import clean
from .web import client_ip


def record(
    action: str,
    obj=None,
    summary: str | None = None,
    object_type: str | None = None,
    object_id=None,
    community_id: int | None = None,
    user=None,
) -> AuditLog:
    """Add an audit entry to the session (committed with the change it records).

    The community comes from the object (core.access.community_of) unless
    given: a view never has to look it up.
    """
    if obj is not None:
        object_type = object_type or obj.__class__.__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
        if community_id is None:
            community_id = community_of(obj)
    ip = None
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    if has_request_context():
        ip = client_ip()
    entry = AuditLog(
        user_id=getattr(user, "id", None),
        username=getattr(user, "username", None),
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        summary=clean(summary),  # PostgreSQL refuses NUL; exports break on control characters
        ip=ip,
        community_id=community_id,
    )
    db.session.add(entry)
    return entry
