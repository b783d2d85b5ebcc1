"""The rules of Square Inquiry, as plain functions over the session.

No Flask request in here: the views, the Open311 API, the visit hook, the
demo and the tests all go through the same functions. Every change of a
problem goes through `transition()`, a conditional UPDATE ... WHERE
state = <expected> whose row count decides who wins when two people act at
once, and which writes the timeline entry in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import io
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import chinese_calendar
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from core.models import GridNode, Organisation, User, subtree, utcnow
from core.privacy import mask_name, mask_phone  # noqa: F401 - used by views and templates

from .models import (
    CHANNELS,
    OPEN_STATES,
    OUTCOMES,
    PRIORITIES,
    ApiKey,
    AssignmentSheet,
    Category,
    Event,
    Extension,
    ExtraDay,
    HotspotStat,
    MonthStat,
    Photo,
    Problem,
    ReturnVisit,
)


class InquiryError(ValueError):
    """A change the rules refuse; str() is the user's message."""

    def __init__(self, message, field=None):
        super().__init__(str(message))
        self.field = field


class TransitionError(InquiryError):
    """The problem's state does not allow this step (or changed meanwhile)."""


# --- States and the transitions between them --------------------------------

STATE_TITLES = {
    "new": _l("Waiting for triage"),
    "returned": _l("Returned by the unit"),
    "triaged": _l("Triaged"),
    "issued": _l("Issued to the unit"),
    "claimed": _l("Being handled"),
    "reported": _l("Waiting for return visit"),
    "closed": _l("Closed out"),
    "rejected": _l("Rejected"),
    "duplicate": _l("Duplicate"),
    "filed": _l("Filed as opinion"),
}
CHANNEL_TITLES = {
    "grid_worker": _l("Grid worker"),
    "visit": _l("Visit finding"),
    "staff": _l("Community staff"),
    "resident": _l("Resident (public form)"),
    "open311": _l("Open311 API"),
}
PRIORITY_TITLES = {"normal": _l("Normal"), "urgent": _l("Urgent")}
OUTCOME_TITLES = {
    "satisfied": _l("Satisfied"),
    "basically_satisfied": _l("Basically satisfied"),
    "dissatisfied": _l("Dissatisfied"),
    "unreachable": _l("Unreachable"),
}
ACTION_TITLES = {
    "report": _l("Reported"),
    "verify": _l("Verified and triaged"),
    "reject": _l("Rejected as invalid"),
    "duplicate": _l("Marked as duplicate"),
    "file_opinion": _l("Filed as opinion"),
    "add_to_sheet": _l("Put on an assignment sheet"),
    "remove_from_sheet": _l("Taken off the assignment sheet"),
    "issue": _l("Issued to the unit"),
    "claim": _l("Signed for by the unit"),
    "return": _l("Returned by the unit"),
    "request_extension": _l("Extension requested"),
    "approve_extension": _l("Extension approved"),
    "refuse_extension": _l("Extension refused"),
    "report_result": _l("Result reported"),
    "close": _l("Closed out after return visit"),
    "reopen": _l("Reopened: reporter dissatisfied"),
    "unreachable": _l("Return visit: reporter unreachable"),
    "supervise": _l("Put under supervision"),
    "followup": _l("Follow-up check"),
    "view_contact": _l("Reporter contact viewed"),
}

# action: (states it may start from, state it leads to; None = unchanged)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "verify": (frozenset({"new", "returned"}), "triaged"),
    "reject": (frozenset({"new", "returned"}), "rejected"),
    "duplicate": (frozenset({"new", "returned"}), "duplicate"),
    "file_opinion": (frozenset({"new", "returned"}), "filed"),
    "add_to_sheet": (frozenset({"triaged"}), None),
    "remove_from_sheet": (frozenset({"triaged"}), None),
    "issue": (frozenset({"triaged"}), "issued"),
    "claim": (frozenset({"issued"}), "claimed"),
    "return": (frozenset({"issued", "claimed"}), "returned"),
    "request_extension": (frozenset({"issued", "claimed"}), None),
    "approve_extension": (frozenset({"issued", "claimed"}), None),
    "refuse_extension": (frozenset({"issued", "claimed"}), None),
    "report_result": (frozenset({"claimed"}), "reported"),
    "close": (frozenset({"reported"}), "closed"),
    "reopen": (frozenset({"reported"}), "claimed"),
    "unreachable": (frozenset({"reported"}), None),
    "supervise": (frozenset({"triaged", "issued", "claimed", "reported"}), None),
    "followup": (frozenset({"closed"}), None),
}


def allowed(action: str, state: str) -> bool:
    return state in TRANSITIONS[action][0]


def target_state(action: str, state: str) -> str:
    return TRANSITIONS[action][1] or state


def check(action: str, state: str) -> None:
    if not allowed(action, state):
        raise TransitionError(
            _(
                "This cannot be done now: the problem is “%(state)s”. "
                "“%(action)s” needs it to be %(needed)s.",
                state=str(STATE_TITLES[state]),
                action=str(ACTION_TITLES[action]),
                needed=" / ".join(f"“{STATE_TITLES[s]}”" for s in sorted(TRANSITIONS[action][0])),
            )
        )


def _actor(user) -> str:
    return getattr(user, "display_name", None) or ""


def transition(problem: Problem, action: str, user, note: str = "", extra_where=(), event_unit_id=None, **values) -> Problem:
    """Move `problem` by `action`, atomically, and write the timeline entry.

    The UPDATE only matches while the problem is still in the state it was
    read in, so of two people acting at once exactly one wins; the other gets
    a TransitionError and nothing of theirs is saved.
    """
    frm = problem.state
    check(action, frm)
    to = target_state(action, frm)
    now = values.pop("now", None) or utcnow()
    stmt = (
        update(Problem)
        .where(Problem.id == problem.id, Problem.state == frm, Problem.version == problem.version, *extra_where)
        .values(state=to, version=Problem.version + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if db.session.execute(stmt).rowcount != 1:
        db.session.rollback()
        raise TransitionError(
            _("Someone else changed this problem a moment ago; nothing was saved. Reload the page to see its state.")
        )
    db.session.add(
        Event(
            problem_id=problem.id,
            at=now,
            user_id=getattr(user, "id", None),
            actor=_actor(user),
            action=action,
            from_state=frm,
            to_state=to,
            unit_id=event_unit_id if event_unit_id is not None else problem.unit_id,
            note=note or "",
        )
    )
    db.session.flush()
    db.session.expire(problem)
    return problem


def timeline(problem_id: int) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.problem_id == problem_id).order_by(Event.at, Event.id)))


# --- Working days --------------------------------------------------------------

LOCAL_OFFSET = dt.timedelta(hours=8)  # Asia/Shanghai, no daylight saving


def local_date(moment: dt.datetime) -> dt.date:
    return (moment + LOCAL_OFFSET).date()


def local_today(now: dt.datetime | None = None) -> dt.date:
    return local_date(now or utcnow())


def end_of_local_day(day: dt.date) -> dt.datetime:
    """The last second of a local day, as naive UTC."""
    return dt.datetime.combine(day, dt.time(23, 59, 59)) - LOCAL_OFFSET


def extra_days() -> dict[dt.date, bool]:
    """The district's own working days and days off."""
    return dict(db.session.execute(select(ExtraDay.day, ExtraDay.is_workday)).all())


def is_working_day(day: dt.date, extra: dict[dt.date, bool] | None = None) -> bool:
    """The district's table first, then the national calendar (holidays and
    the weekend days that are worked instead), then plain weekdays for years
    the calendar does not know yet."""
    if extra and day in extra:
        return extra[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: dt.date, n: int, extra: dict[dt.date, bool] | None = None) -> dt.date:
    """The n-th working day after `start` (the start day itself does not count)."""
    day = start
    counted = 0
    while counted < n:
        day += dt.timedelta(days=1)
        if is_working_day(day, extra):
            counted += 1
    return day


def working_days_between(start: dt.date, end: dt.date, extra: dict[dt.date, bool] | None = None) -> int:
    """Working days in (start, end]."""
    if end <= start:
        return 0
    n = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day, extra):
            n += 1
    return n


def deadline_for(issued_at: dt.datetime, days: int, extra=None, due_date: dt.date | None = None) -> dt.datetime:
    """When a unit must have reported: the end of the `days`-th working day
    after the local day of issue, or a fixed due date chosen at triage."""
    if due_date is not None and due_date >= local_date(issued_at):
        return end_of_local_day(due_date)
    return end_of_local_day(add_working_days(local_date(issued_at), days, extra))


def warn_share() -> float:
    return float(current_app.config.get("INQUIRY_WARN_SHARE", 0.75))


def clock(problem: Problem, now: dt.datetime | None = None, share: float | None = None) -> str:
    """"" (no clock), "green", "yellow" (most of the time used) or "red" (overdue)."""
    if problem.state not in ("issued", "claimed") or not problem.deadline or not problem.issued_at:
        return ""
    now = now or utcnow()
    if now > problem.deadline:
        return "red"
    total = (problem.deadline - problem.issued_at).total_seconds()
    used = (now - problem.issued_at).total_seconds()
    share = warn_share() if share is None else share
    if total <= 0 or used / total >= share:
        return "yellow"
    return "green"


def overdue_condition(now: dt.datetime):
    return and_(Problem.state.in_(("issued", "claimed")), Problem.deadline < now)


# --- Categories and units ---------------------------------------------------------

DEFAULT_CATEGORIES = [
    # code, name, English, working days, property management
    ("property", "物业管理", "Property management", 10, True),
    ("environment", "环境卫生", "Sanitation and environment", 5, False),
    ("city", "市容城管", "City appearance", 5, False),
    ("roads", "道路设施", "Roads and public facilities", 15, False),
    ("power", "供电照明", "Power and street lighting", 5, False),
    ("water", "供水排水", "Water supply and drainage", 7, False),
    ("safety", "治安消防", "Public safety and fire", 3, False),
    ("housing", "住房建设", "Housing and construction", 15, False),
    ("neighbour", "邻里纠纷", "Neighbour disputes", 10, False),
    ("other", "其他", "Other", 10, False),
]


def ensure_categories() -> list[Category]:
    """The categories, creating the defaults the first time."""
    cats = list(db.session.scalars(select(Category).order_by(Category.sort_order, Category.id)))
    if cats:
        return cats
    for i, (code, name, en, days, pm) in enumerate(DEFAULT_CATEGORIES):
        db.session.add(Category(code=code, name=name, name_en=en, deadline_days=days, property_management=pm, sort_order=i))
    db.session.flush()
    return list(db.session.scalars(select(Category).order_by(Category.sort_order, Category.id)))


def category_title(cat: Category | None, locale: str = "zh_CN") -> str:
    if cat is None:
        return ""
    return cat.name if locale.startswith("zh") or not cat.name_en else cat.name_en


def units() -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.kind.in_(("department", "property_company")), Organisation.active.is_(True))
            .order_by(Organisation.kind, Organisation.name)
        )
    )


def estate_of(node: GridNode) -> GridNode | None:
    if node.level == "estate":
        return node
    if node.level in ("building", "zone"):
        ids = node.ancestor_ids()
        return db.session.get(GridNode, ids[2]) if len(ids) > 2 else None
    return None


def proposed_unit_id(node: GridNode, category: Category | None) -> int | None:
    """For property-management problems, the estate's property company;
    otherwise the category's usual department."""
    if category is None:
        return None
    if category.property_management:
        estate = estate_of(node)
        if estate is not None and estate.property_company_id:
            return estate.property_company_id
    return category.default_unit_id


# --- Photos --------------------------------------------------------------------------

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 6


def upload_folder() -> Path:
    base = current_app.config.get("UPLOAD_FOLDER") or str(Path(current_app.instance_path) / "uploads")
    return Path(base) / "inquiry"


@dataclass
class ReadyPhoto:
    data: bytes
    width: int
    height: int


def prepare_photos(files) -> list[ReadyPhoto]:
    """Check and re-encode uploaded photos; raise InquiryError naming the bad one.

    Re-encoding with Pillow drops whatever else the file carried (EXIF with
    GPS positions, scripts disguised as images) and caps the size.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    out = []
    files = [f for f in files or [] if f is not None and getattr(f, "filename", "x")]
    if len(files) > MAX_PHOTOS:
        raise InquiryError(_("At most %(n)s photos.", n=MAX_PHOTOS), field="photos")
    for f in files:
        name = getattr(f, "filename", "") or _("photo")
        raw = f.read() if hasattr(f, "read") else bytes(f)
        if not raw:
            continue
        if len(raw) > MAX_PHOTO_BYTES:
            raise InquiryError(_("%(name)s is larger than 5 MB.", name=name), field="photos")
        try:
            with Image.open(io.BytesIO(raw)) as probe:
                probe.verify()
            img = Image.open(io.BytesIO(raw))
            img.load()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise InquiryError(_("%(name)s is not a photo (JPEG, PNG, GIF or WebP).", name=name), field="photos") from None
        img = ImageOps.exif_transpose(img).convert("RGB")
        img.thumbnail((2048, 2048))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85, optimize=True)
        out.append(ReadyPhoto(buf.getvalue(), img.width, img.height))
    return out


def store_photos(problem_id: int, photos: list[ReadyPhoto], stage: str, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    folder = upload_folder() / f"{now:%Y}" / f"{now:%m}"
    folder.mkdir(parents=True, exist_ok=True)
    for p in photos:
        name = f"{now:%Y}/{now:%m}/{uuid.uuid4().hex}.jpg"
        (upload_folder() / name).write_bytes(p.data)
        db.session.add(Photo(problem_id=problem_id, stage=stage, filename=name, width=p.width, height=p.height, size=len(p.data)))


def photo_path(photo: Photo) -> Path:
    return upload_folder() / photo.filename


# --- Intake --------------------------------------------------------------------------


def _location_columns(node: GridNode) -> dict:
    building_id = None
    if node.level == "building":
        building_id = node.id
    elif node.level == "zone":
        building_id = node.parent_id
    community_id = node.id if node.level == "community" else node.community_id
    return {"node_id": node.id, "node_path": node.path, "community_id": community_id, "building_id": building_id}


HOT_DAYS = 90
HOT_MIN = 3


def set_hot_count(problem: Problem) -> None:
    """Count the same building and category in the 90 days up to this problem."""
    if not problem.building_id or not problem.category_id:
        problem.hot_count = 1
        return
    problem.hot_count = db.session.scalar(
        select(func.count()).select_from(Problem).where(
            Problem.building_id == problem.building_id, Problem.category_id == problem.category_id,
            Problem.created_at >= problem.created_at - dt.timedelta(days=HOT_DAYS), Problem.created_at <= problem.created_at,
            Problem.state.notin_(("rejected", "duplicate")))
    ) or 1
    key = dict(building_id=problem.building_id, category_id=problem.category_id)
    stmt = (update(HotspotStat).where(HotspotStat.building_id == key["building_id"], HotspotStat.category_id == key["category_id"],
                                      HotspotStat.last_at <= problem.created_at)
            .values(n=problem.hot_count, last_at=problem.created_at).execution_options(synchronize_session=False))
    if db.session.execute(stmt).rowcount:
        return
    exists_ = db.session.scalar(select(HotspotStat.id).where(HotspotStat.building_id == key["building_id"],
                                                           HotspotStat.category_id == key["category_id"]))
    if exists_ is None:
        try:
            with db.session.begin_nested():
                db.session.add(HotspotStat(**key, community_id=problem.community_id, n=problem.hot_count, last_at=problem.created_at))
        except IntegrityError:
            db.session.execute(stmt)


def rebuild_hot_counts() -> None:
    rows = db.session.execute(
        select(Problem.id, Problem.building_id, Problem.category_id, Problem.created_at)
        .where(Problem.building_id.isnot(None), Problem.category_id.isnot(None), Problem.state.notin_(("rejected", "duplicate")))
        .order_by(Problem.building_id, Problem.category_id, Problem.created_at)
    ).all()
    updates = []
    window: list = []
    key = None
    latest: dict[tuple, dict] = {}
    community = dict(db.session.execute(select(GridNode.id, GridNode.community_id).where(GridNode.level == "building")).all())
    for pid, b, c, at in rows:
        if (b, c) != key:
            key, window = (b, c), []
        window.append(at)
        while window[0] < at - dt.timedelta(days=HOT_DAYS):
            window.pop(0)
        if len(window) > 1:
            updates.append({"pid": pid, "n": len(window)})
        latest[key] = {"building_id": b, "category_id": c, "community_id": community.get(b), "n": len(window), "last_at": at}
    db.session.execute(delete(HotspotStat))
    batch = list(latest.values())
    for i in range(0, len(batch), 5000):
        db.session.execute(insert(HotspotStat), batch[i : i + 5000])
    db.session.execute(update(Problem).values(hot_count=1).execution_options(synchronize_session=False))
    if updates:
        from sqlalchemy import bindparam

        stmt = update(Problem.__table__).where(Problem.__table__.c.id == bindparam("pid")).values(hot_count=bindparam("n"))
        db.session.connection().execute(stmt, updates)


def month_key(moment: dt.datetime) -> str:
    return f"{local_date(moment):%Y-%m}"


def create_problem(
    *,
    node: GridNode | None,
    description: str,
    channel: str,
    user: User | None = None,
    category: Category | None = None,
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    source_ref: str = "",
    photos: list[ReadyPhoto] | None = None,
    lat: float | None = None,
    lon: float | None = None,
    token: str | None = None,
    now: dt.datetime | None = None,
) -> Problem:
    """Record a request from any channel; the caller commits."""
    description = (description or "").strip()
    if not description:
        raise InquiryError(_("Describe the problem."), field="description")
    if len(description) > 2000:
        raise InquiryError(_("The description is too long (at most 2000 characters)."), field="description")
    if node is None:
        raise InquiryError(_("Choose where the problem is."), field="node")
    if channel not in CHANNELS:
        raise InquiryError(_("Unknown channel."))
    now = now or utcnow()
    problem = Problem(
        ref=f"tmp-{uuid.uuid4().hex[:16]}",
        state="new",
        channel=channel,
        description=description,
        address=(address or "").strip()[:255],
        category_id=category.id if category else None,
        reporter_name=(reporter_name or "").strip()[:60],
        reporter_phone=(reporter_phone or "").strip()[:20],
        reporter_user_id=getattr(user, "id", None),
        source_ref=(source_ref or "")[:60],
        token=token,
        lat=lat,
        lon=lon,
        created_at=now,
        updated_at=now,
        **_location_columns(node),
    )
    db.session.add(problem)
    db.session.flush()
    problem.ref = f"WZ{problem.id:07d}"
    set_hot_count(problem)
    store_photos(problem.id, photos or [], "report", now)
    db.session.add(
        Event(problem_id=problem.id, at=now, user_id=getattr(user, "id", None), actor=_actor(user) or reporter_name or "",
              action="report", from_state=None, to_state="new", note=str(CHANNEL_TITLES[channel]))
    )
    bump(month_key(now), problem.community_id, problem.category_id, None, received=1)
    db.session.flush()
    return problem


# --- Triage ----------------------------------------------------------------------------


def duplicate_candidates(problem: Problem, limit: int = 5, days: int = 60) -> list[Problem]:
    """Recent problems at the same node or its parent (or in the same building),
    of the same category when one is set, ranked by how alike the texts are."""
    node = problem.node
    near = [node.id] + ([node.parent_id] if node.parent_id else [])
    where = [Problem.node_id.in_(near)]
    if problem.building_id:
        where.append(Problem.building_id == problem.building_id)
    stmt = select(Problem).where(
        or_(*where),
        Problem.id != problem.id,
        Problem.state.notin_(("rejected", "duplicate")),
        Problem.created_at >= problem.created_at - dt.timedelta(days=days),
    )
    if problem.category_id:
        stmt = stmt.where(or_(Problem.category_id == problem.category_id, Problem.category_id.is_(None)))
    rows = list(db.session.scalars(stmt.order_by(Problem.created_at.desc()).limit(50)))
    for r in rows:
        r.similarity = difflib.SequenceMatcher(None, problem.description, r.description).ratio()
    rows.sort(key=lambda r: r.similarity, reverse=True)
    return rows[:limit]


def verify(problem: Problem, user, *, category: Category, unit: Organisation | None, priority: str,
           deadline_days: int, due_date: dt.date | None = None, address: str | None = None, now=None) -> Problem:
    now = now or utcnow()
    check("verify", problem.state)
    if category is None:
        raise InquiryError(_("Choose a category."), field="category_id")
    if unit is None or unit.kind not in ("department", "property_company"):
        raise InquiryError(_("Choose the responsible unit: a department or a property company."), field="unit_id")
    if priority not in PRIORITIES:
        raise InquiryError(_("Choose a priority."), field="priority")
    if not deadline_days or not 1 <= int(deadline_days) <= 90:
        raise InquiryError(_("The deadline must be between 1 and 90 working days."), field="deadline_days")
    if due_date is not None and due_date < local_today(now):
        raise InquiryError(_("The deadline is in the past. Choose today or a later day."), field="due_date")
    values = dict(category_id=category.id, unit_id=unit.id, priority=priority, deadline_days=int(deadline_days),
                  due_date=due_date, verified_at=now, reason="")
    if address is not None:
        values["address"] = address.strip()[:255]
    note = f"{category.name} → {unit.name}"
    old_cat = problem.category_id
    transition(problem, "verify", user, note=note, event_unit_id=unit.id, now=now, **values)
    if old_cat != category.id:
        set_hot_count(problem)
        # The received total follows the category chosen at triage.
        bump(month_key(problem.created_at), problem.community_id, old_cat, None, received=-1)
        bump(month_key(problem.created_at), problem.community_id, category.id, None, received=1)
    return problem


def reject(problem: Problem, user, reason: str, now=None) -> Problem:
    if not (reason or "").strip():
        check("reject", problem.state)
        raise InquiryError(_("Give the reason for rejecting it."), field="reason")
    return transition(problem, "reject", user, note=reason.strip(), reason=reason.strip(), now=now)


def mark_duplicate(problem: Problem, user, original: Problem | None, reason: str = "", now=None) -> Problem:
    check("duplicate", problem.state)
    if original is None or original.id == problem.id:
        raise InquiryError(_("Name the problem this one duplicates (its reference)."), field="duplicate_of")
    text = (reason or "").strip() or _("Duplicate of %(ref)s", ref=original.ref)
    return transition(problem, "duplicate", user, note=f"{original.ref}: {text}", duplicate_of_id=original.id,
                      reason=text, now=now)


def file_opinion(problem: Problem, user, note: str = "", now=None) -> Problem:
    return transition(problem, "file_opinion", user, note=(note or "").strip(), now=now)


# --- Assignment sheets -------------------------------------------------------------------


def next_sheet_number() -> int:
    return (db.session.scalar(select(func.max(AssignmentSheet.number))) or 0) + 1


def create_sheet(user, note: str = "") -> AssignmentSheet:
    for _attempt in range(5):
        sheet = AssignmentSheet(number=next_sheet_number(), state="draft", note=note, created_by_id=getattr(user, "id", None))
        try:
            with db.session.begin_nested():
                db.session.add(sheet)
            return sheet
        except IntegrityError:
            continue
    raise InquiryError(_("Could not number the sheet; try again."))


def sheet_problems(sheet_id: int) -> list[Problem]:
    return list(db.session.scalars(select(Problem).where(Problem.sheet_id == sheet_id).order_by(Problem.unit_id, Problem.id)))


def add_to_sheet(sheet: AssignmentSheet, problem: Problem, user) -> None:
    if sheet.state != "draft":
        raise InquiryError(_("Sheet %(n)s has been issued already; start a new one.", n=sheet.number))
    if problem.sheet_id == sheet.id:
        return
    transition(problem, "add_to_sheet", user, note=_("Sheet %(n)s", n=sheet.number),
               extra_where=(or_(Problem.sheet_id.is_(None), Problem.sheet_id != sheet.id),), sheet_id=sheet.id)
    sheet.n_problems = (sheet.n_problems or 0) + 1


def remove_from_sheet(sheet: AssignmentSheet, problem: Problem, user) -> None:
    if sheet.state != "draft":
        raise InquiryError(_("Sheet %(n)s has been issued already; start a new one.", n=sheet.number))
    if problem.sheet_id != sheet.id:
        raise InquiryError(_("This problem is not on the sheet."))
    transition(problem, "remove_from_sheet", user, note=_("Sheet %(n)s", n=sheet.number), sheet_id=None)
    sheet.n_problems = max(0, (sheet.n_problems or 0) - 1)


def issue_sheet(sheet: AssignmentSheet, user, now=None) -> int:
    """Issue a sheet: every problem on it goes to its unit and its clock starts now."""
    now = now or utcnow()
    problems = sheet_problems(sheet.id)
    if not problems:
        raise InquiryError(_("The sheet is empty: put triaged problems on it first."))
    res = db.session.execute(
        update(AssignmentSheet)
        .where(AssignmentSheet.id == sheet.id, AssignmentSheet.state == "draft")
        .values(state="issued", issued_at=now, issued_by_id=getattr(user, "id", None), n_problems=len(problems))
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:
        db.session.rollback()
        raise InquiryError(_("Sheet %(n)s has been issued already; start a new one.", n=sheet.number))
    extra = extra_days()
    for p in problems:
        deadline = deadline_for(now, p.deadline_days or 10, extra, p.due_date)
        transition(p, "issue", user, note=_("Sheet %(n)s, due %(due)s", n=sheet.number, due=local_date(deadline).isoformat()),
                   issued_at=now, deadline=deadline, now=now)
        bump(month_key(now), p.community_id, p.category_id, p.unit_id, assigned=1)
    db.session.expire(sheet)
    return len(problems)


# --- The unit's side ---------------------------------------------------------------------------


def _unit_guard(problem: Problem, user) -> None:
    if not getattr(user, "organisation_id", None) or problem.unit_id != user.organisation_id:
        raise InquiryError(_("This problem is not assigned to your unit."))


def claim(problem: Problem, user, now=None) -> Problem:
    """The unit signs for the problem; of two handlers at once, one wins."""
    _unit_guard(problem, user)
    now = now or utcnow()
    return transition(problem, "claim", user, extra_where=(Problem.unit_id == user.organisation_id,),
                      claimed_at=now, claimed_by_id=user.id, now=now)


def return_to_triage(problem: Problem, user, reason: str, now=None) -> Problem:
    """The unit says the problem is not theirs: back to triage, counted against the unit."""
    _unit_guard(problem, user)
    check("return", problem.state)
    reason = (reason or "").strip()
    if not reason:
        raise InquiryError(_("Say why the problem is not for your unit."), field="reason")
    now = now or utcnow()
    unit_id = problem.unit_id
    community_id, category_id = problem.community_id, problem.category_id
    transition(problem, "return", user, note=reason, event_unit_id=unit_id, now=now, reason=reason,
               unit_id=None, sheet_id=None, issued_at=None, deadline=None, claimed_at=None, claimed_by_id=None,
               returns_count=Problem.returns_count + 1)
    bump(month_key(now), community_id, category_id, unit_id, returns=1)
    return problem


def pending_extension(problem_id: int) -> Extension | None:
    return db.session.scalar(select(Extension).where(Extension.problem_id == problem_id, Extension.state == "pending"))


def request_extension(problem: Problem, user, days: int, reason: str, now=None) -> Extension:
    _unit_guard(problem, user)
    check("request_extension", problem.state)
    now = now or utcnow()
    if problem.deadline and now > problem.deadline:
        raise InquiryError(_("The deadline has passed: an extension must be asked for before it."))
    if not days or not 1 <= int(days) <= 30:
        raise InquiryError(_("Ask for 1 to 30 working days."), field="days")
    if not (reason or "").strip():
        raise InquiryError(_("Give the reason for the extension."), field="reason")
    if pending_extension(problem.id) is not None:
        raise InquiryError(_("An extension request is already waiting for a decision."))
    transition(problem, "request_extension", user, note=_("%(n)s working days: %(reason)s", n=int(days), reason=reason.strip()), now=now)
    ext = Extension(problem_id=problem.id, days=int(days), reason=reason.strip(), requested_by_id=user.id, requested_at=now)
    db.session.add(ext)
    db.session.flush()
    return ext


def decide_extension(problem: Problem, ext: Extension, user, approve: bool, note: str = "", now=None) -> Extension:
    now = now or utcnow()
    check("approve_extension", problem.state)
    res = db.session.execute(
        update(Extension).where(Extension.id == ext.id, Extension.state == "pending")
        .values(state="approved" if approve else "refused", decided_by_id=user.id, decided_at=now, decision_note=(note or "").strip())
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:
        db.session.rollback()
        raise InquiryError(_("This extension request has been decided already."))
    if approve:
        new_deadline = end_of_local_day(add_working_days(local_date(problem.deadline or now), ext.days, extra_days()))
        transition(problem, "approve_extension", user, note=_("New deadline %(due)s", due=local_date(new_deadline).isoformat()),
                   deadline=new_deadline, extension_count=Problem.extension_count + 1, now=now)
    else:
        transition(problem, "refuse_extension", user, note=(note or "").strip(), now=now)
    db.session.expire(ext)
    return ext


def report_result(problem: Problem, user, text: str, photos: list[ReadyPhoto] | None = None, now=None) -> Problem:
    _unit_guard(problem, user)
    check("report_result", problem.state)
    text = (text or "").strip()
    if not text:
        raise InquiryError(_("Describe what was done."), field="result_text")
    now = now or utcnow()
    transition(problem, "report_result", user, note=text[:200], reported_at=now, result_text=text, now=now)
    store_photos(problem.id, photos or [], "result", now)
    return problem


# --- Supervision, return visit, close-out, follow-up ------------------------------------------


def supervise(problem: Problem, user, note: str = "", now=None) -> Problem:
    check("supervise", problem.state)
    if problem.supervised:
        raise InquiryError(_("This problem is under supervision already."))
    now = now or utcnow()
    transition(problem, "supervise", user, note=(note or "").strip(), supervised=True, supervised_at=now, now=now)
    bump(month_key(now), problem.community_id, problem.category_id, problem.unit_id, supervisions=1)
    return problem


def followup_days() -> int:
    return int(current_app.config.get("INQUIRY_FOLLOWUP_DAYS", 30))


def return_visit(problem: Problem, user, outcome: str, note: str = "", now=None) -> Problem:
    """Record the reporter's verdict: satisfied closes out, dissatisfied reopens
    to the unit with a fresh deadline, unreachable three times closes out."""
    if outcome not in OUTCOMES:
        raise InquiryError(_("Choose the outcome of the return visit."), field="outcome")
    now = now or utcnow()
    frm = problem.state
    if outcome in ("satisfied", "basically_satisfied"):
        check("close", frm)
    elif outcome == "dissatisfied":
        check("reopen", frm)
        if not (note or "").strip():
            raise InquiryError(_("Write down what the reporter is dissatisfied with."), field="note")
    else:
        check("unreachable", frm)
    month = month_key(now)
    key = (problem.community_id, problem.category_id, problem.unit_id)
    note = (note or "").strip()
    label = str(OUTCOME_TITLES[outcome]) + (f": {note}" if note else "")
    unreachable_close = outcome == "unreachable" and problem.unreachable_count + 1 >= 3
    if outcome in ("satisfied", "basically_satisfied") or unreachable_close:
        extra = extra_days()
        on_time = bool(problem.reported_at and problem.deadline and problem.reported_at <= problem.deadline)
        wd = working_days_between(local_date(problem.issued_at or problem.created_at), local_date(now), extra)
        transition(problem, "close", user, note=label, closed_at=now, outcome=outcome, on_time=on_time,
                   working_days_to_close=wd, followup_due=local_today(now) + dt.timedelta(days=followup_days()),
                   unreachable_count=Problem.unreachable_count + (1 if outcome == "unreachable" else 0), now=now)
        bump(month, *key, closed=1, closed_on_time=1 if on_time else 0, working_days=wd,
             visits=0 if unreachable_close else 1, satisfied=0 if unreachable_close else 1)
    elif outcome == "dissatisfied":
        deadline = deadline_for(now, problem.deadline_days or 10, extra_days())
        transition(problem, "reopen", user, note=label, outcome=outcome, reopen_count=Problem.reopen_count + 1,
                   issued_at=now, deadline=deadline, reported_at=None, now=now)
        bump(month, *key, visits=1, reopens=1)
    else:
        transition(problem, "unreachable", user, note=label, outcome=outcome,
                   unreachable_count=Problem.unreachable_count + 1, now=now)
    db.session.add(ReturnVisit(problem_id=problem.id, outcome=outcome, note=note, at=now, by_id=getattr(user, "id", None)))
    db.session.flush()
    return problem


def record_followup(problem: Problem, user, note: str, now=None) -> Problem:
    check("followup", problem.state)
    if problem.followup_done_at is not None:
        raise InquiryError(_("The follow-up check has been recorded already."))
    if not (note or "").strip():
        raise InquiryError(_("Write down what the follow-up check found."), field="note")
    now = now or utcnow()
    return transition(problem, "followup", user, note=note.strip(), followup_done_at=now, followup_note=note.strip(), now=now)


def record_contact_view(problem: Problem, user) -> None:
    db.session.add(Event(problem_id=problem.id, user_id=user.id, actor=_actor(user), action="view_contact",
                         from_state=problem.state, to_state=problem.state))


# --- Maintained totals -------------------------------------------------------------------------

STAT_FIELDS = ("received", "assigned", "closed", "closed_on_time", "working_days", "visits", "satisfied", "returns", "reopens", "supervisions")


ALL = -1  # the "every community" / "every category and unit" rows of MonthStat


def detail_rows(community_ids: list[int] | None):
    """Condition for the MonthStat rows that break totals down by category and
    unit: the district rows, or the given communities' own rows."""
    if community_ids is None:
        return MonthStat.community_id == ALL
    return and_(MonthStat.community_id.in_(community_ids or [-2]), MonthStat.category_id != ALL)


def bump(month: str, community_id, category_id, unit_id, **deltas) -> None:
    """Add to the totals of one month: the community's row for this category
    and unit, the district's row for it, and the community's overall row."""
    comm, cat, unit = community_id or 0, category_id or 0, unit_id or 0
    for key in ((comm, cat, unit), (ALL, cat, unit), (comm, ALL, ALL)):
        _bump_row(dict(month=month, community_id=key[0], category_id=key[1], unit_id=key[2]), deltas)


def _bump_row(key: dict, deltas: dict) -> None:
    where = [getattr(MonthStat, k) == v for k, v in key.items()]
    values = {k: getattr(MonthStat, k) + v for k, v in deltas.items()}
    stmt = update(MonthStat).where(*where).values(**values).execution_options(synchronize_session=False)
    if db.session.execute(stmt).rowcount:
        return
    try:
        with db.session.begin_nested():
            db.session.execute(insert(MonthStat).values(**key, **deltas))
    except IntegrityError:
        db.session.execute(stmt)


def rebuild_stats() -> int:
    """Recompute the maintained totals (and hotspot counts) from the problems and their timeline."""
    rebuild_hot_counts()
    db.session.execute(delete(MonthStat))
    acc: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STAT_FIELDS, 0))
    rows = db.session.execute(
        select(Problem.created_at, Problem.community_id, Problem.category_id, Problem.unit_id, Problem.state,
               Problem.closed_at, Problem.on_time, Problem.working_days_to_close, Problem.outcome)
    )
    for created, comm, cat, unit, state, closed_at, on_time, wd, outcome in rows:
        acc[(month_key(created), comm or 0, cat or 0, 0)]["received"] += 1
        if state == "closed" and closed_at is not None:
            a = acc[(month_key(closed_at), comm or 0, cat or 0, unit or 0)]
            a["closed"] += 1
            a["closed_on_time"] += 1 if on_time else 0
            a["working_days"] += wd or 0
            if outcome in ("satisfied", "basically_satisfied"):
                a["visits"] += 1
                a["satisfied"] += 1
    events = db.session.execute(
        select(Event.at, Event.action, Event.unit_id, Problem.community_id, Problem.category_id)
        .join(Problem, Problem.id == Event.problem_id)
        .where(Event.action.in_(("issue", "return", "reopen", "supervise")))
    )
    field = {"issue": "assigned", "return": "returns", "reopen": "reopens", "supervise": "supervisions"}
    for at, action, unit, comm, cat in events:
        a = acc[(month_key(at), comm or 0, cat or 0, unit or 0)]
        a[field[action]] += 1
        if action == "reopen":
            a["visits"] += 1
    full: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STAT_FIELDS, 0))
    for (month, comm, cat, unit), v in acc.items():
        for key in ((month, comm, cat, unit), (month, ALL, cat, unit), (month, comm, ALL, ALL)):
            row = full[key]
            for f, n in v.items():
                row[f] += n
    batch = [dict(month=k[0], community_id=k[1], category_id=k[2], unit_id=k[3], **v) for k, v in full.items()]
    for i in range(0, len(batch), 2000):
        db.session.execute(insert(MonthStat), batch[i : i + 2000])
    return len(batch)


# --- Lists and analysis ----------------------------------------------------------------------------

@dataclass
class Filters:
    state: str = ""
    unit_id: int | None = None
    community_id: int | None = None
    category_id: int | None = None
    channel: str = ""
    overdue: bool = False
    supervised: bool = False
    start: dt.date | None = None
    end: dt.date | None = None
    q: str = ""


def filter_problems(stmt, f: Filters, now: dt.datetime | None = None):
    now = now or utcnow()
    if f.state == "open":
        stmt = stmt.where(Problem.state.in_(OPEN_STATES))
    elif f.state:
        stmt = stmt.where(Problem.state == f.state)
    if f.unit_id:
        stmt = stmt.where(Problem.unit_id == f.unit_id)
    if f.community_id:
        stmt = stmt.where(Problem.community_id == f.community_id)
    if f.category_id:
        stmt = stmt.where(Problem.category_id == f.category_id)
    if f.channel:
        stmt = stmt.where(Problem.channel == f.channel)
    if f.overdue:
        stmt = stmt.where(overdue_condition(now))
    if f.supervised:
        stmt = stmt.where(Problem.supervised.is_(True))
    if f.start:
        stmt = stmt.where(Problem.created_at >= dt.datetime.combine(f.start, dt.time()) - LOCAL_OFFSET)
    if f.end:
        stmt = stmt.where(Problem.created_at < dt.datetime.combine(f.end + dt.timedelta(days=1), dt.time()) - LOCAL_OFFSET)
    if f.q:
        q = f.q.strip()
        if q.upper().startswith("WZ"):
            stmt = stmt.where(Problem.ref == q.upper())
        else:
            stmt = stmt.where(Problem.description.contains(q, autoescape=True))
    return stmt


def scope_condition(paths: list[str], district_root_paths: bool):
    """Problems under the given subtree roots (all of them for the district)."""
    if district_root_paths:
        return None
    if not paths:
        return Problem.id.is_(None)
    return or_(*[subtree(Problem.node_path, p) for p in paths])


def analysis(community_ids: list[int] | None, start_month: str, end_month: str) -> dict:
    """The 研判 figures from the maintained totals (a few hundred rows a year)."""
    period = [MonthStat.month >= start_month, MonthStat.month <= end_month]
    sums = [func.sum(getattr(MonthStat, f)).label(f) for f in STAT_FIELDS]

    def grouped(col, *where):
        return {r[0]: dict(zip(STAT_FIELDS, [int(v or 0) for v in r[1:]], strict=True))
                for r in db.session.execute(select(col, *sums).where(*period, *where).group_by(col))}

    detail = detail_rows(community_ids)
    by_month = grouped(MonthStat.month, detail)
    by_category = grouped(MonthStat.category_id, detail)
    by_unit = grouped(MonthStat.unit_id, detail)
    comm = MonthStat.community_id != ALL if community_ids is None else MonthStat.community_id.in_(community_ids or [-2])
    by_community = grouped(MonthStat.community_id, comm, MonthStat.category_id == ALL)
    totals = dict.fromkeys(STAT_FIELDS, 0)
    for row in by_month.values():
        for k, v in row.items():
            totals[k] += v
    return {"by_month": by_month, "by_category": by_category, "by_unit": by_unit,
            "by_community": by_community, "totals": totals}


def rate(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 1) if den else None


def hotspots(now: dt.datetime | None = None, community_ids: list[int] | None = None, days: int = HOT_DAYS,
             minimum: int = HOT_MIN, limit: int = 20) -> list[tuple[int, int, int]]:
    """(building_id, category_id, count): the same building and category at
    least `minimum` times within 90 days, the latest of them in the last
    `days` days. The count is the one kept when the latest problem came in."""
    now = now or utcnow()
    stmt = (
        select(HotspotStat.building_id, HotspotStat.category_id, HotspotStat.n)
        .where(HotspotStat.n >= minimum, HotspotStat.last_at >= now - dt.timedelta(days=days))
        .order_by(HotspotStat.n.desc(), HotspotStat.last_at.desc())
        .limit(limit)
    )
    if community_ids is not None:
        stmt = stmt.where(HotspotStat.community_id.in_(community_ids or [-1]))
    return [tuple(r) for r in db.session.execute(stmt)]


# --- Open311 keys -----------------------------------------------------------------------------------


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_api_key(name: str, user) -> tuple[ApiKey, str]:
    name = (name or "").strip()
    if not name:
        raise InquiryError(_("Name the integration that will use the key."), field="name")
    key = secrets.token_urlsafe(24)
    row = ApiKey(name=name[:80], key_hash=hash_key(key), prefix=key[:6], created_by_id=getattr(user, "id", None))
    db.session.add(row)
    db.session.flush()
    return row, key


def check_api_key(key: str | None) -> ApiKey | None:
    if not key:
        return None
    row = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None)))
    if row is not None:
        row.last_used_at = utcnow()
        row.n_requests = (row.n_requests or 0) + 1
    return row


def follow_node_move(old_path: str, new_path: str) -> None:
    """A grid node moved: the problems under it take the new path and community
    (their scope and community filters read these copies)."""
    from sqlalchemy import literal

    community = (
        select(GridNode.community_id).where(GridNode.id == Problem.node_id).scalar_subquery()
    )
    db.session.execute(
        update(Problem)
        .where(subtree(Problem.node_path, old_path))
        .values(
            node_path=literal(new_path) + func.substr(Problem.node_path, len(old_path) + 1),
            community_id=community,
        )
        .execution_options(synchronize_session=False)
    )
