"""Rules of the grid tree, organisations and staffing. Plain functions over
the session; no request in here, so views, the CLI, the demo and the tests
share them.

The tree keeps three things right on every change:
- `path` ("/1/5/23/") so that a subtree is one index range (see models.subtree);
- `community_id`, so that module switches are cheap to look up;
- the maintained totals n_communities/n_estates/n_buildings/n_zones of every
  ancestor, so that no page ever counts a subtree.
"""

from __future__ import annotations

from collections import defaultdict

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select, text, update
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    LEVELS,
    CommitteeMember,
    GridNode,
    GridPost,
    Organisation,
    subtree,
    utcnow,
)

COUNT_COLUMN = {
    "community": "n_communities",
    "estate": "n_estates",
    "building": "n_buildings",
    "zone": "n_zones",
}

# The grid code scheme (docs/grid-codes.md): the county-level division code of
# GB/T 2260 (340221 for Wanzhi), then a fixed-width sequence number per level.
DISTRICT_CODE = "340221"
CODE_DIGITS = {"community": 3, "estate": 3, "building": 3, "zone": 3}


class TreeError(ValueError):
    """A tree change the rules refuse; str() is the user's message."""


# --- levels ------------------------------------------------------------------


def child_level(level: str) -> str | None:
    i = LEVELS.index(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def parent_level(level: str) -> str | None:
    i = LEVELS.index(level)
    return LEVELS[i - 1] if i > 0 else None


def check_level(parent: GridNode | None, level: str) -> None:
    if level not in LEVELS:
        raise TreeError(_("Unknown level %(level)s.", level=level))
    if parent is None:
        if level != "district":
            raise TreeError(_("Only a district can be the root of the tree."))
        return
    expected = child_level(parent.level)
    if level != expected:
        raise TreeError(
            _(
                "A %(level)s cannot sit under a %(parent)s.",
                level=level_title(level),
                parent=level_title(parent.level),
            )
        )


LEVEL_TITLES = {
    "district": _l("district"),
    "community": _l("community"),
    "estate": _l("estate"),
    "building": _l("building"),
    "zone": _l("zone"),
}


def level_title(level: str) -> str:
    title = LEVEL_TITLES.get(level)
    return str(title) if title is not None else level


def party_org_title(level: str) -> str:
    """What the Party organisation of a level is called."""
    titles = {
        "district": _("District Party committee"),
        "community": _("Community Party committee"),
        "estate": _("Estate Party branch"),
        "building": _("Building Party group"),
        "zone": _("Responsible Party member"),
    }
    return titles.get(level, "")


# --- totals ------------------------------------------------------------------


def own_counts(node: GridNode) -> dict[str, int]:
    """The totals a node contributes to each ancestor: itself plus its subtree."""
    out = {col: getattr(node, col) or 0 for col in COUNT_COLUMN.values()}
    col = COUNT_COLUMN.get(node.level)
    if col:
        out[col] += 1
    return out


def _adjust_totals(ancestor_ids: list[int], deltas: dict[str, int], sign: int = 1) -> None:
    values = {col: getattr(GridNode, col) + sign * n for col, n in deltas.items() if n}
    if not ancestor_ids or not values:
        return
    db.session.execute(
        update(GridNode).where(GridNode.id.in_(ancestor_ids)).values(values),
        execution_options={"synchronize_session": False},
    )
    # Keep loaded objects honest after the set-based update.
    for obj in db.session.identity_map.values():
        if isinstance(obj, GridNode) and obj.id in ancestor_ids:
            db.session.expire(obj, list(values))


def _adjust_counts(ancestor_ids: list[int], level: str, delta: int) -> None:
    col = COUNT_COLUMN.get(level)
    if col:
        _adjust_totals(ancestor_ids, {col: 1}, sign=delta)


def recompute_counts(root: GridNode | None = None) -> None:
    """Rebuild the maintained totals of `root`'s subtree (everything when None)
    with one set-based UPDATE per level: a repair tool and the import's check."""
    child = aliased(GridNode)
    for level, col in COUNT_COLUMN.items():
        counted = (
            select(func.count(child.id))
            .where(
                child.level == level,
                child.path > GridNode.path,
                child.path < GridNode.path + literal("~"),
            )
            .correlate(GridNode)
            .scalar_subquery()
        )
        stmt = update(GridNode).values({col: counted})
        if root is not None:
            stmt = stmt.where(subtree(GridNode.path, root.path))
        db.session.execute(stmt, execution_options={"synchronize_session": False})
    db.session.expire_all()


# --- codes -------------------------------------------------------------------


def code_taken(code: str, exclude_id: int | None = None) -> bool:
    stmt = select(GridNode.id).where(GridNode.code == code)
    if exclude_id is not None:
        stmt = stmt.where(GridNode.id != exclude_id)
    return db.session.scalar(stmt) is not None


def child_code(parent_code: str, level: str, seq: int) -> str:
    return f"{parent_code}{seq:0{CODE_DIGITS[level]}d}"


def suggest_code(parent: GridNode) -> str:
    """The next free code under `parent` by the scheme of docs/grid-codes.md."""
    level = child_level(parent.level)
    if level is None:
        return ""
    width = CODE_DIGITS[level]
    want = len(parent.code) + width
    codes = db.session.scalars(
        select(GridNode.code).where(
            GridNode.parent_id == parent.id, func.length(GridNode.code) == want
        )
    ).all()
    seqs = [int(c[len(parent.code):]) for c in codes if c.startswith(parent.code) and c[len(parent.code):].isdigit()]
    seq = max(seqs, default=0) + 1
    candidate = child_code(parent.code, level, seq)
    while code_taken(candidate):
        seq += 1
        candidate = child_code(parent.code, level, seq)
    return candidate


# --- create, edit, move, delete ----------------------------------------------

EDITABLE = ("name", "code", "sort_order", "address", "party_org", "party_leader", "party_leader_phone", "property_company_id")


def _validate_fields(fields: dict, exclude_id: int | None = None) -> None:
    if "name" in fields and not (fields["name"] or "").strip():
        raise TreeError(_("Give the grid a name."))
    if "code" in fields:
        code = (fields["code"] or "").strip()
        if not code:
            raise TreeError(_("Give the grid a code."))
        if code_taken(code, exclude_id):
            raise TreeError(_("The code %(code)s is used by another grid.", code=code))


def create_node(
    parent: GridNode | None,
    level: str,
    name: str,
    code: str,
    sort_order: int = 0,
    **fields,
) -> GridNode:
    """Add a node under `parent`, keeping path, community and totals right."""
    check_level(parent, level)
    _validate_fields({"name": name, "code": code})
    node = GridNode(
        parent_id=parent.id if parent else None,
        level=level,
        name=name.strip(),
        code=code.strip(),
        sort_order=sort_order,
        depth=LEVELS.index(level),
        path="",
        **fields,
    )
    db.session.add(node)
    db.session.flush()
    node.path = f"{parent.path if parent else '/'}{node.id}/"
    if level == "community":
        node.community_id = node.id
    elif parent is not None:
        node.community_id = parent.community_id
    if parent is not None:
        _adjust_counts(node.ancestor_ids()[:-1], level, 1)
    db.session.flush()
    return node


def update_node(node: GridNode, **fields) -> list[str]:
    """Change a node's own fields; return the names of the fields that changed."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TreeError(_("These fields cannot be changed here: %(f)s.", f=", ".join(sorted(unknown))))
    _validate_fields(fields, exclude_id=node.id)
    if "property_company_id" in fields and fields["property_company_id"]:
        if node.level != "estate":
            raise TreeError(_("Only an estate has a property company."))
        org = db.session.get(Organisation, fields["property_company_id"])
        if org is None or org.kind != "property_company":
            raise TreeError(_("Choose a property company."))
    changed = []
    for key, value in fields.items():
        if isinstance(value, str):
            value = value.strip() or None if key not in ("name", "code") else value.strip()
        if getattr(node, key) != value:
            setattr(node, key, value)
            changed.append(key)
    db.session.flush()
    return changed


def move_node(node: GridNode, new_parent: GridNode) -> None:
    """Put `node` and its whole subtree under `new_parent`.

    Paths, community and totals change with a few set-based statements,
    whatever the size of the subtree.
    """
    if node.parent_id is None:
        raise TreeError(_("The district cannot be moved."))
    if new_parent.id == node.parent_id:
        raise TreeError(_("The grid is already there."))
    if new_parent.path.startswith(node.path):
        raise TreeError(_("A grid cannot move under itself."))
    check_level(new_parent, node.level)
    old_path = node.path
    new_path = f"{new_parent.path}{node.id}/"
    old_ancestors = node.ancestor_ids()[:-1]
    new_ancestors = [int(p) for p in new_parent.path.strip("/").split("/") if p]
    deltas = own_counts(node)
    values = {
        "path": literal(new_path) + func.substr(GridNode.path, len(old_path) + 1),
    }
    if node.level != "community":
        new_community = new_parent.id if new_parent.level == "community" else new_parent.community_id
        values["community_id"] = new_community
    db.session.execute(
        update(GridNode).where(subtree(GridNode.path, old_path)).values(values),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        update(GridNode).where(GridNode.id == node.id).values(parent_id=new_parent.id),
        execution_options={"synchronize_session": False},
    )
    _adjust_totals(old_ancestors, deltas, sign=-1)
    _adjust_totals(new_ancestors, deltas, sign=1)
    db.session.flush()
    from flask import current_app

    # Modules keep copies of paths and totals per node: let them follow.
    current_app.extensions["wangge"].pm.hook.wangge_node_moved(
        node_id=node.id, old_path=old_path, new_path=new_path
    )
    db.session.expire_all()


def node_holders(node: GridNode, pm) -> list[tuple[str, int]]:
    """What still holds this node: module data (every module is asked) and
    the core's own records."""
    holders: list[tuple[str, int]] = []
    for answer in pm.hook.wangge_node_holders(node_ids=[node.id]):
        for label, count in answer or []:
            if count:
                holders.append((str(label), int(count)))
    seats = db.session.scalar(
        select(func.count()).select_from(CommitteeMember).where(CommitteeMember.community_id == node.id)
    )
    if seats:
        holders.append((_("co-building committee seats"), seats))
    return holders


def delete_node(node: GridNode, pm) -> None:
    """Delete a leaf node that holds no data; refuse naming what holds it."""
    if node.parent_id is None:
        raise TreeError(_("The district cannot be deleted."))
    children = db.session.scalar(select(func.count()).select_from(GridNode).where(GridNode.parent_id == node.id))
    if children:
        raise TreeError(
            _("%(name)s cannot be deleted: it has %(n)s grids beneath it. Move or delete them first.", name=node.name, n=children)
        )
    holders = node_holders(node, pm)
    if holders:
        what = ", ".join(f"{n} {label}" for label, n in holders)
        raise TreeError(_("%(name)s cannot be deleted: it still holds %(what)s.", name=node.name, what=what))
    ancestors = node.ancestor_ids()[:-1]
    level = node.level
    # An empty post row (no A, no B) is not data; it goes with the node.
    db.session.execute(
        GridPost.__table__.delete().where(GridPost.node_id == node.id)
    )
    db.session.delete(node)
    db.session.flush()
    _adjust_counts(ancestors, level, -1)


# --- reading -----------------------------------------------------------------


def ancestors_of(node: GridNode) -> list[GridNode]:
    """The node's ancestors, root first (one query)."""
    ids = node.ancestor_ids()[:-1]
    if not ids:
        return []
    rows = {n.id: n for n in db.session.scalars(select(GridNode).where(GridNode.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def children_stmt(node: GridNode):
    return (
        select(GridNode)
        .where(GridNode.parent_id == node.id)
        .order_by(GridNode.sort_order, GridNode.id)
    )


def descendants_condition(node: GridNode, include_self: bool = False):
    return subtree(GridNode.path, node.path, include_self=include_self)


# Buildings and zones are named "3栋", "2单元": searching them by name finds
# thousands of rows that mean nothing without their estate, so they are found
# by code (an index range) or under their estate. Names are searched among
# communities and estates, reached through the parent index.
NAME_SEARCH_LEVELS = ("district", "community", "estate")


def search_nodes(q: str, scope_condition, limit: int = 20) -> list[GridNode]:
    """Nodes whose code starts with `q` or (communities, estates) whose name contains it."""
    q = (q or "").strip()
    if not q:
        return []
    found: dict[int, GridNode] = {}
    if q.isascii() and q.replace("-", "").isalnum():
        stmt = (
            select(GridNode)
            .where(GridNode.code >= q, GridNode.code < q + "~", scope_condition)
            .order_by(GridNode.code)
            .limit(limit)
        )
        for n in db.session.scalars(stmt):
            found[n.id] = n
    if len(found) < limit:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        named = GridNode.name.like(like, escape="\\")
        top = select(GridNode.id).where(GridNode.parent_id.is_(None))
        # Communities first, then estates; each through the parent index, and
        # without ORDER BY so that SQL stops at the limit instead of reading
        # every estate (the few found are sorted here).
        communities = select(GridNode.id).where(GridNode.parent_id.in_(top))
        for parents in (top, communities):
            if len(found) >= limit:
                break
            stmt = select(GridNode).where(GridNode.parent_id.in_(parents), named, scope_condition).limit(limit - len(found))
            for n in sorted(db.session.scalars(stmt), key=lambda n: (n.depth, n.sort_order, n.id)):
                found.setdefault(n.id, n)
    return list(found.values())


def paths_names(nodes: list[GridNode]) -> dict[int, str]:
    """For each node, 'community › estate › …' of its ancestors below the district (one query)."""
    ids = {i for n in nodes for i in n.ancestor_ids()[1:-1]}
    names = {}
    if ids:
        names = dict(db.session.execute(select(GridNode.id, GridNode.name).where(GridNode.id.in_(ids))).all())
    return {n.id: " › ".join(names.get(i, "?") for i in n.ancestor_ids()[1:-1]) for n in nodes}


# --- bulk building (demo, import) ---------------------------------------------


def next_ids(n: int) -> list[int]:
    start = (db.session.scalar(select(func.max(GridNode.id))) or 0) + 1
    return list(range(start, start + n))


def fix_sequence(table: str = "grid_node") -> None:
    """After inserting explicit ids on PostgreSQL, move the id sequence past them."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))")
        )


OPTIONAL_DEFAULTS = {
    "sort_order": 0, "address": None, "party_org": None, "party_leader": None,
    "party_leader_phone": None, "property_company_id": None,
}


def bulk_insert_nodes(rows: list[dict], chunk: int = 5000) -> None:
    """Insert many nodes at once.

    Each row has `id` (pre-assigned, see next_ids), `parent_id`, `level`,
    `name`, `code` and optional fields; parents come before their children.
    Paths, depth, community and every total (of the new nodes and of their
    existing ancestors) are computed here in Python: no flush per row.
    """
    if not rows:
        return
    new_ids = {r["id"] for r in rows}
    now = utcnow()
    known: dict[int, tuple[str, int | None, str]] = {}
    outside = {r["parent_id"] for r in rows if r.get("parent_id") is not None and r["parent_id"] not in new_ids}
    if outside:
        for nid, path, cid, level in db.session.execute(
            select(GridNode.id, GridNode.path, GridNode.community_id, GridNode.level).where(GridNode.id.in_(outside))
        ):
            known[nid] = (path, cid, level)
    totals: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        pid = r.get("parent_id")
        if pid is None:
            r["path"] = f"/{r['id']}/"
            r["community_id"] = None
        else:
            ppath, pcid, plevel = known[pid]
            if child_level(plevel) != r["level"]:
                raise TreeError(_("A %(level)s cannot sit under a %(parent)s.", level=level_title(r["level"]), parent=level_title(plevel)))
            r["path"] = f"{ppath}{r['id']}/"
            r["community_id"] = r["id"] if r["level"] == "community" else pcid
        r["depth"] = LEVELS.index(r["level"])
        for key, default in OPTIONAL_DEFAULTS.items():
            r.setdefault(key, default)
        r.setdefault("created_at", now)
        known[r["id"]] = (r["path"], r["community_id"], r["level"])
        col = COUNT_COLUMN.get(r["level"])
        if col:
            for aid in [int(p) for p in r["path"].strip("/").split("/")][:-1]:
                totals[aid][col] += 1
    for r in rows:
        for col in COUNT_COLUMN.values():
            r[col] = totals.get(r["id"], {}).get(col, 0)
    table = GridNode.__table__
    for i in range(0, len(rows), chunk):
        db.session.execute(table.insert(), rows[i:i + chunk])
    for aid, deltas in totals.items():
        if aid not in new_ids:
            _adjust_totals([aid], dict(deltas))
    fix_sequence()


# Staffing lives in coverage.py; its names stay importable from here.
from .coverage import (  # noqa: E402, F401
    Coverage,
    add_leave,
    community_coverage,
    coverage,
    leaves_on,
    post_for,
    posts_stmt,
    set_post,
    uncovered,
    worker_candidates,
    workers_condition,
)
