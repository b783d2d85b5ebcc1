"""Pages of Square Inquiry. Thin: parse, check permission and scope, call a
service, render. The Open311 API is in open311.py."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from core import ModuleOff
from core.audit import record
from core.excel import xlsx_response
from core.extensions import db, limiter
from core.models import GridNode, Organisation, utcnow
from core.modules import is_enabled
from core.security import can, node_in_scope_or_404, public, requires, scope_paths
from core.web import paginate, render

from . import services as svc
from .forms import (
    ApiKeyForm,
    CategoryForm,
    DecisionForm,
    DuplicateForm,
    ExtensionForm,
    ExtraDayForm,
    NoteForm,
    PublicReportForm,
    ReasonForm,
    ReportForm,
    ResultForm,
    TriageForm,
    VisitForm,
)
from .models import (
    CHANNELS,
    STATES,
    ApiKey,
    AssignmentSheet,
    Category,
    Extension,
    ExtraDay,
    Photo,
    Problem,
    ReturnVisit,
)

bp = Blueprint("inquiry", __name__, url_prefix="/inquiry", template_folder="templates",
               static_folder="static", static_url_path="/static")

HANDLER_STATES = ("issued", "claimed", "reported", "closed")


@bp.context_processor
def _fast_gettext():
    """Look the catalog up once per request instead of once per string: the
    module's tables label every cell for phones, which is hundreds of strings."""
    from flask_babel import get_translations
    from jinja2.ext import _make_new_gettext

    return {
        "gettext": _make_new_gettext(get_translations().gettext),
        # Row links without a url_for per row.
        "problem_href": url_for("inquiry.problem", problem_id=0)[:-1],
    }


@bp.app_template_filter("inquiry_local")
def _local_time(value, fmt="%Y-%m-%d %H:%M"):
    """A stored UTC datetime as Wuhu local time."""
    return (value + svc.LOCAL_OFFSET).strftime(fmt) if value else ""


# --- Scope -------------------------------------------------------------------------


def _staff_paths() -> list[str] | None:
    """Subtree roots the user sees problems in; None: the whole district."""
    paths = scope_paths("inquiry.view")
    if any(p.count("/") == 2 for p in paths):
        return None
    return paths


def _is_handler() -> bool:
    return can("inquiry.handle") and bool(current_user.organisation_id)


def scoped(stmt):
    """Restrict a select of problems to what the current user may see."""
    if can("inquiry.view"):
        cond = svc.scope_condition(_staff_paths() or [], _staff_paths() is None)
        return stmt if cond is None else stmt.where(cond)
    if _is_handler():
        return stmt.where(Problem.unit_id == current_user.organisation_id, Problem.state.in_(HANDLER_STATES))
    return stmt.where(Problem.id.is_(None))


def _community_ids() -> list[int] | None:
    paths = _staff_paths()
    if paths is None:
        return None
    ids = set()
    for p in paths:
        parts = [int(x) for x in p.strip("/").split("/") if x]
        if len(parts) >= 2:
            ids.add(parts[1])
    return sorted(ids)


def get_problem(problem_id: int) -> Problem:
    """The problem if the user may see it; 404 otherwise (never 403)."""
    stmt = scoped(select(Problem).where(Problem.id == problem_id)).options(
        joinedload(Problem.category), joinedload(Problem.unit), joinedload(Problem.node), joinedload(Problem.community)
    )
    problem = db.session.scalars(stmt).first()
    if problem is None:
        abort(404)
    if problem.community_id and not is_enabled("inquiry", problem.community_id):
        raise ModuleOff(_("Square Inquiry"), problem.community.name if problem.community else "")
    return problem


def _fail(exc: svc.InquiryError, form=None):
    db.session.rollback()
    if form is not None and exc.field and exc.field in form._fields:
        form[exc.field].errors = list(form[exc.field].errors or []) + [str(exc)]
    flash(str(exc), "error")


def _locale() -> str:
    return str(get_locale() or "zh_CN")


def _categories():
    return svc.ensure_categories()


def _category_choices(blank=True):
    loc = _locale()
    choices = [(None, _("— choose —"))] if blank else []
    return choices + [(c.id, svc.category_title(c, loc)) for c in _categories() if c.active]


def _unit_choices():
    depts = _("Department")
    props = _("Property company")
    return [(None, _("— choose —"))] + [
        (o.id, f"{o.name} ({depts if o.kind == 'department' else props})") for o in svc.units()
    ]


def _communities(public_only=False):
    stmt = select(GridNode).where(GridNode.level == "community").order_by(GridNode.sort_order, GridNode.id)
    rows = list(db.session.scalars(stmt))
    if public_only:
        rows = [c for c in rows if is_enabled("inquiry", c.id)]
    else:
        paths = scope_paths("inquiry.report")
        rows = [c for c in rows if any(c.path.startswith(p) or p.startswith(c.path) for p in paths)]
    return rows


def _children(parent_id, level):
    if not parent_id:
        return []
    return list(db.session.execute(
        select(GridNode.id, GridNode.name).where(GridNode.parent_id == parent_id, GridNode.level == level)
        .order_by(GridNode.sort_order, GridNode.id)
    ).all())


def _blank(label=None):
    return [(None, label or _("— any —"))]


def _fill_location(form, with_lower=True, preset: GridNode | None = None):
    """Choices of the cascading location selects (community → estate → building → zone)."""
    if preset is not None and request.method == "GET":
        ids = preset.ancestor_ids()
        names = ["community", "estate", "building", "zone"]
        for i, name in enumerate(names):
            if name in form._fields and len(ids) > i + 1:
                form[name].data = ids[i + 1]
    comms = _communities(public_only=not with_lower)
    form.community.choices = _blank(_("— choose —")) + [(c.id, c.name) for c in comms]
    form.estate.choices = _blank() + _children(form.community.data, "estate")
    if with_lower:
        form.building.choices = _blank() + _children(form.estate.data, "building")
        form.zone.choices = _blank() + _children(form.building.data, "zone")


def _chosen_node(form, with_lower=True) -> GridNode | None:
    """The deepest chosen node, checked to lie under the chosen parents."""
    names = ["community", "estate"] + (["building", "zone"] if with_lower else [])
    node = None
    for name in names:
        nid = form[name].data
        if not nid:
            break
        cand = db.session.get(GridNode, nid)
        if cand is None or (node is not None and cand.parent_id != node.id) or (node is None and cand.level != "community"):
            break
        node = cand
    return node


# --- Index, lists and ledgers ---------------------------------------------------------------


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(scoped(stmt).subquery())) or 0


@bp.route("/")
@requires("inquiry.view")
def index():
    now = utcnow()
    base = select(Problem.id)
    counts = {
        "new": _count(base.where(Problem.state.in_(("new", "returned")))),
        "triaged": _count(base.where(Problem.state == "triaged", Problem.sheet_id.is_(None))),
        "issued": _count(base.where(Problem.state == "issued")),
        "claimed": _count(base.where(Problem.state == "claimed")),
        "overdue": _count(base.where(svc.overdue_condition(now))),
        "reported": _count(base.where(Problem.state == "reported")),
        "supervised": _count(base.where(Problem.supervised.is_(True), Problem.state.in_(("triaged", "issued", "claimed", "reported")))),
        "followups": _count(base.where(Problem.state == "closed", Problem.followup_done_at.is_(None),
                                       Problem.followup_due <= svc.local_today(now))),
    }
    pending_ext = db.session.scalar(
        select(func.count()).select_from(
            scoped(select(Problem.id).join(Extension, Extension.problem_id == Problem.id).where(Extension.state == "pending")).subquery()
        )
    )
    figures = _seed_figures()
    drafts = list(db.session.scalars(select(AssignmentSheet).where(AssignmentSheet.state == "draft").order_by(AssignmentSheet.number)))
    return render("inquiry/index.html", counts=counts, pending_ext=pending_ext, figures=figures, drafts=drafts)


def _seed_figures() -> dict:
    """The headline figures: sheets issued, units reached, property problems solved."""
    cids = _community_ids()
    sheets = db.session.scalar(select(func.count()).select_from(AssignmentSheet).where(AssignmentSheet.state == "issued")) or 0
    from .models import MonthStat

    detail = svc.detail_rows(cids)
    stmt = select(Organisation.kind, func.count(func.distinct(MonthStat.unit_id))).join(
        Organisation, Organisation.id == MonthStat.unit_id).where(MonthStat.assigned > 0, detail)
    pm_stmt = select(func.sum(MonthStat.closed)).join(Category, Category.id == MonthStat.category_id).where(
        Category.property_management.is_(True), detail)
    all_closed = select(func.sum(MonthStat.closed)).where(detail)
    units = dict(db.session.execute(stmt.group_by(Organisation.kind)).all())
    return {
        "sheets": sheets,
        "departments": units.get("department", 0),
        "property_companies": units.get("property_company", 0),
        "property_solved": int(db.session.scalar(pm_stmt) or 0),
        "closed": int(db.session.scalar(all_closed) or 0),
    }


def _filters() -> svc.Filters:
    a = request.args

    def num(k):
        v = a.get(k, "")
        return int(v) if v.isdigit() else None

    def day(k):
        try:
            return dt.date.fromisoformat(a.get(k, ""))
        except ValueError:
            return None

    state = a.get("state", "")
    channel = a.get("channel", "")
    return svc.Filters(
        state=state if state in STATES or state == "open" else "",
        unit_id=num("unit"),
        community_id=num("community"),
        category_id=num("category"),
        channel=channel if channel in CHANNELS else "",
        overdue=a.get("overdue") == "1",
        supervised=a.get("supervised") == "1",
        start=day("start"),
        end=day("end"),
        q=a.get("q", "").strip()[:60],
    )


def _list_stmt(f: svc.Filters, ledger=False):
    stmt = select(Problem)
    if not ledger:
        stmt = stmt.where(Problem.state != "filed")
    stmt = svc.filter_problems(scoped(stmt), f)
    return stmt.order_by(Problem.created_at.desc(), Problem.id.desc())


def _list_context(f):
    return dict(
        f=f,
        states={k: str(v) for k, v in svc.STATE_TITLES.items()},
        channels={k: str(v) for k, v in svc.CHANNEL_TITLES.items()},
        categories=_categories(),
        unit_list=svc.units(),
        communities=[c for c in db.session.scalars(select(GridNode).where(GridNode.level == "community").order_by(GridNode.sort_order, GridNode.id))
                     if _community_ids() is None or c.id in _community_ids()],
        now=utcnow(),
        clock=svc.clock,
        mask_phone=svc.mask_phone,
        mask_name=svc.mask_name,
        loc=_locale(),
        category_title=svc.category_title,
    )


def place_labels(problems) -> dict[int, str]:
    """"Estate building zone" for each problem, from one query for the whole page."""
    ids = set()
    for p in problems:
        ids.update(int(x) for x in p.node_path.strip("/").split("/")[2:] if x)
    names = dict(db.session.execute(select(GridNode.id, GridNode.name).where(GridNode.id.in_(ids))).all()) if ids else {}
    out = {}
    for p in problems:
        parts = [names.get(int(x), "") for x in p.node_path.strip("/").split("/")[2:] if x]
        out[p.id] = " ".join(x for x in parts if x) or (p.community.name if p.community_id and p.community else "")
    return out


COUNT_CAP = 500


def _page(stmt):
    """A page of problems, counted at most COUNT_CAP rows ahead, so that a list
    over the whole district never counts 100,000 rows."""
    return paginate(stmt, options=ROW_OPTIONS, ahead=COUNT_CAP, count_column=Problem.id)


ROW_OPTIONS = (joinedload(Problem.category), joinedload(Problem.unit), joinedload(Problem.node),
               joinedload(Problem.community))


@bp.route("/problems")
@requires("inquiry.view")
def problems():
    f = _filters()
    page = _page(_list_stmt(f))
    return render("inquiry/problems.html", block="results", page=page, title=_("Problem list"), places=place_labels(page.items),
                  endpoint="inquiry.problems", xlsx="inquiry.problems_xlsx", **_list_context(f))


@bp.route("/overdue")
@requires("inquiry.view")
def overdue():
    f = _filters()
    f.overdue = True
    page = _page(svc.filter_problems(scoped(select(Problem)), f).order_by(Problem.deadline, Problem.id))
    return render("inquiry/problems.html", block="results", page=page, title=_("Overdue problems"), places=place_labels(page.items),
                  endpoint="inquiry.overdue", xlsx="inquiry.problems_xlsx", **_list_context(f))


@bp.route("/ledger")
@requires("inquiry.view")
def ledger():
    f = _filters()
    page = _page(_list_stmt(f, ledger=True))
    return render("inquiry/problems.html", block="results", page=page, title=_("Public-opinion ledger"), places=place_labels(page.items),
                  endpoint="inquiry.ledger", xlsx="inquiry.ledger_xlsx", ledger=True, **_list_context(f))


def _xlsx(stmt, filename):
    loc = _locale()
    full = can("inquiry.contact")
    headers = [_("Reference"), _("Received"), _("Channel"), _("Community"), _("Location"), _("Address"), _("Category"),
               _("Description"), _("Reporter"), _("Phone"), _("State"), _("Unit"), _("Sheet"), _("Issued"), _("Deadline"),
               _("Result"), _("Return visit"), _("Closed"), _("Returns"), _("Reopened"), _("Supervised")]
    stmt = stmt.options(joinedload(Problem.category), joinedload(Problem.unit), joinedload(Problem.node),
                        joinedload(Problem.community), joinedload(Problem.sheet))

    def fmt(v):
        return f"{v + svc.LOCAL_OFFSET:%Y-%m-%d %H:%M}" if v else ""

    def rows():
        for batch in db.session.scalars(stmt.execution_options(yield_per=1000)).partitions():
            places = place_labels(batch)
            yield from (row(p, places) for p in batch)

    def row(p, places):
        return [p.ref, fmt(p.created_at), str(svc.CHANNEL_TITLES[p.channel]), p.community.name if p.community else "",
               places[p.id], p.address, svc.category_title(p.category, loc), p.description,
               p.reporter_name if full else svc.mask_name(p.reporter_name),
               p.reporter_phone if full else svc.mask_phone(p.reporter_phone),
               str(svc.STATE_TITLES[p.state]), p.unit.name if p.unit else "", p.sheet.number if p.sheet else "",
               fmt(p.issued_at), fmt(p.deadline), p.result_text,
               str(svc.OUTCOME_TITLES[p.outcome]) if p.outcome else "", fmt(p.closed_at), p.returns_count,
               p.reopen_count, _("yes") if p.supervised else ""]

    record("inquiry.export", summary=f"{filename} (contact {'full' if full else 'masked'})")
    db.session.commit()
    return xlsx_response(filename, headers, rows(), title=filename.rsplit(".", 1)[0])


@bp.route("/problems.xlsx")
@requires("inquiry.export")
def problems_xlsx():
    return _xlsx(_list_stmt(_filters()), _("problem-list") + ".xlsx")


@bp.route("/ledger.xlsx")
@requires("inquiry.export")
def ledger_xlsx():
    return _xlsx(_list_stmt(_filters(), ledger=True), _("opinion-ledger") + ".xlsx")


# --- Intake --------------------------------------------------------------------------------------


@bp.route("/nodes")
@requires("inquiry.report")
def node_options():
    """The next select of the cascading location fields (HTMX)."""
    level = request.args.get("level", "")
    parent_field = {"estate": "community", "building": "estate", "zone": "building"}.get(level)
    if parent_field is None:
        abort(404)
    parent = request.args.get(parent_field, "")
    options = []
    if parent.isdigit():
        if level != "estate":
            node_in_scope_or_404(int(parent), "inquiry.report")
        options = _children(int(parent), level)
    return render("inquiry/_node_select.html", block=None, level=level, options=options, public_form=False)


@bp.route("/public/estates")
@public
def public_estates():
    parent = request.args.get("community", "")
    options = _children(int(parent), "estate") if parent.isdigit() else []
    return render("inquiry/_node_select.html", block=None, level="estate", options=options, public_form=True)


@bp.route("/new", methods=["GET", "POST"])
@requires("inquiry.report")
def new():
    form = ReportForm()
    preset = None
    if request.args.get("node_id", "").isdigit():
        preset = node_in_scope_or_404(int(request.args["node_id"]), "inquiry.report")
    _fill_location(form, preset=preset)
    form.category_id.choices = _category_choices()
    if form.validate_on_submit():
        node = _chosen_node(form)
        if node is None or not can("inquiry.report", node):
            form.community.errors = [_("Choose where the problem is.")]
        else:
            try:
                photos = svc.prepare_photos(request.files.getlist(form.photos.name))
                cat = db.session.get(Category, form.category_id.data) if form.category_id.data else None
                channel = "grid_worker" if "grid_worker" in {r for r, _p in _grants()} and not can("inquiry.triage") else "staff"
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


def _grants():
    from core.security import _grants as grants

    return grants()


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
        if node is None or not is_enabled("inquiry", node.community_id or node.id):
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
    return render("inquiry/public_thanks.html", ref=ref[:24])


# --- One problem -----------------------------------------------------------------------------------


@bp.route("/p/<int:problem_id>")
@requires(None)
def problem(problem_id):
    p = get_problem(problem_id)
    return _problem_page(p)


def _problem_page(p: Problem, forms=None, status=200):
    forms = forms or {}
    loc = _locale()
    triage = forms.get("triage") or TriageForm(formdata=None)
    if "triage" not in forms:
        cat = p.category
        triage.category_id.data = p.category_id
        triage.unit_id.data = p.unit_id or svc.proposed_unit_id(p.node, cat)
        triage.deadline_days.data = p.deadline_days or (cat.deadline_days if cat else 10)
        triage.priority.data = p.priority
        triage.address.data = p.address
    triage.category_id.choices = _category_choices()
    triage.unit_id.choices = _unit_choices()
    proposals = {c.id: {"unit": svc.proposed_unit_id(p.node, c), "days": c.deadline_days} for c in _categories()}
    can_triage = can("inquiry.triage") and p.state in ("new", "returned")
    events = svc.timeline(p.id)
    ctx = dict(
        p=p, place=place_labels([p])[p.id], loc=loc, now=utcnow(), clock=svc.clock(p), events=events, states=svc.STATE_TITLES,
        actions=svc.ACTION_TITLES, channels=svc.CHANNEL_TITLES, outcomes=svc.OUTCOME_TITLES,
        priorities=svc.PRIORITY_TITLES, category_title=svc.category_title,
        triage=triage, proposals=proposals, can_triage=can_triage,
        reject_form=forms.get("reject") or ReasonForm(formdata=None),
        dup_form=forms.get("duplicate") or DuplicateForm(formdata=None),
        opinion_form=forms.get("opinion") or NoteForm(formdata=None),
        candidates=svc.duplicate_candidates(p) if can_triage else [],
        is_unit=_is_handler() and p.unit_id == current_user.organisation_id,
        return_form=forms.get("return") or ReasonForm(formdata=None),
        ext_form=forms.get("extension") or ExtensionForm(formdata=None),
        result_form=forms.get("result") or ResultForm(formdata=None),
        visit_form=forms.get("visit") or VisitForm(formdata=None),
        note_form=forms.get("note") or NoteForm(formdata=None),
        decision_form=DecisionForm(formdata=None),
        pending_ext=svc.pending_extension(p.id),
        extensions=list(db.session.scalars(select(Extension).where(Extension.problem_id == p.id).order_by(Extension.id))),
        visits=list(db.session.scalars(select(ReturnVisit).where(ReturnVisit.problem_id == p.id).order_by(ReturnVisit.id))),
        photos=[ph for ph in p.photos if ph.stage == "report"],
        result_photos=[ph for ph in p.photos if ph.stage == "result"],
        drafts=list(db.session.scalars(select(AssignmentSheet).where(AssignmentSheet.state == "draft").order_by(AssignmentSheet.number))),
        show_contact=request.args.get("contact") == "1" and can("inquiry.contact"),
        mask_phone=svc.mask_phone, mask_name=svc.mask_name,
        allowed=lambda action: svc.allowed(action, p.state),
    )
    from flask import make_response

    return make_response(render("inquiry/problem.html", **ctx), status)


def _act(problem_id, fn, form_key=None, form=None, ok=None):
    """Run a service on a problem; on refusal show the page again with the message."""
    p = get_problem(problem_id)
    if form is not None and not form.validate_on_submit():
        flash(_("Please correct the marked fields."), "error")
        return _problem_page(p, {form_key: form}, 422)
    try:
        fn(p)
        db.session.commit()
    except svc.InquiryError as exc:
        _fail(exc, form)
        p = get_problem(problem_id)
        return _problem_page(p, {form_key: form} if form_key else None, 409 if isinstance(exc, svc.TransitionError) else 422)
    if ok:
        flash(ok, "success")
    return redirect(url_for("inquiry.problem", problem_id=problem_id))


@bp.route("/p/<int:problem_id>/contact", methods=["POST"])
@requires("inquiry.contact")
def reveal_contact(problem_id):
    p = get_problem(problem_id)
    svc.record_contact_view(p, current_user)
    record("inquiry.contact_view", p, summary=p.ref, community_id=p.community_id)
    db.session.commit()
    return redirect(url_for("inquiry.problem", problem_id=problem_id, contact=1))


@bp.route("/p/<int:problem_id>/verify", methods=["POST"])
@requires("inquiry.triage")
def verify(problem_id):
    form = TriageForm()
    form.category_id.choices = _category_choices()
    form.unit_id.choices = _unit_choices()

    def do(p):
        svc.verify(p, current_user, category=db.session.get(Category, form.category_id.data),
                   unit=db.session.get(Organisation, form.unit_id.data), priority=form.priority.data,
                   deadline_days=form.deadline_days.data, due_date=form.due_date.data, address=form.address.data)

    return _act(problem_id, do, "triage", form, _("Triaged: the problem can go on an assignment sheet."))


@bp.route("/p/<int:problem_id>/reject", methods=["POST"])
@requires("inquiry.triage")
def reject(problem_id):
    form = ReasonForm()
    return _act(problem_id, lambda p: svc.reject(p, current_user, form.reason.data), "reject", form, _("Rejected."))


@bp.route("/p/<int:problem_id>/duplicate", methods=["POST"])
@requires("inquiry.triage")
def duplicate(problem_id):
    form = DuplicateForm()

    def do(p):
        ref = (form.duplicate_of.data or "").strip().upper()
        original = db.session.scalars(scoped(select(Problem).where(Problem.ref == ref))).first()
        svc.mark_duplicate(p, current_user, original, form.reason.data)

    return _act(problem_id, do, "duplicate", form, _("Marked as a duplicate."))


@bp.route("/p/<int:problem_id>/opinion", methods=["POST"])
@requires("inquiry.triage")
def file_opinion(problem_id):
    form = NoteForm()
    return _act(problem_id, lambda p: svc.file_opinion(p, current_user, form.note.data), "opinion", form,
                _("Filed in the public-opinion ledger."))


@bp.route("/p/<int:problem_id>/sheet", methods=["POST"])
@requires("inquiry.triage")
def to_sheet(problem_id):
    sheet_id = request.form.get("sheet_id", "")

    def do(p):
        if sheet_id == "new":
            sheet = svc.create_sheet(current_user)
        elif sheet_id.isdigit():
            sheet = db.session.get(AssignmentSheet, int(sheet_id))
            if sheet is None:
                abort(404)
        else:
            raise svc.InquiryError(_("Choose a sheet."))
        svc.add_to_sheet(sheet, p, current_user)

    return _act(problem_id, do, ok=_("Put on the assignment sheet."))


@bp.route("/p/<int:problem_id>/claim", methods=["POST"])
@requires("inquiry.handle")
def claim(problem_id):
    return _act(problem_id, lambda p: svc.claim(p, current_user), ok=_("Signed for: the problem is your unit's to solve."))


@bp.route("/p/<int:problem_id>/return", methods=["POST"])
@requires("inquiry.handle")
def return_problem(problem_id):
    form = ReasonForm()

    def do(p):
        svc.return_to_triage(p, current_user, form.reason.data)

    resp = _act(problem_id, do, "return", form)
    if resp.status_code == 302:
        flash(_("Returned to the community for triage."), "success")
        return redirect(url_for("inquiry.unit"))
    return resp


@bp.route("/p/<int:problem_id>/extension", methods=["POST"])
@requires("inquiry.handle")
def extension(problem_id):
    form = ExtensionForm()
    return _act(problem_id, lambda p: svc.request_extension(p, current_user, form.days.data, form.reason.data),
                "extension", form, _("Extension requested; the community will decide."))


@bp.route("/p/<int:problem_id>/extension/<int:ext_id>", methods=["POST"])
@requires("inquiry.triage")
def decide_extension(problem_id, ext_id):
    form = DecisionForm()

    def do(p):
        ext = db.session.get(Extension, ext_id)
        if ext is None or ext.problem_id != p.id:
            abort(404)
        svc.decide_extension(p, ext, current_user, form.decision.data == "approve", form.note.data)

    return _act(problem_id, do, None, form, _("Decision recorded."))


@bp.route("/p/<int:problem_id>/result", methods=["POST"])
@requires("inquiry.handle")
def result(problem_id):
    form = ResultForm()

    def do(p):
        photos = svc.prepare_photos(request.files.getlist(form.photos.name))
        svc.report_result(p, current_user, form.result_text.data, photos)

    return _act(problem_id, do, "result", form, _("Result reported; the community will visit the reporter."))


@bp.route("/p/<int:problem_id>/visit", methods=["POST"])
@requires("inquiry.visit")
def visit(problem_id):
    form = VisitForm()
    return _act(problem_id, lambda p: svc.return_visit(p, current_user, form.outcome.data, form.note.data),
                "visit", form, _("Return visit recorded."))


@bp.route("/p/<int:problem_id>/supervise", methods=["POST"])
@requires("inquiry.supervise")
def supervise(problem_id):
    form = NoteForm()
    return _act(problem_id, lambda p: svc.supervise(p, current_user, form.note.data), "note", form,
                _("The problem is under supervision."))


@bp.route("/p/<int:problem_id>/followup", methods=["POST"])
@requires("inquiry.visit")
def followup(problem_id):
    form = NoteForm()
    return _act(problem_id, lambda p: svc.record_followup(p, current_user, form.note.data), "note", form,
                _("Follow-up check recorded."))


@bp.route("/photos/<int:photo_id>")
@requires(None)
def photo(photo_id):
    ph = db.session.get(Photo, photo_id)
    if ph is None:
        abort(404)
    get_problem(ph.problem_id)
    path = svc.photo_path(ph)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=3600)


# --- The unit's side -------------------------------------------------------------------------------


@bp.route("/unit")
@requires("inquiry.handle")
def unit():
    if not current_user.organisation_id:
        return render("inquiry/unit.html", page=None, org=None, tab="open", counts={})
    tab = request.args.get("tab", "open")
    states = {"open": ("issued", "claimed"), "reported": ("reported",), "closed": ("closed",)}.get(tab, ("issued", "claimed"))
    base = select(Problem).where(Problem.unit_id == current_user.organisation_id)
    page = _page(base.where(Problem.state.in_(states)).order_by(Problem.supervised.desc(), Problem.deadline, Problem.id))
    counts = dict(db.session.execute(
        select(Problem.state, func.count()).where(Problem.unit_id == current_user.organisation_id,
                                                   Problem.state.in_(HANDLER_STATES)).group_by(Problem.state)).all())
    return render("inquiry/unit.html", block="results", page=page, org=current_user.organisation, tab=tab, counts=counts,
                  places=place_labels(page.items),
                  now=utcnow(), clock=svc.clock, loc=_locale(), category_title=svc.category_title, states=svc.STATE_TITLES)


# --- Assignment sheets --------------------------------------------------------------------------------


@bp.route("/sheets")
@requires("inquiry.view")
def sheets():
    page = paginate(select(AssignmentSheet).order_by(AssignmentSheet.number.desc()), per_page=30)
    return render("inquiry/sheets.html", block="results", page=page)


@bp.route("/sheets/new", methods=["POST"])
@requires("inquiry.triage")
def sheet_new():
    sheet = svc.create_sheet(current_user)
    db.session.commit()
    flash(_("Sheet %(n)s started. Add triaged problems, then issue it.", n=sheet.number), "success")
    return redirect(url_for("inquiry.sheet", sheet_id=sheet.id))


def _sheet_or_404(sheet_id) -> AssignmentSheet:
    sheet = db.session.get(AssignmentSheet, sheet_id)
    if sheet is None:
        abort(404)
    return sheet


def _sheet_groups(sheet):
    rows = list(db.session.scalars(scoped(select(Problem).where(Problem.sheet_id == sheet.id)).options(
        joinedload(Problem.category), joinedload(Problem.unit), joinedload(Problem.node), joinedload(Problem.community))
        .order_by(Problem.unit_id, Problem.id)))
    groups: dict = {}
    for p in rows:
        groups.setdefault(p.unit, []).append(p)
    return rows, groups


@bp.route("/sheets/<int:sheet_id>")
@requires("inquiry.view")
def sheet(sheet_id):
    s = _sheet_or_404(sheet_id)
    rows, groups = _sheet_groups(s)
    waiting = []
    if s.state == "draft":
        waiting = list(db.session.scalars(scoped(select(Problem).where(Problem.state == "triaged", Problem.sheet_id.is_(None)))
                                          .options(joinedload(Problem.unit), joinedload(Problem.category), joinedload(Problem.node))
                                          .order_by(Problem.verified_at, Problem.id).limit(200)))
    return render("inquiry/sheet.html", s=s, rows=rows, groups=groups, waiting=waiting, loc=_locale(),
                  places=place_labels(rows + waiting),
                  category_title=svc.category_title, states=svc.STATE_TITLES, local=svc.LOCAL_OFFSET)


@bp.route("/sheets/<int:sheet_id>/add", methods=["POST"])
@requires("inquiry.triage")
def sheet_add(sheet_id):
    s = _sheet_or_404(sheet_id)
    ids = [int(x) for x in request.form.getlist("problem_id") if x.isdigit()]
    if not ids:
        flash(_("Tick the problems to put on the sheet."), "error")
        return redirect(url_for("inquiry.sheet", sheet_id=s.id))
    problems = list(db.session.scalars(scoped(select(Problem).where(Problem.id.in_(ids)))))
    try:
        for p in problems:
            svc.add_to_sheet(s, p, current_user)
        db.session.commit()
        flash(_("%(n)s problems put on sheet %(s)s.", n=len(problems), s=s.number), "success")
    except svc.InquiryError as exc:
        _fail(exc)
    return redirect(url_for("inquiry.sheet", sheet_id=sheet_id))


@bp.route("/sheets/<int:sheet_id>/remove/<int:problem_id>", methods=["POST"])
@requires("inquiry.triage")
def sheet_remove(sheet_id, problem_id):
    s = _sheet_or_404(sheet_id)
    p = get_problem(problem_id)
    try:
        svc.remove_from_sheet(s, p, current_user)
        db.session.commit()
    except svc.InquiryError as exc:
        _fail(exc)
    return redirect(url_for("inquiry.sheet", sheet_id=sheet_id))


@bp.route("/sheets/<int:sheet_id>/issue", methods=["POST"])
@requires("inquiry.triage")
def sheet_issue(sheet_id):
    s = _sheet_or_404(sheet_id)
    try:
        n = svc.issue_sheet(s, current_user)
        record("inquiry.sheet_issue", s, summary=f"第 {s.number} 期: {n}")
        db.session.commit()
        flash(_("Sheet %(s)s issued: %(n)s problems went to their units; their clocks run from now.", s=s.number, n=n), "success")
    except svc.InquiryError as exc:
        _fail(exc)
    return redirect(url_for("inquiry.sheet", sheet_id=sheet_id))


@bp.route("/sheets/<int:sheet_id>/print")
@requires("inquiry.view")
def sheet_print(sheet_id):
    s = _sheet_or_404(sheet_id)
    rows, groups = _sheet_groups(s)
    return render("inquiry/sheet_print.html", s=s, groups=groups, loc=_locale(), category_title=svc.category_title,
                  places=place_labels(rows),
                  local=svc.LOCAL_OFFSET)


@bp.route("/sheets/<int:sheet_id>.xlsx")
@requires("inquiry.view")
def sheet_xlsx(sheet_id):
    s = _sheet_or_404(sheet_id)
    rows, _groups = _sheet_groups(s)
    loc = _locale()

    def fmt(v):
        return f"{v + svc.LOCAL_OFFSET:%Y-%m-%d}" if v else ""

    headers = [_("Unit"), _("Reference"), _("Community"), _("Location"), _("Address"), _("Category"), _("Description"),
               _("Priority"), _("Deadline"), _("State")]
    data = [[p.unit.name if p.unit else "", p.ref, p.community.name if p.community else "", p.node.name, p.address,
             svc.category_title(p.category, loc), p.description, str(svc.PRIORITY_TITLES[p.priority]), fmt(p.deadline),
             str(svc.STATE_TITLES[p.state])] for p in rows]
    return xlsx_response(_("assignment-sheet-%(n)s", n=s.number) + ".xlsx", headers, data, title=f"{s.number}")


# --- Analysis --------------------------------------------------------------------------------------------


def _month_range():
    today = svc.local_today()
    default_start = f"{today.year - 1}-{today.month:02d}"
    start = request.args.get("from", "")
    end = request.args.get("to", "")
    ok = lambda m: len(m) == 7 and m[4] == "-" and m[:4].isdigit() and m[5:].isdigit()  # noqa: E731
    return (start if ok(start) else default_start), (end if ok(end) else f"{today:%Y-%m}")


@bp.route("/analysis")
@requires("inquiry.analysis")
def analysis():
    start, end = _month_range()
    cids = _community_ids()
    data = svc.analysis(cids, start, end)
    loc = _locale()
    cats = {c.id: svc.category_title(c, loc) for c in _categories()}
    orgs = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.kind.in_(("department", "property_company"))))}
    comms = dict(db.session.execute(select(GridNode.id, GridNode.name).where(GridNode.level == "community")).all())
    hot = svc.hotspots(community_ids=cids)
    buildings = {}
    if hot:
        bids = {h[0] for h in hot}
        for b in db.session.scalars(select(GridNode).where(GridNode.id.in_(bids)).options(selectinload(GridNode.parent))):
            buildings[b.id] = f"{b.parent.name if b.parent else ''} {b.name}"
    t = data["totals"]
    summary = {
        "received": t["received"], "assigned": t["assigned"], "closed": t["closed"],
        "on_time": svc.rate(t["closed_on_time"], t["closed"]),
        "satisfaction": svc.rate(t["satisfied"], t["visits"]),
        "avg_days": round(t["working_days"] / t["closed"], 1) if t["closed"] else None,
        "returns": t["returns"], "reopens": t["reopens"], "supervisions": t["supervisions"],
    }
    months = sorted(data["by_month"])
    cat_rows = sorted(((cats.get(k, _("Not categorised")), v) for k, v in data["by_category"].items()), key=lambda r: -r[1]["received"])
    unit_rows = sorted(((orgs[k], v) for k, v in data["by_unit"].items() if k in orgs), key=lambda r: (-r[1]["assigned"], r[0].name))
    comm_rows = sorted(((comms.get(k, _("District level")), v) for k, v in data["by_community"].items()), key=lambda r: -r[1]["received"])
    charts = _charts(months, data["by_month"], cat_rows, unit_rows, comm_rows)
    return render("inquiry/analysis.html", start=start, end=end, summary=summary, months=months, by_month=data["by_month"],
                  cat_rows=cat_rows, unit_rows=unit_rows, comm_rows=comm_rows, charts=charts, rate=svc.rate,
                  hot=[(buildings.get(b, b), cats.get(c, ""), n) for b, c, n in hot])


def _charts(months, by_month, cat_rows, unit_rows, comm_rows):
    received, closed = _("received"), _("closed out")
    grid = {"left": 40, "right": 16, "top": 36, "bottom": 60, "containLabel": True}
    top_units = unit_rows[:15]
    return {
        "month": {
            "tooltip": {"trigger": "axis"}, "legend": {"data": [received, closed]}, "grid": grid,
            "xAxis": {"type": "category", "data": months}, "yAxis": {"type": "value"},
            "series": [{"name": received, "type": "bar", "data": [by_month[m]["received"] for m in months]},
                       {"name": closed, "type": "line", "data": [by_month[m]["closed"] for m in months]}],
            "color": ["#b3261e", "#1e6b35"],
        },
        "category": {
            "tooltip": {"trigger": "item"},
            "series": [{"type": "pie", "radius": ["35%", "65%"], "data": [{"name": n, "value": v["received"]} for n, v in cat_rows]}],
        },
        "unit": {
            "tooltip": {"trigger": "axis"}, "legend": {"data": [_("issued to units"), closed]},
            "grid": {"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True},
            "xAxis": {"type": "value"}, "yAxis": {"type": "category", "data": [o.short_name or o.name for o, _v in top_units][::-1]},
            "series": [{"name": _("issued to units"), "type": "bar", "data": [v["assigned"] for _o, v in top_units][::-1]},
                       {"name": closed, "type": "bar", "data": [v["closed"] for _o, v in top_units][::-1]}],
            "color": ["#b3261e", "#1e6b35"],
        },
        "community": {
            "tooltip": {"trigger": "axis"}, "grid": grid,
            "xAxis": {"type": "category", "data": [n for n, _v in comm_rows], "axisLabel": {"rotate": 40}},
            "yAxis": {"type": "value"},
            "series": [{"name": received, "type": "bar", "data": [v["received"] for _n, v in comm_rows]}],
            "color": ["#b3261e"],
        },
    }


# --- Node panel and dashboard widgets -----------------------------------------------------------------------


@bp.route("/panel/<int:node_id>")
@requires("inquiry.view")
def node_panel(node_id):
    node = node_in_scope_or_404(node_id, "inquiry.view")
    from core.models import subtree

    stmt = select(Problem).where(subtree(Problem.node_path, node.path)).options(joinedload(Problem.category), joinedload(Problem.node))
    open_n = db.session.scalar(select(func.count()).select_from(Problem).where(subtree(Problem.node_path, node.path), Problem.state.in_(("new", "returned", "triaged", "issued", "claimed", "reported"))))
    recent = list(db.session.scalars(stmt.order_by(Problem.created_at.desc()).limit(5)))
    return render("inquiry/panel.html", node=node, recent=recent, open_n=open_n, states=svc.STATE_TITLES,
                  now=utcnow(), clock=svc.clock, loc=_locale(), category_title=svc.category_title)


@bp.route("/widgets/summary")
@requires("inquiry.view")
def widget_summary():
    now = utcnow()
    base = select(Problem.id)
    counts = {
        "open": _count(base.where(Problem.state.in_(("new", "returned", "triaged", "issued", "claimed", "reported")))),
        "overdue": _count(base.where(svc.overdue_condition(now))),
        "reported": _count(base.where(Problem.state == "reported")),
    }
    return render("inquiry/widget_summary.html", counts=counts, figures=_seed_figures())


@bp.route("/widgets/unit")
@requires("inquiry.handle")
def widget_unit():
    now = utcnow()
    counts = {}
    if current_user.organisation_id:
        base = select(func.count()).select_from(Problem).where(Problem.unit_id == current_user.organisation_id)
        counts = {
            "issued": db.session.scalar(base.where(Problem.state == "issued")),
            "claimed": db.session.scalar(base.where(Problem.state == "claimed")),
            "overdue": db.session.scalar(base.where(svc.overdue_condition(now))),
            "supervised": db.session.scalar(base.where(Problem.supervised.is_(True), Problem.state.in_(("issued", "claimed")))),
        }
    return render("inquiry/widget_unit.html", counts=counts)


# --- Settings: categories, extra days, Open311 keys --------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@requires("inquiry.settings")
def settings():
    cats = _categories()
    day_form = ExtraDayForm(prefix="day")
    key_form = ApiKeyForm(prefix="key")
    new_key = None
    action = request.form.get("action")
    if request.method == "POST":
        if action == "category":
            cat = db.session.get(Category, int(request.form.get("category_id", "0") or 0))
            form = CategoryForm()
            form.default_unit_id.choices = _unit_choices()
            if cat is None:
                abort(404)
            if form.validate_on_submit():
                cat.deadline_days = form.deadline_days.data
                cat.property_management = form.property_management.data
                cat.default_unit_id = form.default_unit_id.data
                record("inquiry.category", cat, summary=f"{cat.code}: {cat.deadline_days}")
                db.session.commit()
                flash(_("Category saved."), "success")
            else:
                flash(_("Working days must be between 1 and 90."), "error")
            return redirect(url_for("inquiry.settings"))
        if action == "day" and day_form.validate_on_submit():
            row = db.session.scalar(select(ExtraDay).where(ExtraDay.day == day_form.day.data)) or ExtraDay(day=day_form.day.data)
            row.is_workday = day_form.is_workday.data == "1"
            row.note = day_form.note.data or ""
            db.session.add(row)
            record("inquiry.extra_day", summary=f"{row.day}: {row.is_workday}")
            db.session.commit()
            flash(_("Day saved."), "success")
            return redirect(url_for("inquiry.settings"))
        if action == "day_delete":
            row = db.session.get(ExtraDay, int(request.form.get("day_id", "0") or 0))
            if row is not None:
                db.session.delete(row)
                db.session.commit()
            return redirect(url_for("inquiry.settings"))
        if action == "key" and key_form.validate_on_submit():
            row, new_key = svc.issue_api_key(key_form.name.data, current_user)
            record("inquiry.api_key", row, summary=row.name)
            db.session.commit()
            flash(_("Key issued. Copy it now: it is shown only once."), "success")
        elif action == "key_revoke":
            row = db.session.get(ApiKey, int(request.form.get("key_id", "0") or 0))
            if row is not None and row.revoked_at is None:
                row.revoked_at = utcnow()
                record("inquiry.api_key_revoke", row, summary=row.name)
                db.session.commit()
                flash(_("Key revoked."), "success")
            return redirect(url_for("inquiry.settings"))
        elif action in ("day", "key"):
            flash(_("Please correct the marked fields."), "error")
    days = list(db.session.scalars(select(ExtraDay).order_by(ExtraDay.day.desc()).limit(100)))
    keys = list(db.session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))
    cat_forms = []
    for c in cats:
        f = CategoryForm(formdata=None, obj=c)
        f.default_unit_id.choices = _unit_choices()
        cat_forms.append((c, f))
    return render("inquiry/settings.html", cat_forms=cat_forms, day_form=day_form, key_form=key_form, days=days, keys=keys,
                  new_key=new_key, loc=_locale(), category_title=svc.category_title)
