"""Service records: every module's (through the core's hook) plus the manual
records community staff enter with evidence; a community may reject a record
with a reason, after which it scores nothing."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import DateTime, func, literal, or_, select, update

from core import clock, uploads
from core.extensions import db
from core.models import GridNode, RoleGrant, User, subtree
from core.plugins import ServiceRecord, service_records

from ..models import MODULE, ManualRecord, Member, Rejection
from . import FivestarError

KINDS = ("service", "problem", "duty", "publicity", "mediation", "other")
EVIDENCE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".pdf": "application/pdf",
                  ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                  ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
MAX_EVIDENCE = 5 * 1024 * 1024


def members_stmt(community_id: int):
    """The members registered in a community (a `member` grant on a node of it)."""
    return (
        select(User)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .join(GridNode, GridNode.id == RoleGrant.node_id)
        .where(RoleGrant.role == "member", or_(GridNode.id == community_id, GridNode.community_id == community_id))
        .distinct()
        .order_by(User.id)
    )


def members_of(community_id: int) -> list[User]:
    return list(db.session.scalars(members_stmt(community_id)))


def member_community(member_id: int) -> GridNode | None:
    """The community of a member's home node (their `member` grant)."""
    node = db.session.scalar(
        select(GridNode).join(RoleGrant, RoleGrant.node_id == GridNode.id)
        .where(RoleGrant.user_id == member_id, RoleGrant.role == "member").order_by(RoleGrant.id).limit(1))
    if node is None:
        return None
    return node if node.level == "community" else db.session.get(GridNode, node.community_id)


def member_home(member_id: int) -> GridNode | None:
    return db.session.scalar(
        select(GridNode).join(RoleGrant, RoleGrant.node_id == GridNode.id)
        .where(RoleGrant.user_id == member_id, RoleGrant.role == "member").order_by(RoleGrant.id).limit(1))


def add_manual(*, node: GridNode, member_id: int, day: dt.date, hours: float, kind: str, title: str,
               note: str = "", file_data: bytes | None = None, file_name: str = "", user_id: int | None = None
               ) -> ManualRecord:
    community_id = node.id if node.level == "community" else node.community_id
    if community_id is None:
        raise FivestarError(_("Choose a community or a grid inside one."), "node")
    if member_community(member_id) is None or member_community(member_id).id != community_id:
        raise FivestarError(_("This member is not registered in this community."), "member")
    if day > clock.today():
        raise FivestarError(_("The date cannot be in the future."), "day")
    if hours < 0 or hours > 24:
        raise FivestarError(_("Hours lie between 0 and 24."), "hours")
    if kind not in KINDS:
        raise FivestarError(_("Choose a kind."), "kind")
    if not title.strip():
        raise FivestarError(_("Say what the service was."), "title")
    rec = ManualRecord(node_id=node.id, community_id=community_id, member_id=member_id, day=day, hours=hours,
                       kind=kind, title=title.strip(), note=note.strip(), created_by_id=user_id)
    if file_data:
        suffix = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
        if suffix not in EVIDENCE_TYPES:
            raise FivestarError(_("Evidence may be a photo (JPG, PNG), a PDF, Word or Excel file."), "evidence")
        if len(file_data) > MAX_EVIDENCE:
            raise FivestarError(_("The file is larger than 5 MB."), "evidence")
        rec.evidence_file = uploads.save_bytes(MODULE, file_data, suffix)
        rec.evidence_name = file_name[-200:]
        rec.evidence_type = EVIDENCE_TYPES[suffix]
    db.session.add(rec)
    db.session.flush()
    return rec


def manual_records(member_ids, start: dt.date, end: dt.date) -> list[ServiceRecord]:
    """The manual records as ServiceRecords (the module answers its own hook)."""
    if not member_ids:
        return []
    rows = db.session.scalars(
        select(ManualRecord).where(ManualRecord.member_id.in_(list(member_ids)), ManualRecord.day >= start,
                                   ManualRecord.day <= end))
    return [
        ServiceRecord(source=MODULE, key=r.key, member_id=r.member_id, date=r.day, hours=r.hours, kind=r.kind,
                      title=r.title, community_id=r.community_id,
                      evidence=(r.note[:200] + (" 📎" if r.evidence_file else "")).strip(),
                      link=f"/fivestar/records/{r.id}")
        for r in rows
    ]


def collect(community_id: int, member_ids, start: dt.date, end: dt.date) -> list[ServiceRecord]:
    """Every module's records of these members in this community (or of no community)."""
    return [r for r in service_records(member_ids, start, end) if r.community_id in (community_id, None)]


def rejections(community_id: int, keys=None) -> dict[tuple[str, str], str]:
    stmt = select(Rejection).where(Rejection.community_id == community_id)
    return {(r.source, r.key): r.reason for r in db.session.scalars(stmt)
            if keys is None or (r.source, r.key) in keys}


def reject(*, community_id: int, record: ServiceRecord, reason: str, user_id: int | None,
           locked=None) -> Rejection:
    if not reason.strip():
        raise FivestarError(_("Give the reason for rejecting the record."), "reason")
    if locked is not None and locked(record.date):
        raise FivestarError(_("That month is published; correct it with an amendment instead."), "reason")
    row = Rejection(community_id=community_id, member_id=record.member_id, source=record.source, key=record.key,
                    day=record.date, reason=reason.strip(), by_id=user_id)
    db.session.add(row)
    return row


def find_record(community_id: int, member_id: int, source: str, key: str, day: dt.date) -> ServiceRecord | None:
    for r in collect(community_id, [member_id], day, day):
        if r.source == source and r.key == key:
            return r
    return None


def follow_node_move(new_path: str) -> None:
    """A grid node moved (the core rewrote the tree): manual records and
    members under it take the community their node now lies in."""
    moved = select(GridNode.id).where(subtree(GridNode.path, new_path))
    db.session.execute(
        update(Member).where(Member.node_id.in_(moved))
        .values(community_id=select(func.coalesce(GridNode.community_id, GridNode.id))
                .where(GridNode.id == Member.node_id).scalar_subquery())
        .execution_options(synchronize_session=False))
    db.session.execute(
        update(ManualRecord).where(ManualRecord.node_id.in_(moved))
        .values(community_id=select(GridNode.community_id).where(GridNode.id == ManualRecord.node_id)
                .scalar_subquery())
        .execution_options(synchronize_session=False))


def sync_members(member_ids=None) -> None:
    """Register in fivestar_member every user holding a `member` grant (or
    these ones), and follow a member whose home node changed. Two set-based
    statements; a concurrent run inserting the same member is ignored."""
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    home = (select(RoleGrant.user_id.label("id"), func.min(RoleGrant.node_id).label("node_id"))
            .where(RoleGrant.role == "member").group_by(RoleGrant.user_id))
    if member_ids is not None:
        home = home.where(RoleGrant.user_id.in_(list(member_ids)))
    home = home.subquery()
    rows = (select(home.c.id, home.c.node_id, func.coalesce(GridNode.community_id, GridNode.id),
                   literal(clock.utcnow(), DateTime))
            .join(GridNode, GridNode.id == home.c.node_id)
            .where(~select(Member.id).where(Member.id == home.c.id).exists()))
    stmt = insert(Member.__table__).from_select(["id", "node_id", "community_id", "since"], rows)
    db.session.execute(stmt.on_conflict_do_nothing())
    moved = select(home.c.node_id).where(home.c.id == Member.id).scalar_subquery()
    db.session.execute(
        update(Member).where(Member.node_id != moved)
        .values(node_id=moved, community_id=select(func.coalesce(GridNode.community_id, GridNode.id))
                .where(GridNode.id == moved).scalar_subquery())
        .execution_options(synchronize_session=False))
