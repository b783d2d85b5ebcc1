"""Create, edit, move and delete grid nodes."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ...audit import record
from ...extensions import db
from ...models import (
    GridNode,
    Organisation,
)
from ...security import (
    can,
    requires,
)
from ...web import render
from .. import services as svc
from ..forms import MoveForm, NodeForm
from .common import (
    _crumbs,
    _node,
    _pm,
    bp,
)

# --- create, edit, move, delete --------------------------------------------------


def _company_choices():
    rows = db.session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.kind == "property_company", Organisation.active)
        .order_by(Organisation.name)
    ).all()
    return [(0, _("— none —"))] + [(i, n) for i, n in rows]


def _node_fields(form: NodeForm, level: str) -> dict:
    fields = {
        "name": form.name.data,
        "code": form.code.data,
        "sort_order": form.sort_order.data or 0,
        "address": form.address.data or None,
        "party_org": form.party_org.data or None,
        "party_leader": form.party_leader.data or None,
        "party_leader_phone": form.party_leader_phone.data or None,
    }
    if level == "estate":
        fields["property_company_id"] = form.property_company_id.data or None
    return fields


def _tree_error_to_form(form: NodeForm, exc: svc.TreeError) -> None:
    msg = str(exc)
    target = form.code if "code" in msg.lower() or "编码" in msg else form.name
    target.errors = [*target.errors, msg]


@bp.route("/node/<int:node_id>/new", methods=["GET", "POST"])
@requires("grid.edit")
def node_new(node_id: int):
    parent = _node(node_id, "grid.edit")
    level = svc.child_level(parent.level)
    if level is None:
        abort(404)
    form = NodeForm()
    form.property_company_id.choices = _company_choices() if level == "estate" else [(0, "")]
    if request.method == "GET":
        form.code.data = svc.suggest_code(parent)
        form.sort_order.data = db.session.scalar(
            select(func.coalesce(func.max(GridNode.sort_order), 0) + 1).where(GridNode.parent_id == parent.id)
        )
    if form.validate_on_submit():
        fields = _node_fields(form, level)
        name, code, sort_order = fields.pop("name"), fields.pop("code"), fields.pop("sort_order")
        try:
            node = svc.create_node(parent, level, name, code, sort_order=sort_order, **fields)
        except svc.TreeError as exc:
            db.session.rollback()
            _tree_error_to_form(form, exc)
        else:
            record("grid.created", node, summary=f"{node.level} {node.code} {node.name}", community_id=node.community_id)
            db.session.commit()
            flash(_("%(name)s added.", name=node.name), "success")
            return redirect(url_for("grid.node", node_id=node.id))
    return render("grid/node_form.html", form=form, parent=parent, node=None, level=level, crumbs=_crumbs(parent) + [(parent, True)])


@bp.route("/node/<int:node_id>/edit", methods=["GET", "POST"])
@requires("grid.edit")
def node_edit(node_id: int):
    node = _node(node_id, "grid.edit")
    form = NodeForm(obj=node)
    form.property_company_id.choices = _company_choices() if node.level == "estate" else [(0, "")]
    if request.method == "GET":
        form.property_company_id.data = node.property_company_id or 0
    if form.validate_on_submit():
        try:
            changed = svc.update_node(node, **_node_fields(form, node.level))
        except svc.TreeError as exc:
            db.session.rollback()
            _tree_error_to_form(form, exc)
        else:
            if changed:
                record("grid.updated", node, summary=", ".join(changed), community_id=node.community_id)
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("grid.node", node_id=node.id))
    return render("grid/node_form.html", form=form, parent=None, node=node, level=node.level, crumbs=_crumbs(node))


@bp.route("/node/<int:node_id>/move", methods=["GET", "POST"])
@requires("grid.edit")
def node_move(node_id: int):
    node = _node(node_id, "grid.edit")
    if node.parent_id is None:
        abort(404)
    form = MoveForm()
    if form.validate_on_submit():
        target = db.session.scalar(select(GridNode).where(GridNode.code == form.parent_code.data.strip()))
        if target is None or not can("grid.edit", target):
            form.parent_code.errors.append(_("There is no grid with this code in your area."))
        else:
            old = node.path
            try:
                svc.move_node(node, target)
            except svc.TreeError as exc:
                db.session.rollback()
                form.parent_code.errors.append(str(exc))
            else:
                node = db.session.get(GridNode, node_id)
                record("grid.moved", node, summary=f"{old} -> {node.path} ({target.code})", community_id=node.community_id)
                db.session.commit()
                flash(_("%(name)s moved under %(parent)s.", name=node.name, parent=target.name), "success")
                return redirect(url_for("grid.node", node_id=node.id))
    parent_level = svc.parent_level(node.level)
    return render("grid/node_move.html", form=form, node=node, parent_level=parent_level, crumbs=_crumbs(node))


@bp.route("/node/<int:node_id>/delete", methods=["POST"])
@requires("grid.edit")
def node_delete(node_id: int):
    node = _node(node_id, "grid.edit")
    parent_id = node.parent_id
    summary = f"{node.level} {node.code} {node.name}"
    community_id = node.community_id
    try:
        svc.delete_node(node, _pm())
    except svc.TreeError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("grid.node", node_id=node_id))
    record("grid.deleted", object_type="grid_node", object_id=node_id, summary=summary, community_id=community_id)
    db.session.commit()
    flash(_("The grid was deleted."), "success")
    return redirect(url_for("grid.node", node_id=parent_id) if parent_id else url_for("grid.tree"))
