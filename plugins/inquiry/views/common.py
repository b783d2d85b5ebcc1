"""Helpers the pages share: scope, choices of the selects, the list filters and rows."""


from __future__ import annotations

import datetime as dt

from flask import abort, flash, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core import access
from core.extensions import db
from core.forms import DomainError, show_error
from core.models import GridNode, utcnow
from core.privacy import mask_name, mask_phone
from core.security import can, scope_paths
from core.web import current_community_id, paginate

from .. import queries
from .. import services as svc
from ..models import (
    CHANNELS,
    STATES,
    Problem,
)

PROBLEM_OPTIONS = (joinedload(Problem.category), joinedload(Problem.unit), joinedload(Problem.node),
                   joinedload(Problem.community))


def get_problem(problem_id, action: str | None = None) -> Problem:
    """The problem through the object gate: 404 out of scope (a handler: not
    its unit's) or where the module is off (never 403)."""
    return access.get_or_404(Problem, problem_id, action, options=PROBLEM_OPTIONS)


def is_unit_of(p: Problem) -> bool:
    return can("inquiry.handle") and bool(current_user.organisation_id) and p.unit_id == current_user.organisation_id


def _fail(exc: DomainError, form=None):
    """A rule refused: roll back and show the message next to its field
    (core.forms.show_error); it is flashed at the top as well, because the
    action forms sit far down the problem page."""
    db.session.rollback()
    show_error(form, exc)
    if form is not None and exc.field and getattr(form, exc.field, None) is not None:
        flash(str(exc), "error")


def sheet_home(problem: Problem | None = None) -> GridNode:
    """The node a new sheet of the current user belongs to: the district when
    the user triages district-wide, else the community (of `problem`, or the
    one chosen for the request); 404 when the user may not triage there or
    the module is off there."""
    district = db.session.scalar(select(GridNode).where(GridNode.level == "district").limit(1))
    if district is not None and can("inquiry.triage", district):
        node = district
    else:
        cid = problem.community_id if problem is not None else current_community_id()
        node = db.session.get(GridNode, cid) if cid else None
        if node is None:
            paths = [p for p in scope_paths("inquiry.triage") if p.count("/") == 3]
            node = db.session.scalar(select(GridNode).where(GridNode.path == paths[0])) if len(paths) == 1 else None
    if node is None:
        abort(404)
    return access.require_node(node, "inquiry.triage", "inquiry")


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
    return queries.open_communities() if public_only else queries.communities("inquiry.report")


def _children(parent_id, level, action: str | None = None):
    """(id, name) of the children of one level; with `action`, only those the
    user may act at with the module on."""
    if not parent_id:
        return []
    stmt = select(GridNode.id, GridNode.name).where(GridNode.parent_id == parent_id, GridNode.level == level)
    if action is not None:
        stmt = stmt.where(access.node_condition("inquiry", action))
    return list(db.session.execute(stmt.order_by(GridNode.sort_order, GridNode.id)).all())


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
    action = "inquiry.report" if with_lower else None
    form.estate.choices = _blank() + _children(form.community.data, "estate", action)
    if with_lower:
        form.building.choices = _blank() + _children(form.estate.data, "building", action)
        form.zone.choices = _blank() + _children(form.building.data, "zone", action)


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


def _list_context(f):
    return dict(
        f=f,
        states={k: str(v) for k, v in svc.STATE_TITLES.items()},
        channels={k: str(v) for k, v in svc.CHANNEL_TITLES.items()},
        categories=_categories(),
        unit_list=svc.units(),
        communities=queries.communities(),
        now=utcnow(),
        clock=svc.deadline_colour,
        mask_phone=mask_phone,
        mask_name=mask_name,
        loc=_locale(),
        category_title=svc.category_title,
    )


COUNT_CAP = 500


def _page(stmt):
    """A page of problems, counted at most COUNT_CAP rows ahead, so that a list
    over the whole district never counts 100,000 rows."""
    return paginate(stmt, options=ROW_OPTIONS, ahead=COUNT_CAP, count_column=Problem.id)


ROW_OPTIONS = (joinedload(Problem.category), joinedload(Problem.unit), joinedload(Problem.node),
               joinedload(Problem.community))
