"""Quarterly filing by the district organisation department."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import access, audit, clock
from core.extensions import db
from core.forms import DomainError, StaleEdit, check_edit, edit_token, show_error
from core.forms import commit as commit_or_error
from core.security import can, requires
from core.web import paginate, render

from .. import queries
from ..forms import NoteForm, SubmitQuarterForm
from ..models import QuarterFiling
from ..services import filing as filing_svc
from ..services import previous_quarters
from ..tasks import tell_submitted
from . import bp


def _submit_form():
    form = SubmitQuarterForm()
    form.community.choices = queries.community_choices("fivestar.nominate")
    if not form.is_submitted():
        form.year.data, form.quarter.data = previous_quarters(clock.today(), 1)[0]
    return form


@bp.route("/filings")
@requires("fivestar.view")
def filings():
    page = paginate(queries.filings(request.args.get("state")), per_page=20)
    return render("fivestar/filings.html", page=page,
                  form=_submit_form() if can("fivestar.nominate") else None)


@bp.route("/filings/submit", methods=["POST"])
@requires("fivestar.nominate")
def filing_submit():
    form = _submit_form()
    if form.validate_on_submit():
        node = access.require_node(form.community.data, "fivestar.nominate", "fivestar")
        try:
            f = filing_svc.submit(node.id, form.year.data, form.quarter.data, current_user.id)
            audit.record("fivestar.submit", obj=f, summary=f"{node.name} {f.label}")
            tell_submitted(f)
            commit_or_error("quarter", _("This quarter has already been submitted."))
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("The quarter was sent to the organisation department."), "success")
            return redirect(url_for("fivestar.filing", filing_id=f.id))
    page = paginate(queries.filings(), per_page=20)
    return render("fivestar/filings.html", page=page, form=form), 422


@bp.route("/filings/<int:filing_id>")
@requires("fivestar.view")
def filing(filing_id):
    f = access.get_or_404(QuarterFiling, filing_id)
    return render("fivestar/filing.html", f=f, rows=filing_svc.ledger(f), amendments=filing_svc.amendments(f),
                  form=NoteForm(), token=edit_token(f, ["state"]), may_file=can("fivestar.file"))


@bp.route("/filings/<int:filing_id>/file", methods=["POST"], defaults={"step": "file"})
@bp.route("/filings/<int:filing_id>/return", methods=["POST"], defaults={"step": "return"})
@requires("fivestar.file")
def filing_step(filing_id, step):
    f = access.get_or_404(QuarterFiling, filing_id, "fivestar.file")
    form = NoteForm()
    try:
        check_edit(f, request.form.get("edit_token"), ["state"], {"state": _("State")})
        if step == "file":
            filing_svc.file(f, current_user.id, form.note.data or "")
        else:
            filing_svc.send_back(f, form.note.data or "")
        audit.record(f"fivestar.{step}", obj=f, summary=f"{f.community.name} {f.label} {f.note}")
        commit_or_error()
    except (DomainError, StaleEdit) as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("The quarter is filed and locked.") if step == "file" else _("The quarter was returned."),
              "success")
    return redirect(url_for("fivestar.filing", filing_id=filing_id))
