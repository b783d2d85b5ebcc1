"""The index page, the problem lists, the ledger and their Excel exports."""


from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.extensions import db
from core.security import can, requires
from core.web import render

from .. import exports, queries
from ..models import (
    AssignmentSheet,
    Extension,
    Problem,
)
from . import bp
from .common import (
    _filters,
    _list_context,
    _locale,
    _page,
)


@bp.route("/")
@requires("inquiry.view")
def index():
    pending_ext = db.session.scalar(select(func.count()).select_from(
        queries.problems(select(Problem.id).join(Extension, Extension.problem_id == Problem.id)
                         .where(Extension.state == "pending")).subquery()))
    drafts = list(db.session.scalars(queries.sheets(select(AssignmentSheet).where(AssignmentSheet.state == "draft"))
                                      .order_by(AssignmentSheet.number)))
    return render("inquiry/index.html", counts=queries.index_counts(), pending_ext=pending_ext,
                  figures=queries.headline_figures(), drafts=drafts)


@bp.route("/problems")
@requires("inquiry.view")
def problems():
    f = _filters()
    page = _page(queries.list_stmt(f))
    return render("inquiry/problems.html", block="results", page=page, title=_("Problem list"),
                  places=queries.place_labels(page.items), endpoint="inquiry.problems", xlsx="inquiry.problems_xlsx",
                  **_list_context(f))


@bp.route("/overdue")
@requires("inquiry.view")
def overdue():
    f = _filters()
    f.overdue = True
    page = _page(queries.filter_problems(queries.problems(), f).order_by(Problem.deadline, Problem.id))
    return render("inquiry/problems.html", block="results", page=page, title=_("Overdue problems"),
                  places=queries.place_labels(page.items), endpoint="inquiry.overdue", xlsx="inquiry.problems_xlsx",
                  **_list_context(f))


@bp.route("/ledger")
@requires("inquiry.view")
def ledger():
    f = _filters()
    page = _page(queries.list_stmt(f, ledger=True))
    return render("inquiry/problems.html", block="results", page=page, title=_("Public-opinion ledger"),
                  places=queries.place_labels(page.items), endpoint="inquiry.ledger", xlsx="inquiry.ledger_xlsx",
                  ledger=True, **_list_context(f))


@bp.route("/problems.xlsx")
@requires("inquiry.export")
def problems_xlsx():
    return exports.problems_xlsx(queries.list_stmt(_filters()), _("problem-list") + ".xlsx",
                                 full_contact=can("inquiry.contact"), locale=_locale())


@bp.route("/ledger.xlsx")
@requires("inquiry.export")
def ledger_xlsx():
    return exports.problems_xlsx(queries.list_stmt(_filters(), ledger=True), _("opinion-ledger") + ".xlsx",
                                 full_contact=can("inquiry.contact"), locale=_locale())
