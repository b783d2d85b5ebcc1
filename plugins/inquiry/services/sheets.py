"""Assignment sheets (问题交办单): numbered batches issued to the units."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from core import clock
from core.extensions import db
from core.models import GridNode, utcnow

from ..models import (
    AssignmentSheet,
    Problem,
)
from .deadlines import deadline_for, extra_days
from .stats import bump, month_key
from .workflow import InquiryError, transition

# --- Assignment sheets -------------------------------------------------------------------


def next_sheet_number() -> int:
    return (db.session.scalar(select(func.max(AssignmentSheet.number))) or 0) + 1


def district_node() -> GridNode:
    return db.session.scalar(select(GridNode).where(GridNode.level == "district").order_by(GridNode.id).limit(1))


def create_sheet(user, node: GridNode | None = None, note: str = "") -> AssignmentSheet:
    """A new draft sheet of `node` (the district, or one community; default
    the district). Numbers run through the district: 第 N 期."""
    node = node or district_node()
    if node is None or node.level not in ("district", "community"):
        raise InquiryError(_("A sheet belongs to the district or to one community."))
    for _attempt in range(5):
        sheet = AssignmentSheet(number=next_sheet_number(), state="draft", note=note, node_id=node.id,
                                created_by_id=getattr(user, "id", None))
        try:
            with db.session.begin_nested():
                db.session.add(sheet)
            return sheet
        except IntegrityError:
            continue
    raise InquiryError(_("Could not number the sheet; try again."))


def sheet_problems(sheet_id: int) -> list[Problem]:
    return list(db.session.scalars(select(Problem).where(Problem.sheet_id == sheet_id).order_by(Problem.unit_id, Problem.id)))


def _holds(sheet: AssignmentSheet, problem: Problem) -> bool:
    """A community's sheet holds only that community's problems."""
    node = sheet.node
    return node is None or node.level == "district" or problem.community_id == node.id


def add_to_sheet(sheet: AssignmentSheet, problem: Problem, user) -> None:
    if sheet.state != "draft":
        raise InquiryError(_("Sheet %(n)s has been issued already; start a new one.", n=sheet.number))
    if not _holds(sheet, problem):
        raise InquiryError(_("Sheet %(n)s belongs to another community: put the problem on a sheet of its own "
                             "community or of the district.", n=sheet.number))
    if problem.sheet_id == sheet.id:
        return
    transition(problem, "add_to_sheet", user, note=_("Sheet %(n)s", n=sheet.number),
               extra_where=(or_(Problem.sheet_id.is_(None), Problem.sheet_id != sheet.id),), sheet_id=sheet.id)
    sheet.n_problems = (sheet.n_problems or 0) + 1


def remove_from_sheet(sheet: AssignmentSheet, problem: Problem, user) -> None:
    if sheet.state != "draft":
        raise InquiryError(_("Sheet %(n)s has been issued already; start a new one.", n=sheet.number))
    if problem.sheet_id != sheet.id:
        raise InquiryError(_("This problem is not on the sheet."))
    transition(problem, "remove_from_sheet", user, note=_("Sheet %(n)s", n=sheet.number), sheet_id=None)
    sheet.n_problems = max(0, (sheet.n_problems or 0) - 1)


def issue_sheet(sheet: AssignmentSheet, user, now=None) -> int:
    """Issue a sheet: every problem on it goes to its unit and its clock starts now."""
    now = now or utcnow()
    problems = sheet_problems(sheet.id)
    if not problems:
        raise InquiryError(_("The sheet is empty: put triaged problems on it first."))
    if not all(_holds(sheet, p) for p in problems):
        raise InquiryError(_("Sheet %(n)s holds problems of another community; take them off first.", n=sheet.number))
    res = db.session.execute(
        update(AssignmentSheet)
        .where(AssignmentSheet.id == sheet.id, AssignmentSheet.state == "draft")
        .values(state="issued", issued_at=now, issued_by_id=getattr(user, "id", None), n_problems=len(problems))
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:
        db.session.rollback()
        raise InquiryError(_("Sheet %(n)s has been issued already; start a new one.", n=sheet.number))
    extra = extra_days()
    for p in problems:
        deadline = deadline_for(now, p.deadline_days or 10, extra, p.due_date)
        transition(p, "issue", user, note=_("Sheet %(n)s, due %(due)s", n=sheet.number, due=clock.local_date(deadline).isoformat()),
                   issued_at=now, deadline=deadline, now=now)
        bump(month_key(now), p.community_id, p.category_id, p.unit_id, assigned=1)
    db.session.expire(sheet)
    return len(problems)
