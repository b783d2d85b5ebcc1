"""Helpers shared by the pages of grid affairs: scope, gates, paging."""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, request
from flask_login import current_user
from sqlalchemy import and_, exists, select, true
from sqlalchemy.orm import joinedload

from core import clock
from core.extensions import db
from core.models import GridNode, ModuleSetting, subtree
from core.modules import is_enabled
from core.security import in_scope, scope_filter, scope_paths
from core.web import community_of, current_community_id, paginate

from .. import services as S
from ..models import (
    GroupTag,
    GroupType,
    House,
    Resident,
    Visit,
)

HOUSE_PLACE = joinedload(House.node).joinedload(GridNode.parent)
MODULE = "affairs"


def today() -> dt.date:
    return clock.today()


# --- Scope --------------------------------------------------------------------------


def _module_cond():
    """Rows of communities where the module is on (the others' data stays, unseen)."""
    rows = db.session.execute(
        select(ModuleSetting.community_id, ModuleSetting.enabled).where(ModuleSetting.module == MODULE)
    ).all()
    default = next((e for c, e in rows if c is None), True)
    if default:
        off = [c for c, e in rows if c is not None and not e]
        return GridNode.community_id.notin_(off) if off else true()
    on = [c for c, e in rows if c is not None and e]
    return GridNode.community_id.in_(on or [-1])


def scope(action="affairs.view", walk=False):
    """Rows joined to GridNode: in the user's scope, in the community chosen, module on.

    walk=True writes the same condition so that no index serves it (path || ''):
    for a scope that holds much of the district, the planner then reads a list
    along the index of its ORDER BY and filters, instead of sorting the scope."""
    path = GridNode.path.concat("") if walk else GridNode.path
    cond = and_(scope_filter(path, action), _module_cond())
    cid = current_community_id()
    if cid:
        cond = and_(cond, (GridNode.community_id + 0 if walk else GridNode.community_id) == cid)
    return cond


def _subtree(node: GridNode, walk=False):
    return subtree(GridNode.path.concat("") if walk else GridNode.path, node.path)


# A list whose scope holds at least this share of the district is read along
# its ORDER BY index (see scope(walk=True)); a smaller one is sorted (it is small).
WALK_SHARE = 0.05


def _listed_totals(node: GridNode | None) -> dict[str, int]:
    return S.node_totals([node.id]) if node is not None else _scope_totals()


def _district_totals() -> dict[str, int]:
    roots = list(db.session.scalars(select(GridNode.id).where(GridNode.parent_id.is_(None))))
    return S.node_totals(roots)


def _share(listed: dict, key) -> float:
    def pick(t):
        return sum(v for k, v in t.items() if k.startswith(key)) if key.endswith(":") else t.get(key, 0)

    everything = pick(_district_totals())
    return pick(listed) / everything if everything else 0.0


def _long_page(stmt, id_column, total=None, scalars=True, options=()):
    """A page of one of the module's long lists: the total from the maintained
    totals when known, else counted at most three pages ahead."""
    per_page = current_app.config["PER_PAGE"]
    return paginate(stmt, scalars=scalars, options=options, total=total,
                    ahead=3 * per_page, count_column=id_column)


def _gate(node: GridNode, action="affairs.view") -> GridNode:
    """404 for objects outside scope or in a community where the module is off."""
    if node is None or not in_scope(node, action) or not is_enabled(MODULE, community_of(node)):
        abort(404)
    return node


def _resident_or_404(resident_id: int, action="affairs.view") -> Resident:
    r = db.session.get(Resident, resident_id, options=[joinedload(Resident.house).options(HOUSE_PLACE)])
    if r is None:
        abort(404)
    _gate(db.session.get(GridNode, r.node_id), action)
    return r


def _house_or_404(house_id: int, action="affairs.view") -> House:
    h = db.session.get(House, house_id, options=[HOUSE_PLACE])
    if h is None:
        abort(404)
    _gate(h.node, action)
    return h


def _node_arg():
    raw = request.args.get("node", "")
    if raw.isdigit():
        return _gate(db.session.get(GridNode, int(raw)))
    return None


def _house_nodes(limit=400):
    """Buildings and zones the user may put houses in (for the datalist)."""
    return db.session.execute(
        select(GridNode.code, GridNode.name, GridNode.level)
        .where(GridNode.level.in_(("building", "zone")), scope("affairs.edit"))
        .order_by(GridNode.path)
        .limit(limit)
    ).all()


def _field_error(form, exc: S.AffairsError):
    field = getattr(form, exc.field or "", None)
    if field is not None:
        field.errors = list(field.errors) + [str(exc)]
    else:
        flash(str(exc), "error")


# --- Index ----------------------------------------------------------------------------


def _scope_totals() -> dict[str, int]:
    """The maintained totals of what scope() covers: the user's subtrees (or the
    community chosen), less the communities where the module is off."""
    cid = current_community_id()
    roots = db.session.execute(
        select(GridNode.id, GridNode.path, GridNode.level, GridNode.community_id)
        .where(GridNode.path.in_(scope_paths("affairs.view")))
    ).all()
    if cid:
        community = db.session.get(GridNode, cid)
        if community is None:
            return {}
        roots = [r for r in roots if r.path.startswith(community.path)] or (
            [(community.id, community.path, community.level, community.id)]
            if any(community.path.startswith(r.path) for r in roots) else []
        )
    settings = dict(db.session.execute(
        select(ModuleSetting.community_id, ModuleSetting.enabled).where(ModuleSetting.module == MODULE)
    ).all())
    default = settings.pop(None, True)
    ids, minus = [], []
    for nid, path, level, node_cid in roots:
        if level == "district":
            # Communities of the district where the module is off are left out.
            flip = [c for c, e in settings.items() if e != default]
            under = list(db.session.scalars(
                select(GridNode.id).where(GridNode.id.in_(flip), subtree(GridNode.path, path))
            )) if flip else []
            if default:
                ids.append(nid)
                minus += under
            else:
                ids += under
        elif settings.get(nid if level == "community" else node_cid, default):
            ids.append(nid)
    total = S.node_totals(ids)
    for k, v in S.node_totals(minus).items():
        total[k] = total.get(k, 0) - v
    return total


def _groups():
    S.ensure_group_types()
    return list(db.session.scalars(select(GroupType).where(GroupType.active.is_(True)).order_by(GroupType.sort_order, GroupType.id)))


_TAG_PLACE = joinedload(GroupTag.resident).joinedload(Resident.house).joinedload(House.node).joinedload(GridNode.parent)


def _compliance_node_for(action):
    """The community chosen in the header when the user sees all of it, else
    the user's first subtree root."""
    cid = current_community_id()
    if cid:
        node = db.session.get(GridNode, cid)
        if node is not None and in_scope(node, action):
            return _gate(node, action)
    paths = scope_paths(action)
    if not paths:
        abort(404)
    return _gate(db.session.get(GridNode, int(paths[0].strip("/").split("/")[-1])), action)


def _visits_stmt(walk=False):
    # walk: a large scope, read along ix_affairs_visit_date with its grid checked
    # by a correlated EXISTS (a join made SQLite filter over every grid node).
    base = (
        select(Visit).where(exists().where(GridNode.id == Visit.node_id, scope(walk=True))) if walk
        else select(Visit).join(GridNode, GridNode.id == Visit.node_id).where(scope())
    )
    stmt = (
        base
        .options(joinedload(Visit.worker), joinedload(Visit.resident),
                 joinedload(Visit.house).joinedload(House.node).joinedload(GridNode.parent))
        .order_by(Visit.visit_date.desc(), Visit.id.desc())
    )
    if request.args.get("mine") == "1":
        stmt = stmt.where(Visit.worker_id == current_user.id)
    finding = request.args.get("finding", "")
    if finding in ("none", "opinion", "request", "problem"):
        stmt = stmt.where(Visit.finding == finding)
    return stmt, finding


def _week_arg():
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


def _compliance_node():
    raw = request.args.get("node", "")
    if raw.isdigit():
        return _gate(db.session.get(GridNode, int(raw)), "affairs.compliance")
    return _compliance_node_for("affairs.compliance")
