"""The notice board's one table. Its schema comes from the migration in
migrations/versions (the plugin's own Alembic branch)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import GridNode, User, utcnow


class Notice(db.Model):
    """A notice posted on a grid node; it is shown on that node and every node beneath it."""

    # Prefix tables with the module name: plugins share one database.
    __tablename__ = "noticeboard_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("grid_node.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)

    node: Mapped[GridNode] = relationship(lazy="joined")
    author: Mapped[User | None] = relationship(lazy="joined")
