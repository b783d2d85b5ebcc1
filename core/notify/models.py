"""Notifications and each user's choice of kinds."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import utcnow


class Notification(db.Model):
    """One message in one user's inbox. The text is an English msgid with its
    params, translated when read, so each reader sees their own language."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(Text)
    params: Mapped[dict | None] = mapped_column(JSON)
    # A URL, or an endpoint when link_args is set (url_for when read: a
    # consumer process has no request to build URLs with).
    link: Mapped[str | None] = mapped_column(String(500))
    link_args: Mapped[dict | None] = mapped_column(JSON)
    # The record it is about ("inquiry_problem", "42").
    about_type: Mapped[str | None] = mapped_column(String(40))
    about_id: Mapped[str | None] = mapped_column(String(40))
    # De-duplication: one notification per (user, kind, key); NULL keys never clash.
    key: Mapped[str | None] = mapped_column(String(200))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("grid_node.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("user_id", "kind", "key"),
        # The inbox (newest first) and the unread count, both per user.
        Index("ix_notification_user_unread", "user_id", "read_at", "id"),
        Index("ix_notification_user_id_id", "user_id", "id"),
    )

    @property
    def text(self) -> str:
        from ..i18n import translate

        return translate(self.message, self.params)

    @property
    def url(self) -> str | None:
        if not self.link:
            return None
        if self.link_args is None:
            return self.link
        from flask import url_for
        from werkzeug.routing import BuildError

        try:
            return url_for(self.link, **self.link_args)
        except BuildError:  # the module that linked it is gone
            return None


class NotificationPreference(db.Model):
    """A user's choice for one kind; no row means the kind's default."""

    __tablename__ = "notification_preference"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))
    enabled: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (UniqueConstraint("user_id", "kind"),)
