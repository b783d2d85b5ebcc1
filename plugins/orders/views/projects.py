"""Resource list, needs list, matching, and the public-benefit projects."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import access
from core.extensions import db
from core.forms import DomainError, commit, show_error
from core.security import requires
from core.web import paginate, render

from .. import queries
from ..forms import MilestoneForm, NeedForm, ProjectForm, ResourceForm, ResultForm
from ..models import CATEGORIES, Milestone, Need, Project, Resource
from ..services import projects as svc
from . import bp
from .common import community_for, grid_choices, node_from_form


def _category_arg():
    c = request.args.get("category", "")
    return c if c in CATEGORIES else None


@bp.route("/resources")
@requires("orders.view")
def resources():
    page = paginate(queries.resources_stmt(category=_category_arg()))
    return render("orders/resources.html", block="list", page=page, category=_category_arg(),
                  categories=CATEGORIES)


@bp.route("/resources/new", methods=["GET", "POST"])
@requires("orders.manage")
def new_resource():
    community = community_for("orders.manage")
    if community is None:
        return render("orders/choose_community.html")
    form = ResourceForm()
    form.node_id.choices = grid_choices(community)
    form.org_id.choices = [(0, _("The community itself"))] + [(o.id, o.name) for o in svc.committee_units(community.id)]
    if form.validate_on_submit():
        node = node_from_form(form.node_id.data, community, "orders.manage")
        try:
            svc.add_resource(node, org_id=form.org_id.data, category=form.category.data, kind=form.kind.data,
                             title=form.title.data, amount=form.amount.data, unit=form.unit.data, by=current_user)
            commit()
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("The resource is on the list."), "success")
            return redirect(url_for("orders.resources"))
    return render("orders/resource_form.html", form=form, community=community)


@bp.route("/needs")
@requires("orders.view")
def needs():
    page = paginate(queries.needs_stmt(category=_category_arg()))
    return render("orders/needs.html", block="list", page=page, category=_category_arg(), categories=CATEGORIES)


@bp.route("/needs/new", methods=["GET", "POST"])
@requires("orders.manage")
def new_need():
    community = community_for("orders.manage")
    if community is None:
        return render("orders/choose_community.html")
    form = NeedForm()
    form.node_id.choices = grid_choices(community)
    if form.validate_on_submit():
        node = node_from_form(form.node_id.data, community, "orders.manage")
        try:
            svc.add_need(node, category=form.category.data, title=form.title.data,
                         description=form.description.data, source=form.source.data, by=current_user)
            commit()
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("The need is on the list."), "success")
            return redirect(url_for("orders.needs"))
    return render("orders/need_form.html", form=form, community=community)


@bp.route("/match")
@requires("orders.manage")
def match():
    page = paginate(queries.proposals_stmt(category=_category_arg()), scalars=False)
    return render("orders/match.html", block="list", page=page, category=_category_arg(), categories=CATEGORIES)


@bp.route("/projects/new", methods=["GET", "POST"])
@requires("orders.manage")
def new_project():
    """Confirm a proposed pair (or several resources and needs) into a project."""
    source = request.form if request.method == "POST" else request.args
    need_ids = list(dict.fromkeys(source.getlist("need_ids", type=int)))
    resource_ids = list(dict.fromkeys(source.getlist("resource_ids", type=int)))
    needs = [access.get_or_404(Need, i, "orders.manage") for i in need_ids]
    resources = [access.get_or_404(Resource, i, "orders.manage") for i in resource_ids]
    if not needs:
        flash(_("Choose a proposal on the matching page."), "error")
        return redirect(url_for("orders.match"))
    cid = needs[0].community_id
    form = ProjectForm()
    form.need_ids.choices = [(n.id, n.title) for n in db.session.scalars(
        queries.needs_stmt(community=cid, unmatched=True).limit(200))]
    form.resource_ids.choices = [(r.id, r.title) for r in db.session.scalars(
        queries.resources_stmt(community=cid).limit(200))]
    form.member_ids.choices = [(u.id, u.display_name) for u in queries.members_of_community(cid)]
    if request.method == "GET":
        form.need_ids.data, form.resource_ids.data = need_ids, resource_ids
        form.name.data = needs[0].title
        form.budget.data = sum(r.amount for r in resources if r.kind == "money")
    if request.method == "POST" and form.validate_on_submit():
        try:
            p = svc.create_project(name=form.name.data, budget=form.budget.data, resources=resources, needs=needs,
                                   members=[u for u in queries.members_of_community(cid)
                                            if u.id in set(form.member_ids.data or [])], by=current_user)
            commit()
        except DomainError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("The project is set up."), "success")
            return redirect(url_for("orders.project", project_id=p.id))
    return render("orders/project_form.html", form=form, needs=needs, resources=resources)


@bp.route("/projects")
@requires("orders.view")
def projects():
    page = paginate(queries.projects_stmt(category=_category_arg()))
    return render("orders/projects.html", block="list", page=page, category=_category_arg(), categories=CATEGORIES)


@bp.route("/projects/<int:project_id>", methods=["GET", "POST"])
@requires("orders.view")
def project(project_id):
    p = access.get_or_404(Project, project_id)
    milestone_form, result_form = MilestoneForm(prefix="m"), ResultForm(prefix="r", obj=p)
    if request.method == "POST":
        p = access.get_or_404(Project, project_id, "orders.manage")
        form = milestone_form if "m-title" in request.form else result_form
        if form.validate_on_submit():
            try:
                if form is milestone_form:
                    svc.add_milestone(p, form.title.data, form.due_date.data)
                else:
                    svc.set_result(p, state=form.state.data, result=form.result.data)
                commit()
            except DomainError as exc:
                db.session.rollback()
                show_error(form, exc)
            else:
                flash(_("Saved."), "success")
                return redirect(url_for("orders.project", project_id=p.id))
    return render("orders/project.html", p=p, milestone_form=milestone_form, result_form=result_form)


@bp.route("/milestones/<int:milestone_id>/done", methods=["POST"])
@requires("orders.manage")
def milestone_done(milestone_id):
    m = access.get_or_404(Milestone, milestone_id, "orders.manage")
    svc.milestone_done(m)
    commit()
    return redirect(url_for("orders.project", project_id=m.project_id))


