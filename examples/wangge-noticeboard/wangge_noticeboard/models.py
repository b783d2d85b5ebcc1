"""The notice board's one table. Its schema comes from the migrations in
migrations/versions (the plugin's own Alembic branch)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.access import anchored
from core.extensions import db
from core.models import GridNode, User, utcnow
from core.security import scope_paths


def posted_above(model):
    """Extra visibility (core.access `reach=`): a notice on a node above the
    reader's grids (the district's, their community's) is for them too."""
    above = {int(i) for p in scope_paths("noticeboard.view") for i in p.strip("/").split("/") if i}
    return model.node_id.in_(sorted(above)) if above else None


# Hangs on the grid by its node: core.access derives the scope, the module
# switch of the node's community and the object gate from this one line.
@anchored("noticeboard", node="node_id", url_args=("notice_id",), reach=posted_above)
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
    # The last district day the notice is shown on the board (None: until taken down).
    expires_on: Mapped[dt.date | None] = mapped_column(Date)

    node: Mapped[GridNode] = relationship(lazy="joined")
    author: Mapped[User | None] = relationship(lazy="joined")
