"""Excel exports of Square Inquiry: the problem list, the public-opinion
ledger and one assignment sheet. Each is the same query as the page it
mirrors (through core.access), is written with core.excel, and is audited
(with the community when it is one community's)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from core import access, clock
from core.audit import record
from core.excel import xlsx_response
from core.extensions import db
from core.privacy import mask_name, mask_phone
from core.web import current_community_id

from . import queries
from . import services as svc
from .models import AssignmentSheet, Problem


def _fmt(value, pattern="%Y-%m-%d %H:%M") -> str:
    return clock.local(value).strftime(pattern) if value else ""


def problems_xlsx(stmt, filename: str, *, full_contact: bool, locale: str):
    """The rows of a problem list (already scoped); reporters' contact masked
    unless the user may see it in full (and then the export says so in the audit log)."""
    headers = [_("Reference"), _("Received"), _("Channel"), _("Community"), _("Location"), _("Address"), _("Category"),
               _("Description"), _("Reporter"), _("Phone"), _("State"), _("Unit"), _("Sheet"), _("Issued"), _("Deadline"),
               _("Result"), _("Return visit"), _("Closed"), _("Returns"), _("Reopened"), _("Supervised")]
    stmt = stmt.options(joinedload(Problem.category), joinedload(Problem.unit), joinedload(Problem.node),
                        joinedload(Problem.community), joinedload(Problem.sheet))

    def rows():
        for batch in db.session.scalars(stmt.execution_options(yield_per=1000)).partitions():
            places = queries.place_labels(batch)
            yield from (row(p, places) for p in batch)

    def row(p, places):
        return [p.ref, _fmt(p.created_at), str(svc.CHANNEL_TITLES[p.channel]), p.community.name if p.community else "",
                places[p.id], p.address, svc.category_title(p.category, locale), p.description,
                p.reporter_name if full_contact else mask_name(p.reporter_name),
                p.reporter_phone if full_contact else mask_phone(p.reporter_phone),
                str(svc.STATE_TITLES[p.state]), p.unit.name if p.unit else "", p.sheet.number if p.sheet else "",
                _fmt(p.issued_at), _fmt(p.deadline), p.result_text,
                str(svc.OUTCOME_TITLES[p.outcome]) if p.outcome else "", _fmt(p.closed_at), p.returns_count,
                p.reopen_count, _("yes") if p.supervised else ""]

    record("inquiry.export", summary=f"{filename} (contact {'full' if full_contact else 'masked'})",
           community_id=current_community_id())
    db.session.commit()
    return xlsx_response(filename, headers, rows(), title=filename.rsplit(".", 1)[0])


def sheet_xlsx(sheet: AssignmentSheet, rows: list[Problem], *, locale: str):
    """One assignment sheet, unit by unit, as it was handed out."""
    headers = [_("Unit"), _("Reference"), _("Community"), _("Location"), _("Address"), _("Category"), _("Description"),
               _("Priority"), _("Deadline"), _("State")]
    data = [[p.unit.name if p.unit else "", p.ref, p.community.name if p.community else "", p.node.name, p.address,
             svc.category_title(p.category, locale), p.description, str(svc.PRIORITY_TITLES[p.priority]),
             _fmt(p.deadline, "%Y-%m-%d"), str(svc.STATE_TITLES[p.state])] for p in rows]
    record("inquiry.sheet_export", sheet, summary=f"第 {sheet.number} 期", community_id=access.community_of(sheet))
    db.session.commit()
    return xlsx_response(_("assignment-sheet-%(n)s", n=sheet.number) + ".xlsx", headers, data, title=f"{sheet.number}")
