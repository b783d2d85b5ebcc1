"""Helpers shared by the pages of grid affairs: the node and week arguments,
paging of the long lists. Scope, module switches and object gates are
core.access's (queries.scope, access.get_or_404, access.require_node)."""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, request
from sqlalchemy.orm import joinedload

from core import access, clock
from core.extensions import db
from core.models import GridNode
from core.security import in_scope, scope_paths
from core.web import current_community_id, paginate

from .. import services as S
from ..models import Resident
from ..queries import HOUSE_PLACE, MODULE

# A resident's page shows the house, its zone and building (no N+1).
RESIDENT_PLACE = [joinedload(Resident.house).options(HOUSE_PLACE)]


def today() -> dt.date:
    return clock.today()


def node_arg(action: str = "affairs.view") -> GridNode | None:
    """The grid node of ?node= (404 out of scope, the module-off page where it is off)."""
    raw = request.args.get("node", "")
    if raw.isdigit():
        return access.require_node(raw, action, MODULE)
    return None


def long_page(stmt, id_column, total=None, scalars=True, options=()):
    """A page of one of the module's long lists: the total from the maintained
    totals when known, else counted at most three pages ahead."""
    per_page = current_app.config["PER_PAGE"]
    return paginate(stmt, scalars=scalars, options=options, total=total,
                    ahead=3 * per_page, count_column=id_column)


def home_node(action: str) -> GridNode:
    """The community chosen in the header when the user sees all of it, else
    the user's first subtree root."""
    cid = current_community_id()
    if cid:
        node = db.session.get(GridNode, cid)
        if node is not None and in_scope(node, action):
            return access.require_node(node, action, MODULE)
    paths = scope_paths(action)
    if not paths:
        abort(404)
    return access.require_node(int(paths[0].strip("/").split("/")[-1]), action, MODULE)


def week_arg() -> tuple[int, int]:
    """?week=2026-W09, default the district's current ISO week."""
    y, w = S.iso_week_of(today())
    raw = request.args.get("week", "")
    try:
        if raw:
            yy, ww = raw.split("-W")
            y, w = int(yy), int(ww)
            dt.date.fromisocalendar(y, w, 1)
    except ValueError:
        abort(404)
    return y, w


def compliance_node() -> GridNode:
    return node_arg("affairs.compliance") or home_node("affairs.compliance")


def audit(action: str, obj=None, summary: str | None = None, **kw):
    """core.audit.record with the community taken from the object (core.access)."""
    from core.audit import record

    if "community_id" not in kw and obj is not None:
        kw["community_id"] = access.community_of(obj)
    return record(action, obj, summary=summary, **kw)
