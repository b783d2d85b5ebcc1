"""Excel exports: published monthly scores, five-star members, a quarter's ledger."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from core import access, audit
from core.excel import xlsx_response
from core.extensions import db
from core.security import requires

from . import queries
from .models import MemberScore, QuarterFiling, ScoreMonth
from .services import filing as filing_svc
from .views import bp


@bp.route("/export/scores.xlsx")
@requires("fivestar.export")
def scores_xlsx():
    # scoped() joins the score's month (its parent) itself.
    stmt = access.scoped(select(MemberScore), MemberScore, "fivestar.export", community=None)
    stmt = stmt.where(ScoreMonth.state == "published").order_by(
        ScoreMonth.month.desc(), ScoreMonth.community_id, MemberScore.member_id)
    rows = db.session.scalars(stmt.limit(50000))
    audit.record("fivestar.export", summary="monthly scores")
    db.session.commit()
    return xlsx_response(
        _("Monthly scores") + ".xlsx",
        [_("Month"), _("Community"), _("Member"), _("Records"), _("Hours"), _("Points"), _("Amendments"), _("Total")],
        ((s.month.month.strftime("%Y-%m"), s.month.community.name, s.member.display_name, s.n_records, s.hours,
          s.points, s.amended, s.total) for s in rows), title="scores")


@bp.route("/export/awards.xlsx")
@requires("fivestar.export")
def awards_xlsx():
    rows = db.session.scalars(queries.awarded().limit(50000))
    audit.record("fivestar.export", summary="five-star members")
    db.session.commit()
    return xlsx_response(
        _("Five-star members") + ".xlsx",
        [_("Batch"), _("Certificate No."), _("Community"), _("Member"), _("Awarded on")],
        ((n.batch.title, n.certificate_no, n.community.name, n.member.display_name, n.batch.awarded_on)
         for n in rows), title="five-star")


@bp.route("/filings/<int:filing_id>/ledger.xlsx")
@requires("fivestar.view")
def filing_xlsx(filing_id):
    """The quarter's ledger in the department's format: one row per member."""
    f = access.get_or_404(QuarterFiling, filing_id)
    months = [f"{f.year}-{3 * (f.quarter - 1) + i:02d}" for i in (1, 2, 3)]
    audit.record("fivestar.export", obj=f, summary=f"ledger {f.label}")
    db.session.commit()
    state = {"submitted": _("Submitted"), "returned": _("Returned"), "filed": _("Filed")}[f.state]
    return xlsx_response(
        f"{f.community.name}-{f.label}.xlsx",
        [_("Community"), _("Quarter"), _("Member"), *months, _("Amendments"), _("Records"), _("Hours"),
         _("Quarter total"), _("State")],
        ((f.community.name, f.label, r["member"].display_name, *r["months"], r["amended"], r["records"],
          r["hours"], r["total"], state) for r in filing_svc.ledger(f)), title=f.label)
