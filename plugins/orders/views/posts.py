"""Service posts: the community's catalogue and the district's templates."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import access
from core.extensions import db
from core.forms import DomainError, check_edit, commit, edit_token, show_error
from core.models import GridNode
from core.security import is_district_admin, requires
from core.web import paginate, render

from .. import queries
from ..forms import PostForm
from ..models import ServicePost
from ..services import posts as svc
from . import bp
from .common import community_for, grid_choices


@bp.route("/posts")
@requires("orders.view")
def posts():
    page = paginate(queries.posts_stmt(), options=())
    templates = db.session.scalars(queries.posts_stmt(templates=True).limit(50)).all()
    return render("orders/posts.html", block="list", page=page, templates=templates,
                  community=community_for("orders.view"), current_user_is_district_admin=is_district_admin())


def _district() -> GridNode:
    return db.session.scalar(select(GridNode).where(GridNode.level == "district").limit(1))


EDIT_FIELDS = ("name", "category", "description", "skills")


def _save(form, post, node, community):
    grids = [access.require_node(i, "orders.manage", "orders") for i in (form.grids.data or [])]
    try:
        if post is not None:  # no lost updates: refuse when someone saved the post meanwhile
            check_edit(post, form.edit_token.data, EDIT_FIELDS,
                       {f: getattr(form, f).label.text for f in EDIT_FIELDS})
        post = svc.save_post(post, node, name=form.name.data, description=form.description.data,
                             skills=form.skills.data, category=form.category.data, grids=grids, by=current_user)
        commit(duplicate_field="name")
    except DomainError as exc:
        db.session.rollback()
        show_error(form, exc)
        return None
    flash(_("The post is saved."), "success")
    return redirect(url_for("orders.posts"))


@bp.route("/posts/new", methods=["GET", "POST"])
@requires("orders.manage")
def new_post():
    template = request.args.get("template") == "1" and is_district_admin()
    community = None if template else community_for("orders.manage")
    if community is None and not template:
        return render("orders/choose_community.html")
    node = _district() if template else community
    form = PostForm()
    form.grids.choices = grid_choices(community) if community is not None else []
    if form.validate_on_submit():
        done = _save(form, None, node, community)
        if done is not None:
            return done
    return render("orders/post_form.html", form=form, post=None, is_template=template)


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@requires("orders.manage")
def edit_post(post_id):
    post = access.get_or_404(ServicePost, post_id, "orders.manage")
    if post.is_template and not is_district_admin():
        from flask import abort

        abort(404)
    community = None if post.is_template else post.node
    form = PostForm(obj=post if request.method == "GET" else None)
    form.grids.choices = grid_choices(community) if community is not None else []
    if request.method == "GET":
        form.grids.data = [g.id for g in post.grids]
        form.edit_token.data = edit_token(post, EDIT_FIELDS)
    if form.validate_on_submit():
        done = _save(form, post, post.node, community)
        if done is not None:
            return done
    return render("orders/post_form.html", form=form, post=post, is_template=post.is_template)


@bp.route("/posts/<int:post_id>/adopt", methods=["POST"])
@requires("orders.manage")
def adopt(post_id):
    template = access.get_or_404(ServicePost, post_id, "orders.manage")
    community = community_for("orders.manage")
    if community is None:
        flash(_("Choose a community first (at the top of the page)."), "error")
        return redirect(url_for("orders.posts"))
    try:
        svc.adopt(template, community, current_user)
        commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("The template is adopted as a post of %(c)s.", c=community.name), "success")
    return redirect(url_for("orders.posts"))
