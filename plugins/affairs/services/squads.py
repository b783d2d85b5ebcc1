"""Grid squads (网格小分队): an estate's members — cadres, the police officer,
resident representatives, grid workers — and their reports of changed
information. Removing a member keeps their reports."""

from __future__ import annotations

from flask_babel import gettext as _

from core.extensions import db
from core.models import GridNode

from ..models import REPORT_TOPICS, SQUAD_ROLES, SquadMember, SquadReport
from .common import AffairsError, check_phone


def _estate(node: GridNode) -> GridNode:
    if node.level != "estate":
        raise AffairsError(_("Grid squads belong to estates."))
    return node


def add_member(node: GridNode, role: str, name: str, phone: str | None) -> SquadMember:
    _estate(node)
    name = (name or "").strip()
    if not name:
        raise AffairsError(_("Enter the name."), "name")
    if role not in SQUAD_ROLES:
        raise AffairsError(_("Choose the role."), "role")
    member = SquadMember(node_id=node.id, role=role, name=name, phone=check_phone(phone))
    db.session.add(member)
    db.session.flush()
    return member


def add_report(node: GridNode, member_id: int | None, topic: str, content: str, user_id: int | None) -> SquadReport:
    _estate(node)
    content = (content or "").strip()
    if not content:
        raise AffairsError(_("Describe what changed."), "content")
    if topic not in REPORT_TOPICS:
        raise AffairsError(_("Choose the topic."), "topic")
    member = db.session.get(SquadMember, member_id) if member_id else None
    if member_id and (member is None or member.node_id != node.id or not member.active):
        raise AffairsError(_("Choose a member of this squad."), "member_id")
    report = SquadReport(node_id=node.id, member_id=member_id or None, topic=topic, content=content,
                         recorded_by_id=user_id)
    db.session.add(report)
    db.session.flush()
    return report


def remove_member(member: SquadMember) -> SquadMember:
    member.active = False
    return member
