"""The task list, the admission list and the grid checklists."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import access
from core.audit import record
from core.excel import XLSX_MIME, ImportFileError, read_rows, template_bytes
from core.extensions import db
from core.models import GridNode
from core.security import requires
from core.web import render

from .. import services as S
from ..forms import (
    AssignForm,
    ItemsImportForm,
)
from ..models import (
    AffairCategory,
    AffairItem,
    AffairTask,
)
from ..queries import MODULE
from . import bp
from .common import audit, home_node, node_arg, today


@bp.route("/items")
@requires("affairs.tasks")
def items():
    cats = list(
        db.session.scalars(select(AffairCategory).options(selectinload(AffairCategory.items)).order_by(AffairCategory.sort_order, AffairCategory.id))
    )
    n_items = sum(len(c.items) for c in cats)
    n_admitted = sum(1 for c in cats for i in c.items if i.admitted)
    return render("affairs/items.html", cats=cats, n_items=n_items, n_admitted=n_admitted, form=ItemsImportForm())


@bp.route("/items/<int:item_id>/admission", methods=["POST"])
@requires("affairs.tasks.manage")
def item_admission(item_id: int):
    item = db.session.get(AffairItem, item_id)
    if item is None:
        abort(404)
    item.admitted = request.form.get("admitted") == "1"
    record("affairs.item.admission", item, summary=f"{item.code} {item.name}: {item.admitted}")
    db.session.commit()
    return render("affairs/items.html", block="item_row", it=item)


@bp.route("/items/import", methods=["POST"])
@requires("affairs.tasks.manage")
def items_import():
    form = ItemsImportForm()
    f = form.file.data
    keys = [k for k, _x in S.ITEM_COLUMNS]
    labels = [str(lbl) for _k, lbl in S.ITEM_COLUMNS]
    try:
        if f is None:
            raise ImportFileError(_("Choose an .xlsx file."))
        rows = ((n, {keys[labels.index(k)]: v for k, v in row.items()}) for n, row in read_rows(f, labels))
        written, errors = S.import_items(rows)
    except ImportFileError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("affairs.items"))
    if errors:
        db.session.rollback()
        flash(_("Nothing was imported: %(n)s rows are wrong. The first: row %(row)s, %(col)s: %(reason)s",
                n=len(errors), row=errors[0].row, col=errors[0].column, reason=errors[0].reason), "error")
    else:
        record("affairs.items.import", object_type="affairs_item", summary=f"{written} items")
        db.session.commit()
        flash(_("%(n)s items imported.", n=written), "success")
    return redirect(url_for("affairs.items"))


@bp.route("/items/template.xlsx")
@requires("affairs.tasks.manage")
def items_template():
    data = template_bytes([str(lbl) for _k, lbl in S.ITEM_COLUMNS],
                          ["01", "综治维稳", "01-001", "矛盾纠纷排查", "网格员", "每月排查一次", "estate,building", "是"])
    return Response(data, mimetype=XLSX_MIME, headers={"Content-Disposition": "attachment; filename=task-list-template.xlsx"})


@bp.route("/checklist")
@requires("affairs.tasks")
def checklist():
    node = node_arg("affairs.tasks") or home_node("affairs.tasks")
    period = request.args.get("period") or S.current_period(today())
    try:
        period = S.check_period(period)
    except S.AffairsError:
        period = S.current_period(today())
    tasks = list(
        db.session.scalars(
            select(AffairTask).where(AffairTask.node_id == node.id, AffairTask.period == period)
            .join(AffairItem).order_by(AffairItem.sort_order, AffairItem.id)
        )
    )
    form = AssignForm(period=period)
    form.item_id.choices = [(i.id, f"{i.code} {i.name}") for i in db.session.scalars(
        select(AffairItem).where(AffairItem.admitted.is_(True)).order_by(AffairItem.sort_order, AffairItem.id))]
    done = sum(1 for t in tasks if t.status == "done")
    children = list(db.session.scalars(select(GridNode).where(GridNode.parent_id == node.id).order_by(GridNode.sort_order, GridNode.id).limit(200)))
    return render("affairs/checklist.html", node=node, period=period, tasks=tasks, form=form, done=done, children=children)


@bp.route("/checklist/<int:node_id>/assign", methods=["POST"])
@requires("affairs.tasks.assign")
def checklist_assign(node_id: int):
    node = access.require_node(node_id, "affairs.tasks.assign", MODULE)
    form = AssignForm()
    item = db.session.get(AffairItem, form.item_id.data) if form.item_id.data else None
    try:
        task = S.assign_item(item, node, form.period.data, current_user.id)
    except S.AffairsError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("affairs.checklist", node=node.id, period=form.period.data or ""))
    audit("affairs.task.assign", task, summary=f"{task.item.code} → {node.code} {task.period}")
    db.session.commit()
    flash(_("“%(name)s” is on the checklist of %(node)s for %(period)s.", name=task.item.name, node=node.name, period=task.period), "success")
    return redirect(url_for("affairs.checklist", node=node.id, period=task.period))


@bp.route("/tasks/<int:task_id>/status", methods=["POST"])
@requires("affairs.tasks")
def task_status(task_id: int):
    task = access.get_or_404(AffairTask, task_id, "affairs.tasks")
    status = request.form.get("status")
    if S.set_task_status(task, status, current_user.id):
        audit("affairs.task.status", task, summary=f"{task.item.code} {status}")
        db.session.commit()
    return render("affairs/checklist.html", block="task_row", t=task)


