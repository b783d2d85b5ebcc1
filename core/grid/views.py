"""Pages of the grid tree, organisations and staffing. Thin: parse, check,
call a service (services.py, importer.py), render."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import security
from ..audit import record
from ..excel import XLSX_MIME, template_bytes, xlsx_response
from ..extensions import db
from ..models import LEVELS, CommitteeMember, GridNode, GridPost, Leave, Organisation, User, subtree
from ..security import (
    can,
    in_scope,
    node_in_scope_or_404,
    requires,
    scope_filter,
    scope_paths,
)
from ..staffing import StaffingError, responsible_worker_for_node
from ..web import current_community_id, is_fragment_request, paginate, render
from . import importer
from . import services as svc
from .forms import ImportForm, LeaveForm, MoveForm, NodeForm, OrgForm, PostForm, SeatForm

bp = Blueprint("grid", __name__, url_prefix="/grid")

CHILDREN_PER_PAGE = 25
LEVEL_PLURAL = {
    "community": _l("Communities"),
    "estate": _l("Estates"),
    "building": _l("Buildings"),
    "zone": _l("Zones"),
}
KIND_TITLES = {
    "department": _l("Departments"),
    "property_company": _l("Property companies"),
    "partner_unit": _l("Partner units"),
}
KIND_SINGULAR = {
    "department": _l("Department"),
    "property_company": _l("Property company"),
    "partner_unit": _l("Partner unit"),
}


def _pm():
    return current_app.extensions["wangge"].pm


@bp.record_once
def _grid_helpers(state):
    # Globals rather than a context processor, so imported macros see them too.
    state.app.jinja_env.globals.update(
        level_title=svc.level_title,
        party_org_title=svc.party_org_title,
        level_plural=LEVEL_PLURAL,
        kind_titles=KIND_TITLES,
    )


def _node(node_id: int, action: str = "grid.view") -> GridNode:
    return node_in_scope_or_404(node_id, action)


def _community(node_id: int, action: str) -> GridNode:
    """The community of the node in the URL (itself when it is one)."""
    node = _node(node_id, action)
    if node.level == "community":
        return node
    if node.community_id is None:
        abort(404)
    community = db.session.get(GridNode, node.community_id)
    if community is None or not in_scope(community, action):
        # A worker sees their own grids only: the community page is not theirs.
        abort(404)
    return community


def _crumbs(node: GridNode) -> list[tuple[GridNode, bool]]:
    """(ancestor, linkable) from the root down; out-of-scope ones are plain text."""
    return [(a, in_scope(a, "grid.view")) for a in svc.ancestors_of(node)]


def _children_page(node: GridNode):
    return paginate(svc.children_stmt(node), per_page=CHILDREN_PER_PAGE, count=False)


# --- the tree ------------------------------------------------------------------


@bp.route("/")
@requires("grid.view")
def tree():
    paths = scope_paths("grid.view")
    roots = []
    if paths:
        roots = list(db.session.scalars(select(GridNode).where(GridNode.path.in_(paths[:50])).order_by(GridNode.path)))
    first = roots[0] if len(roots) == 1 else None
    children = None
    if first is not None and first.level != "zone":
        children = list(db.session.scalars(svc.children_stmt(first).limit(CHILDREN_PER_PAGE + 1)))
    return render("grid/tree.html", roots=roots, open_root=first, children=children, per_page=CHILDREN_PER_PAGE)


@bp.route("/search")
@requires("grid.view")
def search():
    q = request.args.get("q", "").strip()[:60]
    results = svc.search_nodes(q, scope_filter(GridNode.path, "grid.view")) if q else []
    return render("grid/search.html", block="results", q=q, results=results, where=svc.paths_names(results))


@bp.route("/node/<int:node_id>/children")
@requires("grid.view")
def children(node_id: int):
    node = _node(node_id)
    page = _children_page(node)
    page.has_more = len(page.items) == CHILDREN_PER_PAGE and bool(
        db.session.scalar(svc.children_stmt(node).with_only_columns(GridNode.id).offset(page.page * CHILDREN_PER_PAGE).limit(1))
    )
    # The breadcrumbs belong to the full page only; a fragment skips their query.
    crumbs = [] if is_fragment_request() else _crumbs(node)
    return render("grid/children.html", block="children", node=node, page=page, crumbs=crumbs)


@bp.route("/node/<int:node_id>")
@requires("grid.view")
def node(node_id: int):
    node = _node(node_id)
    if node.property_company_id:
        node = db.session.scalar(select(GridNode).options(joinedload(GridNode.property_company)).where(GridNode.id == node.id))
    kids = list(db.session.scalars(svc.children_stmt(node).limit(CHILDREN_PER_PAGE + 1)))
    day = security.today()
    post = svc.post_for(node) if node.level != "district" else None
    post_cov = svc.coverage([post], day)[0] if post else None
    responsible = None
    if post_cov is None or post_cov.covering is None:
        responsible = responsible_worker_for_node(node, day) if node.level != "district" else None
    community_cov = None
    seats = []
    if node.level == "community":
        if can("staffing.view", node):
            community_cov = svc.community_coverage(node, day, limit=200)
        if can("orgs.view"):
            seats = list(
                db.session.scalars(
                    select(CommitteeMember).where(CommitteeMember.community_id == node.id).order_by(CommitteeMember.id).limit(100)
                )
            )
    levels_below = LEVELS[LEVELS.index(node.level) + 1:]
    return render(
        "grid/node.html",
        node=node,
        crumbs=_crumbs(node),
        children=kids,
        per_page=CHILDREN_PER_PAGE,
        levels_below=levels_below,
        post=post,
        post_cov=post_cov,
        responsible=responsible,
        community_cov=community_cov,
        nobody=[c for c in community_cov or [] if c.state == "nobody"],
        seats=seats,
        day=day,
        can_edit=can("grid.edit", node),
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


# --- import and export -------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@requires("grid.import")
def import_tree():
    """Take the file and queue the import (core/grid/tasks.py): the user
    follows its progress and result on the job's page."""
    from .. import jobs
    from ..uploads import save_bytes
    from .tasks import TASK

    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        if not (upload.filename or "").lower().endswith(".xlsx") or (data and not zipfile.is_zipfile(io.BytesIO(data))):
            form.file.errors.append(_("This is not an Excel .xlsx file."))
        elif not data:
            form.file.errors.append(_("The file is empty."))
        else:
            stored = save_bytes("grid", data, ".xlsx", "imports")
            job = jobs.start(TASK, params={"file": stored, "filename": upload.filename},
                             title=_("Import the grid tree: %(name)s", name=upload.filename))
            return redirect(url_for("jobs.detail", job_id=job.id))
    status = 422 if form.file.errors else 200
    return render("grid/import.html", form=form), status


@bp.route("/import/template.xlsx")
@requires("grid.import")
def import_template():
    from flask import Response

    data = template_bytes(importer.HEADERS, importer.template_example(), importer.template_notes())
    resp = Response(data, mimetype=XLSX_MIME)
    resp.headers["Content-Disposition"] = "attachment; filename=grid-import-template.xlsx"
    return resp


@bp.route("/node/<int:node_id>/export.xlsx")
@requires("grid.import")
def export(node_id: int):
    node = _node(node_id, "grid.import")
    record("grid.exported", node, summary=node.code, community_id=node.community_id)
    db.session.commit()
    return xlsx_response(f"{node.code}-{node.name}.xlsx", importer.HEADERS, importer.export_rows(node), title=node.code)


# --- organisations ---------------------------------------------------------------


@bp.route("/orgs")
@requires("orgs.view")
def orgs():
    kind = request.args.get("kind", "department")
    if kind not in KIND_TITLES:
        kind = "department"
    q = request.args.get("q", "").strip()[:60]
    stmt = select(Organisation).where(Organisation.kind == kind).order_by(Organisation.name)
    if q:
        stmt = stmt.where(Organisation.name.contains(q, autoescape=True))
    page = paginate(stmt, per_page=50)
    ids = [o.id for o in page.items]
    estates = seats = {}
    if ids and kind == "property_company":
        estates = dict(
            db.session.execute(
                select(GridNode.property_company_id, func.count())
                .where(GridNode.property_company_id.in_(ids))
                .group_by(GridNode.property_company_id)
            ).all()
        )
    if ids and kind == "partner_unit":
        seats = dict(
            db.session.execute(
                select(CommitteeMember.organisation_id, func.count())
                .where(CommitteeMember.organisation_id.in_(ids))
                .group_by(CommitteeMember.organisation_id)
            ).all()
        )
    counts = {k: n for k, n in db.session.execute(select(Organisation.kind, func.count()).group_by(Organisation.kind))}
    return render(
        "grid/orgs.html", block="org_list", kind=kind, q=q, page=page, estates=estates, seats=seats, counts=counts,
        kind_singular=KIND_SINGULAR,
    )


def _org_or_404(org_id: int) -> Organisation:
    org = db.session.get(Organisation, org_id)
    if org is None:
        abort(404)
    return org


@bp.route("/orgs/<int:org_id>")
@requires("orgs.view")
def org(org_id: int):
    org = _org_or_404(org_id)
    estates = committees = None
    if org.kind == "property_company":
        estates = paginate(
            select(GridNode)
            .where(GridNode.property_company_id == org.id, scope_filter(GridNode.path, "orgs.view"))
            .order_by(GridNode.path),
            per_page=50,
        )
    committees = list(
        db.session.execute(
            select(CommitteeMember, GridNode)
            .join(GridNode, GridNode.id == CommitteeMember.community_id)
            .where(CommitteeMember.organisation_id == org.id, scope_filter(GridNode.path, "orgs.view"))
            .order_by(GridNode.sort_order, GridNode.id)
            .limit(200)
        ).all()
    )
    handlers = list(db.session.scalars(select(User).where(User.organisation_id == org.id).order_by(User.username).limit(50)))
    where = svc.paths_names(estates.items) if estates else {}
    return render(
        "grid/org.html", block="estate_list", org=org, estates=estates, committees=committees, handlers=handlers,
        where=where, kind_singular=KIND_SINGULAR,
    )


def _org_form(org: Organisation | None):
    form = OrgForm(obj=org)
    form.kind.choices = [(k, str(v)) for k, v in KIND_SINGULAR.items()]
    if request.method == "GET" and org is None:
        form.kind.data = request.args.get("kind", "department")
    if form.validate_on_submit():
        clash = db.session.scalar(
            select(Organisation.id).where(Organisation.name == form.name.data.strip(), Organisation.id != (org.id if org else 0))
        )
        if clash:
            form.name.errors.append(_("An organisation of this name exists already."))
        else:
            new = org is None
            if new:
                org = Organisation(kind=form.kind.data, name="")
                db.session.add(org)
            org.kind = form.kind.data
            org.name = form.name.data.strip()
            org.short_name = form.short_name.data or None
            org.contact_name = form.contact_name.data or None
            org.phone = form.phone.data or None
            org.address = form.address.data or None
            org.active = bool(form.active.data)
            db.session.flush()
            record("org.created" if new else "org.updated", org, summary=f"{org.kind} {org.name}")
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("grid.org", org_id=org.id))
    return render("grid/org_form.html", form=form, org=org)


@bp.route("/orgs/new", methods=["GET", "POST"])
@requires("orgs.edit")
def org_new():
    return _org_form(None)


@bp.route("/orgs/<int:org_id>/edit", methods=["GET", "POST"])
@requires("orgs.edit")
def org_edit(org_id: int):
    return _org_form(_org_or_404(org_id))


@bp.route("/orgs/export.xlsx")
@requires("orgs.view")
def orgs_export():
    kind = request.args.get("kind", "department")
    if kind not in KIND_TITLES:
        abort(404)
    rows = db.session.execute(
        select(Organisation.name, Organisation.short_name, Organisation.contact_name, Organisation.phone, Organisation.address)
        .where(Organisation.kind == kind)
        .order_by(Organisation.name)
    )
    return xlsx_response(
        f"{KIND_TITLES[kind]}.xlsx",
        [_("Organisation name"), _("Short name"), _("Contact person"), _("Phone"), _("Address")],
        rows,
        title=kind,
    )


@bp.route("/node/<int:node_id>/committee", methods=["GET", "POST"])
@requires("orgs.view")
def committee(node_id: int):
    community = _community(node_id, "orgs.view")
    form = SeatForm()
    editable = can("orgs.edit", community)
    seated = select(CommitteeMember.organisation_id).where(CommitteeMember.community_id == community.id)
    form.organisation_id.choices = [(0, _("— choose —"))] + [
        (i, n)
        for i, n in db.session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.kind == "partner_unit", Organisation.active, Organisation.id.not_in(seated))
            .order_by(Organisation.name)
        ).all()
    ] if editable else []
    status = 200
    if request.method == "POST":
        if not editable:
            abort(403)
        if form.validate_on_submit():
            seat = CommitteeMember(community_id=community.id, organisation_id=form.organisation_id.data, role_note=form.role_note.data or None)
            db.session.add(seat)
            db.session.flush()
            record("committee.added", seat, summary=f"{community.code} + org {seat.organisation_id}", community_id=community.id)
            db.session.commit()
            flash(_("The partner unit joined the co-building committee."), "success")
            return redirect(url_for("grid.committee", node_id=community.id))
        status = 422
    seats = list(
        db.session.scalars(select(CommitteeMember).where(CommitteeMember.community_id == community.id).order_by(CommitteeMember.id))
    )
    return render("grid/committee.html", community=community, seats=seats, form=form, editable=editable, crumbs=_crumbs(community) + [(community, True)]), status


@bp.route("/node/<int:node_id>/committee/<int:seat_id>/delete", methods=["POST"])
@requires("orgs.edit")
def committee_remove(node_id: int, seat_id: int):
    community = _community(node_id, "orgs.edit")
    seat = db.session.get(CommitteeMember, seat_id)
    if seat is None or seat.community_id != community.id:
        abort(404)
    record("committee.removed", seat, summary=f"{community.code} - org {seat.organisation_id}", community_id=community.id)
    db.session.delete(seat)
    db.session.commit()
    flash(_("The partner unit left the co-building committee."), "success")
    return redirect(url_for("grid.committee", node_id=community.id))


# --- staffing ------------------------------------------------------------------------


def _user_choices(community: GridNode, blank):
    return [(0, blank)] + [(u.id, f"{u.display_name} ({u.username})") for u in svc.worker_candidates(community)]


@bp.route("/node/<int:node_id>/post", methods=["GET", "POST"])
@requires("staffing.manage")
def post(node_id: int):
    node = _node(node_id, "staffing.manage")
    if node.level == "district":
        abort(404)
    community = db.session.get(GridNode, node.id if node.level == "community" else node.community_id)
    current = svc.post_for(node)
    form = PostForm(obj=current)
    form.a_user_id.choices = _user_choices(community, _("— nobody —"))
    form.b_user_id.choices = _user_choices(community, _("— nobody —"))
    if request.method == "GET" and current:
        form.a_user_id.data = current.a_user_id or 0
        form.b_user_id.data = current.b_user_id or 0
    status = 200
    if form.validate_on_submit():
        try:
            saved = svc.set_post(node, form.a_user_id.data or None, form.b_user_id.data or None)
        except StaffingError as exc:
            db.session.rollback()
            form.b_user_id.errors = [*form.b_user_id.errors, str(exc)]
            status = 422
        else:
            record("post.set", saved, summary=f"{node.code} A={saved.a_user_id} B={saved.b_user_id}", community_id=community.id)
            db.session.commit()
            flash(_("The posts of %(name)s are saved.", name=node.name), "success")
            return redirect(url_for("grid.node", node_id=node.id))
    elif request.method == "POST":
        status = 422
    return render("grid/post_form.html", form=form, node=node, crumbs=_crumbs(node) + [(node, True)]), status


@bp.route("/coverage")
@requires("staffing.view")
def coverage_home():
    cid = current_community_id()
    if cid:
        node = db.session.get(GridNode, cid)
        if node is not None and in_scope(node, "staffing.view"):
            return redirect(url_for("grid.coverage", node_id=cid))
    communities = list(
        db.session.scalars(
            select(GridNode)
            .where(GridNode.level == "community", scope_filter(GridNode.path, "staffing.view"))
            .order_by(GridNode.sort_order, GridNode.id)
            .limit(500)
        )
    )
    rows = None
    if not communities:
        # A grid worker: the coverage of their own grids (and those they cover today).
        posts = db.session.scalars(
            select(GridPost)
            .join(GridNode, GridNode.id == GridPost.node_id)
            .where(scope_filter(GridNode.path, "staffing.view"))
            .order_by(GridNode.path)
            .limit(200)
        ).all()
        rows = svc.coverage(list(posts), security.today())
    return render("grid/coverage_home.html", communities=communities, rows=rows, day=security.today())


def _day_arg() -> dt.date:
    raw = request.args.get("day", "")
    try:
        return dt.date.fromisoformat(raw) if raw else security.today()
    except ValueError:
        return security.today()


@bp.route("/node/<int:node_id>/coverage")
@requires("staffing.view")
def coverage(node_id: int):
    community = _community(node_id, "staffing.view")
    day = _day_arg()
    rows = svc.community_coverage(community, day)
    return render(
        "grid/coverage.html", block="coverage_rows", community=community, rows=rows, day=day,
        nobody=[r for r in rows if r.state == "nobody"], crumbs=_crumbs(community) + [(community, True)],
    )


@bp.route("/node/<int:node_id>/coverage.xlsx")
@requires("staffing.view")
def coverage_export(node_id: int):
    community = _community(node_id, "staffing.view")
    day = _day_arg()
    states = {"a": _("A present"), "b": _("B covering"), "nobody": _("Nobody present")}
    rows = (
        [
            c.node.code, c.node.name, c.post.a_user.display_name if c.post.a_user else "",
            c.post.b_user.display_name if c.post.b_user else "", c.covering.display_name if c.covering else "", states[c.state],
        ]
        for c in svc.community_coverage(community, day)
    )
    return xlsx_response(
        f"{community.name}-{day.isoformat()}.xlsx",
        [_("Grid code"), _("Grid"), _("A-post worker"), _("B-post worker"), _("Covers today"), _("Status")],
        rows,
        title=day.isoformat(),
    )


def _leave_stmt(community: GridNode, show: str = "current"):
    workers = select(GridPost.a_user_id).join(GridNode, GridNode.id == GridPost.node_id).where(subtree(GridNode.path, community.path))
    workers_b = select(GridPost.b_user_id).join(GridNode, GridNode.id == GridPost.node_id).where(subtree(GridNode.path, community.path))
    stmt = select(Leave).where(Leave.user_id.in_(workers) | Leave.user_id.in_(workers_b))
    day = security.today()
    if show == "current":
        stmt = stmt.where(Leave.end_date >= day)
    return stmt.order_by(Leave.start_date.desc(), Leave.id.desc()), show


@bp.route("/node/<int:node_id>/leave", methods=["GET", "POST"])
@requires("staffing.view")
def leave(node_id: int):
    community = _community(node_id, "staffing.view")
    manage = can("staffing.manage", community)
    form = LeaveForm()
    form.user_id.choices = _user_choices(community, _("— choose —")) if manage else []
    status = 200
    if request.method == "POST":
        if not manage:
            abort(403)
        if form.validate_on_submit():
            try:
                lv = svc.add_leave(form.user_id.data, form.start_date.data, form.end_date.data, form.reason.data, current_user.id)
            except StaffingError as exc:
                db.session.rollback()
                target = form.reason if "reason" in str(exc).lower() or "原因" in str(exc) else form.end_date
                target.errors = [*target.errors, str(exc)]
                status = 422
            else:
                record("leave.added", lv, summary=f"user {lv.user_id} {lv.start_date}..{lv.end_date}", community_id=community.id)
                if lv.start_date <= security.today():
                    # Under way already: the B-post hears now, not at tomorrow's reminder
                    # (the same key, so the morning run sends nothing twice).
                    from ..reminders import leave_cover_reminders

                    leave_cover_reminders(community.id)
                db.session.commit()
                flash(_("The leave is recorded. The B-post covers while the worker is away."), "success")
                return redirect(url_for("grid.leave", node_id=community.id))
        else:
            status = 422
    show = request.args.get("show", "current")
    stmt, show = _leave_stmt(community, show)
    page = paginate(stmt, per_page=30)
    return render(
        "grid/leave.html", form=form, community=community, page=page, show=show, manage=manage, day=security.today(),
        crumbs=_crumbs(community) + [(community, True)],
    ), status


@bp.route("/node/<int:node_id>/leave/<int:leave_id>/delete", methods=["POST"])
@requires("staffing.manage")
def leave_delete(node_id: int, leave_id: int):
    community = _community(node_id, "staffing.manage")
    lv = db.session.get(Leave, leave_id)
    visible = db.session.scalar(_leave_stmt(community, "all")[0].with_only_columns(Leave.id).where(Leave.id == leave_id).limit(1)) if lv else None
    if lv is None or visible is None:
        abort(404)
    record("leave.deleted", lv, summary=f"user {lv.user_id} {lv.start_date}..{lv.end_date}", community_id=community.id)
    db.session.delete(lv)
    db.session.commit()
    flash(_("The leave was removed."), "success")
    return redirect(url_for("grid.leave", node_id=community.id))
