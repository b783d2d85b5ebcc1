"""The task list (9 categories, 128 items), the admission list and grid checklists."""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.models import GridNode

from ..models import (
    TASK_STATUSES,
    AffairCategory,
    AffairItem,
    AffairTask,
)
from .common import AffairsError, label, parse_bool

# --- Task list and admission list ------------------------------------------------------------

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$")


def check_period(period: str) -> str:
    period = (period or "").strip().upper()
    if not PERIOD_RE.match(period):
        raise AffairsError(_("Write the period as a month (2026-11) or a quarter (2026-Q4)."), "period")
    return period


def assign_item(item: AffairItem | None, node: GridNode, period: str, user_id: int | None) -> AffairTask:
    """Push an item down to a grid for a period; only admitted items for the node's level."""
    if item is None:
        raise AffairsError(_("This matter is not on the task list."), "item_id")
    if not item.admitted:
        raise AffairsError(
            _("“%(name)s” is not on the admission list: it cannot be pushed down to grids.", name=item.name),
            "item_id",
        )
    if node.level not in item.level_list:
        raise AffairsError(
            _("“%(name)s” does not apply to the %(level)s level.", name=item.name, level=label(node.level)),
            "item_id",
        )
    period = check_period(period)
    task = db.session.scalar(
        select(AffairTask).where(AffairTask.item_id == item.id, AffairTask.node_id == node.id, AffairTask.period == period)
    )
    if task is not None:
        raise AffairsError(_("This item is on this grid's checklist for this period already."), "item_id")
    task = AffairTask(item_id=item.id, node_id=node.id, period=period, status="pending", assigned_by_id=user_id)
    db.session.add(task)
    db.session.flush()
    return task


def current_period(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"


ITEM_COLUMNS = (
    ("category_code", _l("Category code")),
    ("category", _l("Category")),
    ("code", _l("Item code")),
    ("name", _l("Item")),
    ("responsible_role", _l("Responsible role")),
    ("target", _l("Target")),
    ("levels", _l("Grid levels")),
    ("admitted", _l("On the admission list")),
)


def item_rows():
    stmt = select(AffairItem).join(AffairCategory).order_by(AffairCategory.sort_order, AffairItem.sort_order, AffairItem.id)
    for it in db.session.scalars(stmt):
        yield (
            it.category.code,
            it.category.name,
            it.code,
            it.name,
            it.responsible_role,
            it.target,
            ",".join(it.level_list),
            str(_("Yes")) if it.admitted else str(_("No")),
        )


def import_items(rows) -> tuple[int, list]:
    """Upsert the task list from (row number, {key: value}) rows; all or nothing.

    Returns (items written, errors); writes nothing when there are errors."""
    from core.excel import RowError

    errors, good = [], []
    for rownum, row in rows:
        code = str(row.get("code") or "").strip()
        cat_code = str(row.get("category_code") or "").strip()
        levels = [x.strip() for x in str(row.get("levels") or "").replace("，", ",").split(",") if x.strip()]
        bad = [x for x in levels if x not in ("community", "estate", "building", "zone")]
        if not code:
            errors.append(RowError(rownum, str(_("Item code")), _("Missing.")))
        if not cat_code:
            errors.append(RowError(rownum, str(_("Category code")), _("Missing.")))
        if not str(row.get("name") or "").strip():
            errors.append(RowError(rownum, str(_("Item")), _("Missing.")))
        if bad or not levels:
            errors.append(RowError(rownum, str(_("Grid levels")), _("Use community, estate, building or zone, separated by commas.")))
        good.append((code, cat_code, row, levels))
    if errors:
        return 0, errors
    cats = {c.code: c for c in db.session.scalars(select(AffairCategory))}
    items = {i.code: i for i in db.session.scalars(select(AffairItem))}
    for n, (code, cat_code, row, levels) in enumerate(good):
        cat = cats.get(cat_code)
        if cat is None:
            cat = AffairCategory(code=cat_code, name=str(row.get("category") or cat_code), sort_order=len(cats))
            db.session.add(cat)
            db.session.flush()
            cats[cat_code] = cat
        it = items.get(code) or AffairItem(code=code)
        if it.id is None:
            db.session.add(it)
        it.category_id = cat.id
        it.name = str(row.get("name")).strip()
        it.responsible_role = str(row.get("responsible_role") or "").strip()
        it.target = str(row.get("target") or "").strip()
        it.levels = ",".join(levels)
        it.admitted = parse_bool(row.get("admitted"), default=True)
        it.sort_order = n
    db.session.flush()
    return len(good), []


def set_task_status(task: AffairTask, status: str, user_id: int | None) -> bool:
    """Move a checklist item to a status; False (nothing changed) for an unknown one."""
    if status not in TASK_STATUSES:
        return False
    task.status = status
    task.updated_by_id = user_id
    return True
