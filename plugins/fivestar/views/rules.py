"""The district's scoring rules and their versions."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import access, audit, clock
from core.extensions import db
from core.forms import DomainError, show_error
from core.security import requires
from core.web import render

from ..forms import RulesForm
from ..services import next_month
from ..services import rules as rules_svc
from . import bp


@bp.route("/rules")
@requires("fivestar.view")
def rules():
    versions = rules_svc.versions()
    db.session.commit()
    return render("fivestar/rules.html", versions=versions, current=rules_svc.in_force(clock.today()),
                  describe=rules_svc.describe)


@bp.route("/rules/new", methods=["GET", "POST"])
@requires("fivestar.rules")
def rules_new():
    current = rules_svc.in_force(clock.today())
    access.require_node(current.node_id, "fivestar.rules", "fivestar")
    form = RulesForm()
    if not form.is_submitted():
        form.valid_from.data = next_month(clock.today().replace(day=1))
        form.rating_weight.data = current.rating_weight
        form.month_cap.data = current.month_cap
        for row, r in zip(form.rules, current.rules, strict=False):
            row.form.source.data, row.form.kind.data, row.form.per.data = r["source"], r["kind"], r["per"]
            row.form.points.data, row.form.cap.data = r["points"], r.get("cap")
        for row, i in zip(form.items, current.items, strict=False):
            row.form.code.data, row.form.title.data, row.form.points.data = i["code"], i["title"], i["points"]
    if form.validate_on_submit():
        try:
            rs = rules_svc.create_version(
                valid_from=form.valid_from.data, rules=[r.data for r in form.rules], items=[i.data for i in form.items],
                rating_weight=form.rating_weight.data, month_cap=form.month_cap.data, note=form.note.data,
                user_id=current_user.id)
            audit.record("fivestar.rules", obj=rs, summary=f"v{rs.number} from {rs.valid_from}: {rs.note}")
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("Version %(n)s of the rules saved.", n=rs.number), "success")
            return redirect(url_for("fivestar.rules"))
    db.session.commit()
    return render("fivestar/rules_form.html", form=form)
