"""Staff intake: the new-problem form and its cascading location selects."""


from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import access
from core.extensions import db
from core.security import can, requires, roles
from core.web import render

from .. import services as svc
from ..forms import (
    ReportForm,
)
from ..models import (
    Category,
)
from . import bp
from .common import _category_choices, _children, _chosen_node, _fail, _fill_location


@bp.route("/nodes")
@requires("inquiry.report")
def node_options():
    """The next select of the cascading location fields (HTMX)."""
    level = request.args.get("level", "")
    parent_field = {"estate": "community", "building": "estate", "zone": "building"}.get(level)
    if parent_field is None:
        abort(404)
    parent = request.args.get(parent_field, "")
    # Only the nodes the user may report at, where the module is on.
    options = _children(int(parent), level, "inquiry.report") if parent.isdigit() and len(parent) < 19 else []
    return render("inquiry/_node_select.html", block=None, level=level, options=options, public_form=False)


@bp.route("/new", methods=["GET", "POST"])
@requires("inquiry.report")
def new():
    form = ReportForm()
    preset = None
    if request.args.get("node_id", "").isdigit():
        preset = access.require_node(request.args["node_id"], "inquiry.report", "inquiry")
    _fill_location(form, preset=preset)
    form.category_id.choices = _category_choices()
    if form.validate_on_submit():
        node = _chosen_node(form)
        if node is None or not can("inquiry.report", node):
            form.community.errors = [_("Choose where the problem is.")]
        elif not access.module_on_at("inquiry", node):
            form.community.errors = [_("Square Inquiry is not in use in this community.")]
        else:
            try:
                photos = svc.prepare_photos(request.files.getlist(form.photos.name))
                cat = db.session.get(Category, form.category_id.data) if form.category_id.data else None
                channel = "grid_worker" if "grid_worker" in roles() and not can("inquiry.triage") else "staff"
                problem = svc.create_problem(
                    node=node, description=form.description.data, channel=channel, user=current_user, category=cat,
                    address=form.address.data or "", reporter_name=form.reporter_name.data or "",
                    reporter_phone=form.reporter_phone.data or "", photos=photos)
                db.session.commit()
                flash(_("Problem %(ref)s recorded.", ref=problem.ref), "success")
                return redirect(url_for("inquiry.problem", problem_id=problem.id))
            except svc.InquiryError as exc:
                _fail(exc, form)
    elif request.method == "POST":
        flash(_("Please correct the marked fields."), "error")
    return render("inquiry/new.html", form=form)
