"""The public form residents use without an account."""


from __future__ import annotations

import re

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from core import access
from core.extensions import db, limiter
from core.models import GridNode
from core.security import public
from core.web import render

from .. import services as svc
from ..forms import (
    PublicReportForm,
)
from ..models import (
    Category,
)
from . import bp
from .common import _category_choices, _children, _chosen_node, _fail, _fill_location


@bp.route("/public/estates")
@public
def public_estates():
    parent = request.args.get("community", "")
    community = db.session.get(GridNode, int(parent)) if parent.isdigit() and len(parent) < 19 else None
    options = []
    if community is not None and community.level == "community" and access.module_on_at("inquiry", community):
        options = _children(community.id, "estate")
    return render("inquiry/_node_select.html", block=None, level="estate", options=options, public_form=True)


@bp.route("/report", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config.get("INQUIRY_PUBLIC_RATE_LIMIT", "5 per 10 minutes"), methods=["POST"])
def public_report():
    """Residents report without an account."""
    form = PublicReportForm()
    _fill_location(form, with_lower=False)
    form.category_id.choices = _category_choices()
    if form.validate_on_submit():
        if form.website.data:
            # A bot filled the hidden field: pretend all went well, keep nothing.
            return redirect(url_for("inquiry.public_thanks", ref="WZ0000000"))
        node = _chosen_node(form, with_lower=False)
        if node is None or not access.module_on_at("inquiry", node):
            form.community.errors = [_("Choose your community.")]
        else:
            try:
                photos = svc.prepare_photos(request.files.getlist(form.photos.name))
                cat = db.session.get(Category, form.category_id.data) if form.category_id.data else None
                problem = svc.create_problem(
                    node=node, description=form.description.data, channel="resident", category=cat,
                    address=form.address.data, reporter_name=form.reporter_name.data or "",
                    reporter_phone=form.reporter_phone.data or "", photos=photos)
                db.session.commit()
                return redirect(url_for("inquiry.public_thanks", ref=problem.ref))
            except svc.InquiryError as exc:
                _fail(exc, form)
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render("inquiry/public_report.html", form=form)


@bp.route("/report/thanks/<ref>")
@public
def public_thanks(ref):
    if not re.fullmatch(r"WZ\d{7,12}", ref):
        abort(404)
    return render("inquiry/public_thanks.html", ref=ref[:24])
