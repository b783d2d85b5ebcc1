"""The special-group list and who is due for a visit."""

from __future__ import annotations

from flask import request
from sqlalchemy import exists, select

from core.extensions import db
from core.models import GridNode, subtree
from core.security import requires
from core.web import render

from .. import queries as Q
from .. import services as S
from ..models import (
    GroupTag,
    Resident,
)
from . import bp
from .common import long_page, node_arg, today


@bp.route("/groups")
@requires("affairs.view")
def groups():
    node = node_arg()
    groups = Q.active_groups()
    group_id = request.args.get("group", type=int)
    due_only = request.args.get("due") == "1"
    d = today()
    walk = Q.walks(Q.listed_totals(node), "group:")
    if due_only and walk:
        # Pages of residents due (each with their due periods), read along the last-visit index.
        ids_stmt = Q.due_residents_stmt(Q.scope(walk=True), d, node=node, group_id=group_id)
        page = long_page(ids_stmt, Resident.id)
        rows = Q.due_rows_of(list(page.items), d, options=[Q.TAG_PLACE])
        due_ids = {t.id for t, _x in rows}
        return render("affairs/groups.html", block="list", page=page, rows=rows, groups=groups, group_id=group_id,
                      due_only=due_only, due_ids=due_ids, node=node, today=d)
    if due_only:
        stmt = Q.due_stmt(Q.scope(), d, node=node)
        if group_id:
            stmt = stmt.where(GroupTag.group_type_id == group_id)
    elif walk:
        # A large scope is read along ix_affairs_group_tag_type_resident, each
        # period checked by a correlated EXISTS for its grid: a page of the
        # district is found without sorting (or filtering) the district.
        in_grid = [Resident.id == GroupTag.resident_id, GridNode.id == Resident.node_id, Q.scope(walk=True)]
        if node is not None:
            in_grid.append(Q.under(node, True))
        ids_stmt = (
            select(GroupTag.id)
            .where(S.active_tag_condition(d), exists().where(*in_grid))
            .order_by(GroupTag.group_type_id, GroupTag.resident_id)
        )
        if group_id:
            ids_stmt = ids_stmt.where(GroupTag.group_type_id == group_id)
        page = long_page(ids_stmt, GroupTag.id)
        order = {tid: i for i, tid in enumerate(page.items)}
        rows = sorted(
            db.session.execute(
                select(GroupTag, Q.last_visit_subquery().label("last_visit"))
                .join(Resident, Resident.id == GroupTag.resident_id)
                .where(GroupTag.id.in_(list(order) or [-1]))
                .options(Q.TAG_PLACE)
            ).all(),
            key=lambda r: order[r[0].id],
        )
        stmt = None
    else:
        last = Q.last_visit_subquery().label("last_visit")
        stmt = (
            select(GroupTag, last)
            .join(Resident, Resident.id == GroupTag.resident_id)
            .join(GridNode, GridNode.id == Resident.node_id)
            .where(Q.scope(), S.active_tag_condition(d))
            .order_by(GroupTag.group_type_id, GroupTag.resident_id)
        )
        if node is not None:
            stmt = stmt.where(subtree(GridNode.path, node.path))
        if group_id:
            stmt = stmt.where(GroupTag.group_type_id == group_id)
    if stmt is not None:
        page = long_page(stmt, GroupTag.id, scalars=False, options=[Q.TAG_PLACE])
        rows = [(t, last) for t, last in page.items]
    due_ids = set()
    if rows:
        due_ids = set(
            db.session.scalars(
                Q.due_stmt(Q.scope(), d).where(GroupTag.id.in_([t.id for t, _x in rows])).with_only_columns(GroupTag.id)
            )
        )
    return render("affairs/groups.html", block="list", page=page, rows=rows, groups=groups, group_id=group_id,
                  due_only=due_only, due_ids=due_ids, node=node, today=d)


