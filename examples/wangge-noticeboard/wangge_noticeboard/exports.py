"""The notice board's Excel export: the same query as the board, audited."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from core import audit
from core.excel import xlsx_response
from core.extensions import db
from core.web import current_community_id

from . import queries

HEADERS = (_l("Posted at"), _l("Grid"), _l("Grid code"), _l("Title"), _l("Text"), _l("Last day"), _l("Author"))


def notices_xlsx():
    stmt = queries.board_stmt().limit(100_000)
    audit.record("noticeboard.exported", summary="notices.xlsx", object_type="noticeboard_notice",
                 community_id=current_community_id())
    db.session.commit()
    localtime = current_app.jinja_env.filters["localtime"]

    def rows():
        for n in db.session.scalars(stmt).yield_per(1000):
            author = n.author.display_name if n.author else ""
            yield (localtime(n.created_at), n.node.name, n.node.code, n.title, n.body,
                   n.expires_on.isoformat() if n.expires_on else "", author)

    return xlsx_response("notices.xlsx", [str(h) for h in HEADERS], rows(), title="notices")
