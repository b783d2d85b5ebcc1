"""Helpers the pages share: scope, choices of the selects, the list filters and rows."""


from __future__ import annotations

import datetime as dt

from flask import abort, flash, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from core import ModuleOff
from core.extensions import db
from core.models import GridNode, Organisation, utcnow
from core.modules import is_enabled
from core.privacy import mask_name, mask_phone
from core.security import can, scope_paths
from core.web import paginate

from .. import queries
from .. import services as svc
from ..models import (
    CHANNELS,
    STATES,
    AssignmentSheet,
    Category,
    Problem,
)

HANDLER_STATES = ("issued", "claimed", "reported", "closed")


# --- Scope -------------------------------------------------------------------------


def _staff_paths() -> list[str] | None:
    """Subtree roots the user sees problems in; None: the whole district."""
    paths = scope_paths("inquiry.view")
    if any(p.count("/") == 2 for p in paths):
        return None
    return paths


def _is_handler() -> bool:
    return can("inquiry.handle") and bool(current_user.organisation_id)


def scoped(stmt):
    """Restrict a select of problems to what the current user may see."""
    if can("inquiry.view"):
        cond = queries.scope_condition(_staff_paths() or [], _staff_paths() is None)
        return stmt if cond is None else stmt.where(cond)
    if _is_handler():
        return stmt.where(Problem.unit_id == current_user.organisation_id, Problem.state.in_(HANDLER_STATES))
    return stmt.where(Problem.id.is_(None))


def _community_ids() -> list[int] | None:
    paths = _staff_paths()
    if paths is None:
        return None
    ids = set()
    for p in paths:
        parts = [int(x) for x in p.strip("/").split("/") if x]
        if len(parts) >= 2:
            ids.add(parts[1])
    return sorted(ids)


def get_problem(problem_id: int) -> Problem:
    """The problem if the user may see it; 404 otherwise (never 403)."""
    stmt = scoped(select(Problem).where(Problem.id == problem_id)).options(
        joinedload(Problem.category), joinedload(Problem.unit), joinedload(Problem.node), joinedload(Problem.community)
    )
    problem = db.session.scalars(stmt).first()
    if problem is None:
        abort(404)
    if problem.community_id and not is_enabled("inquiry", problem.community_id):
        raise ModuleOff(_("Square Inquiry"), problem.community.name if problem.community else "")
    return problem


def _fail(exc: svc.InquiryError, form=None):
    db.session.rollback()
    if form is not None and exc.field and exc.field in form._fields:
        form[exc.field].errors = list(form[exc.field].errors or []) + [str(exc)]
    flash(str(exc), "error")


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _categories():
    return svc.ensure_categories()


def _category_choices(blank=True):
    loc = _locale()
    choices = [(None, _("— choose —"))] if blank else []
    return choices + [(c.id, svc.category_title(c, loc)) for c in _categories() if c.active]


def _unit_choices():
    depts = _("Department")
    props = _("Property company")
    return [(None, _("— choose —"))] + [
        (o.id, f"{o.name} ({depts if o.kind == 'department' else props})") for o in svc.units()
    ]


def _communities(public_only=False):
    stmt = select(GridNode).where(GridNode.level == "community").order_by(GridNode.sort_order, GridNode.id)
    rows = list(db.session.scalars(stmt))
    if public_only:
        rows = [c for c in rows if is_enabled("inquiry", c.id)]
    else:
        paths = scope_paths("inquiry.report")
        rows = [c for c in rows if any(c.path.startswith(p) or p.startswith(c.path) for p in paths)]
    return rows


def _children(parent_id, level):
    if not parent_id:
        return []
    return list(db.session.execute(
        select(GridNode.id, GridNode.name).where(GridNode.parent_id == parent_id, GridNode.level == level)
        .order_by(GridNode.sort_order, GridNode.id)
    ).all())


def _blank(label=None):
    return [(None, label or _("— any —"))]


def _fill_location(form, with_lower=True, preset: GridNode | None = None):
    """Choices of the cascading location selects (community → estate → building → zone)."""
    if preset is not None and request.method == "GET":
        ids = preset.ancestor_ids()
        names = ["community", "estate", "building", "zone"]
        for i, name in enumerate(names):
            if name in form._fields and len(ids) > i + 1:
                form[name].data = ids[i + 1]
    comms = _communities(public_only=not with_lower)
    form.community.choices = _blank(_("— choose —")) + [(c.id, c.name) for c in comms]
    form.estate.choices = _blank() + _children(form.community.data, "estate")
    if with_lower:
        form.building.choices = _blank() + _children(form.estate.data, "building")
        form.zone.choices = _blank() + _children(form.building.data, "zone")


def _chosen_node(form, with_lower=True) -> GridNode | None:
    """The deepest chosen node, checked to lie under the chosen parents."""
    names = ["community", "estate"] + (["building", "zone"] if with_lower else [])
    node = None
    for name in names:
        nid = form[name].data
        if not nid:
            break
        cand = db.session.get(GridNode, nid)
        if cand is None or (node is not None and cand.parent_id != node.id) or (node is None and cand.level != "community"):
            break
        node = cand
    return node


# --- Index, lists and ledgers ---------------------------------------------------------------


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(scoped(stmt).subquery())) or 0


def _seed_figures() -> dict:
    """The headline figures: sheets issued, units reached, property problems solved."""
    cids = _community_ids()
    sheets = db.session.scalar(select(func.count()).select_from(AssignmentSheet).where(AssignmentSheet.state == "issued")) or 0
    from ..models import MonthStat

    detail = svc.detail_rows(cids)
    stmt = select(Organisation.kind, func.count(func.distinct(MonthStat.unit_id))).join(
        Organisation, Organisation.id == MonthStat.unit_id).where(MonthStat.assigned > 0, detail)
    pm_stmt = select(func.sum(MonthStat.closed)).join(Category, Category.id == MonthStat.category_id).where(
        Category.property_management.is_(True), detail)
    all_closed = select(func.sum(MonthStat.closed)).where(detail)
    units = dict(db.session.execute(stmt.group_by(Organisation.kind)).all())
    return {
        "sheets": sheets,
        "departments": units.get("department", 0),
        "property_companies": units.get("property_company", 0),
        "property_solved": int(db.session.scalar(pm_stmt) or 0),
        "closed": int(db.session.scalar(all_closed) or 0),
    }


def _filters() -> queries.Filters:
    a = request.args

    def num(k):
        v = a.get(k, "")
        return int(v) if v.isdigit() else None

    def day(k):
        try:
            return dt.date.fromisoformat(a.get(k, ""))
        except ValueError:
            return None

    state = a.get("state", "")
    channel = a.get("channel", "")
    return queries.Filters(
        state=state if state in STATES or state == "open" else "",
        unit_id=num("unit"),
        community_id=num("community"),
        category_id=num("category"),
        channel=channel if channel in CHANNELS else "",
        overdue=a.get("overdue") == "1",
        supervised=a.get("supervised") == "1",
        start=day("start"),
        end=day("end"),
        q=a.get("q", "").strip()[:60],
    )


def _list_stmt(f: queries.Filters, ledger=False):
    stmt = select(Problem)
    if not ledger:
        stmt = stmt.where(Problem.state != "filed")
    stmt = queries.filter_problems(scoped(stmt), f)
    return stmt.order_by(Problem.created_at.desc(), Problem.id.desc())


def _list_context(f):
    return dict(
        f=f,
        states={k: str(v) for k, v in svc.STATE_TITLES.items()},
        channels={k: str(v) for k, v in svc.CHANNEL_TITLES.items()},
        categories=_categories(),
        unit_list=svc.units(),
        communities=[c for c in db.session.scalars(select(GridNode).where(GridNode.level == "community").order_by(GridNode.sort_order, GridNode.id))
                     if _community_ids() is None or c.id in _community_ids()],
        now=utcnow(),
        clock=svc.clock,
        mask_phone=mask_phone,
        mask_name=mask_name,
        loc=_locale(),
        category_title=svc.category_title,
    )


def place_labels(problems) -> dict[int, str]:
    """"Estate building zone" for each problem, from one query for the whole page."""
    ids = set()
    for p in problems:
        ids.update(int(x) for x in p.node_path.strip("/").split("/")[2:] if x)
    names = dict(db.session.execute(select(GridNode.id, GridNode.name).where(GridNode.id.in_(ids))).all()) if ids else {}
    out = {}
    for p in problems:
        parts = [names.get(int(x), "") for x in p.node_path.strip("/").split("/")[2:] if x]
        out[p.id] = " ".join(x for x in parts if x) or (p.community.name if p.community_id and p.community else "")
    return out


COUNT_CAP = 500


def _page(stmt):
    """A page of problems, counted at most COUNT_CAP rows ahead, so that a list
    over the whole district never counts 100,000 rows."""
    return paginate(stmt, options=ROW_OPTIONS, ahead=COUNT_CAP, count_column=Problem.id)


ROW_OPTIONS = (joinedload(Problem.category), joinedload(Problem.unit), joinedload(Problem.node),
               joinedload(Problem.community))
