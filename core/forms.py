"""The view toolkit for forms: one way to show a rule's refusal next to its
field, to refuse an edit that would overwrite someone else's, and to turn a
uniqueness race into a form error.

Services raise :class:`DomainError` (or a subclass) with the name of the
field the message belongs to; views call :func:`show_error`. A model that is
edited through forms has a version column that SQLAlchemy bumps on every
UPDATE (and an UPDATE of a stale row fails)::

    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

An edit form (with :class:`VersionedFormMixin`) carries :func:`edit_token` of the record it was drawn from;
:func:`check_edit` refuses the save when the record changed since, naming
what changed (:class:`StaleEdit`). :func:`commit` commits and turns the two
database races — a unique key taken at the same instant, a versioned row
updated at the same instant — into the same errors, never a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from flask import current_app, flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField

from .extensions import db


class DomainError(ValueError):
    """A rule refused the input; str() is the user's message (already in their
    language), `field` the form field it belongs to (None: the whole form)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.field = field


class StaleEdit(DomainError):
    """Someone else saved the record after this form was drawn.

    `changes` lists (field label, value then, value now) for what they changed.
    """

    def __init__(self, changes: Sequence[tuple[str, str, str]] = (), who: str | None = None):
        if changes:
            detail = "; ".join(f"{label}: {before or '—'} → {now or '—'}" for label, before, now in changes)
            message = _(
                "Someone else saved this record while you were editing it (%(detail)s). "
                "Your changes were not saved: check the current values below and save again.",
                detail=detail,
            )
        else:
            message = _(
                "Someone else saved this record while you were editing it. Your changes were "
                "not saved: check the current values below and save again."
            )
        super().__init__(message)
        self.changes = list(changes)
        self.who = who


class DuplicateError(DomainError):
    """A unique key (an ID-card number, a code) is already taken."""


def show_error(form, exc: DomainError) -> None:
    """Put a rule's message next to its field (what was typed stays in the
    form); a message for the whole form, or for a field the form does not
    have, is flashed instead."""
    field = getattr(form, exc.field, None) if (form is not None and exc.field) else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*list(field.errors or []), str(exc)]
    else:
        flash(str(exc), "error")


# --- No lost updates -------------------------------------------------------------


class VersionedFormMixin:
    """Add to an edit form: it carries the record's version and the values it showed."""

    edit_token = HiddenField()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="wangge-edit")


def _plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def edit_token(obj, fields: Sequence[str]) -> str:
    """A signed snapshot of the record as the form shows it: its version and
    the values of `fields` (put it in the form's `edit_token` on GET)."""
    data = {"v": getattr(obj, "version", None), "f": {f: _plain(getattr(obj, f, None)) for f in fields}}
    return _serializer().dumps(data)


def check_edit(obj, token: str | None, fields: Sequence[str], labels: dict | None = None) -> None:
    """Raise :class:`StaleEdit` when `obj` changed since `token` was made.

    A missing or forged token is treated as stale (the safe side)."""
    try:
        data = _serializer().loads(token or "")
    except BadSignature:
        raise StaleEdit() from None
    if data.get("v") == getattr(obj, "version", None):
        return
    then = data.get("f", {})
    labels = labels or {}
    changes = [
        (str(labels.get(f, f)), then.get(f, ""), _plain(getattr(obj, f, None)))
        for f in fields
        if then.get(f, "") != _plain(getattr(obj, f, None))
    ]
    raise StaleEdit(changes)


DUPLICATE_MESSAGE = _l("This is already recorded (someone saved the same thing a moment ago).")


def commit(duplicate_field: str | None = None, duplicate_message=None) -> None:
    """Commit the session; a unique key taken by a concurrent request becomes
    :class:`DuplicateError` (on `duplicate_field`), a concurrent update of a
    versioned row :class:`StaleEdit`. The session is rolled back on either."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise DuplicateError(duplicate_message or DUPLICATE_MESSAGE, duplicate_field) from exc
    except StaleDataError as exc:
        db.session.rollback()
        raise StaleEdit() from exc
