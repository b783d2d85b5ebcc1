"""Intake (photos, a new problem from any channel) and triage."""

from __future__ import annotations

import datetime as dt
import difflib
import io
import uuid
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import or_, select

from core import clock, uploads
from core.extensions import db
from core.models import GridNode, Organisation, User, utcnow

from ..models import (
    CHANNELS,
    PRIORITIES,
    Category,
    Event,
    Photo,
    Problem,
)
from .stats import bump, month_key, set_hot_count
from .workflow import CHANNEL_TITLES, InquiryError, _actor, check, transition

# --- Photos --------------------------------------------------------------------------

MODULE = "inquiry"
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 6
MAX_PIXELS = 40_000_000


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
                # The header gives the size: refuse a pixel bomb before decoding it.
                if probe.width * probe.height > MAX_PIXELS:
                    raise InquiryError(_("%(name)s has too many pixels (at most 40 megapixels).", name=name),
                                       field="photos")
                probe.verify()
            img = Image.open(io.BytesIO(raw))
            img.load()
        except InquiryError:
            raise
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise InquiryError(_("%(name)s is not a photo (JPEG, PNG, GIF or WebP).", name=name), field="photos") from None
        img = ImageOps.exif_transpose(img).convert("RGB")
        img.thumbnail((2048, 2048))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85, optimize=True)
        out.append(ReadyPhoto(buf.getvalue(), img.width, img.height))
    return out


def store_photos(problem_id: int, photos: list[ReadyPhoto], stage: str, now: dt.datetime | None = None) -> None:
    """Keep re-encoded photos in the module's upload folder (core.uploads);
    Photo.filename is relative to that folder."""
    now = now or utcnow()
    for p in photos:
        stored = uploads.save_bytes(MODULE, p.data, ".jpg", f"{now:%Y}", f"{now:%m}")
        name = stored.split("/", 1)[1]
        db.session.add(Photo(problem_id=problem_id, stage=stage, filename=name, width=p.width, height=p.height, size=len(p.data)))


def photo_file(photo: Photo) -> str:
    """The stored name of a photo for core.uploads.send (after the object gate)."""
    return f"{MODULE}/{photo.filename}"


# --- Intake --------------------------------------------------------------------------


def _location_columns(node: GridNode) -> dict:
    building_id = None
    if node.level == "building":
        building_id = node.id
    elif node.level == "zone":
        building_id = node.parent_id
    community_id = node.id if node.level == "community" else node.community_id
    return {"node_id": node.id, "node_path": node.path, "community_id": community_id, "building_id": building_id}



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
    if due_date is not None and due_date < clock.local_date(now):
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
