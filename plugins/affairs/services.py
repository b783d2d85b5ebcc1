"""Rules of grid affairs: plain functions over the session, no Flask request.

ID numbers, masking, the admission list, the weekly quota with A/B cover,
people due for a visit, the hand-off of problems to another module, and the
Excel import (upsert by ID-card number).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, insert, or_, select, update
from stdnum import exceptions as stdnum_exc
from stdnum.cn import ric

from core.extensions import db
from core.models import GridNode, GridPost, RoleGrant, User, subtree
from core.privacy import mask_id, mask_phone  # noqa: F401 - used by views and templates
from core.staffing import is_on_leave

from .models import (
    BUILTIN_GROUPS,
    EMPLOYMENT,
    FINDINGS,
    HOUSE_USES,
    OCCUPANCIES,
    RESIDENCE,
    SOCIAL_SECURITY,
    AffairCategory,
    AffairItem,
    AffairsSetting,
    AffairTask,
    GroupTag,
    GroupType,
    House,
    Household,
    ImportJob,
    NodeTotal,
    Resident,
    SquadMember,
    SquadReport,
    Visit,
)


class AffairsError(ValueError):
    """A change the rules refuse; str() is the user's message, `field` where it belongs."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- Labels -----------------------------------------------------------------------

LABELS = {
    # house use
    "residential": _l("Residential"),
    "commercial": _l("Commercial"),
    "mixed": _l("Mixed use"),
    # occupancy
    "owner": _l("Owner-occupied"),
    "rented": _l("Rented"),
    "vacant": _l("Vacant"),
    # residence
    "registered": _l("Registered residence"),
    "non_registered": _l("Non-registered residence"),
    # social security
    "employee": _l("Employee insurance"),
    "resident": _l("Resident insurance"),
    "none": _l("None"),
    "unknown": _l("Unknown"),
    # employment
    "employed": _l("Employed"),
    "self_employed": _l("Self-employed"),
    "unemployed": _l("Unemployed"),
    "retired": _l("Retired"),
    "student": _l("Student"),
    "preschool": _l("Pre-school child"),
    "other": _l("Other"),
    # special groups
    "hardship": _l("Hardship family"),
    "single_parent": _l("Single-parent family"),
    "empty_nest": _l("Empty-nest elderly"),
    "left_behind_child": _l("Left-behind child"),
    "disability": _l("Person with disability"),
    # squad roles
    "cadre": _l("Community cadre"),
    "police": _l("Police officer"),
    "resident_rep": _l("Resident representative"),
    "grid_worker": _l("Grid worker"),
    # report topics
    "population": _l("Population"),
    "housing": _l("Housing"),
    "party_members": _l("Party members"),
    "social_security": _l("Social security"),
    "employment": _l("Employment"),
    "safety": _l("Safety"),
    "special_groups": _l("Special groups"),
    # visits
    "home": _l("Home visit"),
    "phone": _l("Phone call"),
    "street": _l("Met on the street"),
    "opinion": _l("Opinion"),
    "request": _l("Request"),
    "problem": _l("Problem"),
    # task status
    "pending": _l("Not started"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    # import jobs
    "queued": _l("Waiting"),
    "running": _l("Running"),
    "failed": _l("Failed"),
    # levels
    "district": _l("District"),
    "community": _l("Community"),
    "estate": _l("Estate"),
    "building": _l("Building"),
    "zone": _l("Zone"),
    # sex
    "M": _l("Male"),
    "F": _l("Female"),
}
# "none" is a finding too; the same word serves both.


def label(code) -> str:
    if code is None:
        return ""
    return str(LABELS.get(code, code))


def group_name(group: GroupType) -> str:
    if group.builtin and group.code in LABELS:
        return str(LABELS[group.code])
    return group.name or group.code


# --- ID numbers and phones ------------------------------------------------------------

PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


@dataclass(frozen=True)
class IdInfo:
    number: str
    birth_date: dt.date
    sex: str  # "M" | "F"


@functools.lru_cache(maxsize=4096)
def _birth_place_ok(area: str, year: int) -> bool:
    """Was `area` an area code in `year`? (stdnum's table of county codes.)"""
    try:
        ric.get_birth_place(f"{area}{year:04d}01010000")
    except stdnum_exc.ValidationError:
        return False
    return True


def parse_id_number(raw) -> IdInfo:
    """Validate a mainland resident ID-card number; derive birth date and sex.

    Raises AffairsError naming what is wrong (length, checksum, date)."""
    number = re.sub(r"[\s-]", "", str(raw or "")).upper()
    if not number:
        raise AffairsError(_("Enter the ID-card number."), "id_number")
    # The steps of stdnum.cn.ric.validate, in its order, with the area-code
    # lookup cached: an import checks 100,000 numbers of a few area codes.
    if len(number) != 18:
        raise AffairsError(_("An ID-card number has 18 characters."), "id_number")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise AffairsError(_("An ID-card number is 17 digits and a final digit or X."), "id_number")
    if number[17] != ric.calc_check_digit(number):
        raise AffairsError(_("The check digit does not match: the number is mistyped."), "id_number")
    try:
        birth = ric.get_birth_date(number)
    except stdnum_exc.ValidationError:
        birth = None
    if birth is None or not _birth_place_ok(number[:6], birth.year):
        raise AffairsError(_("The birth date or area code in the number is not valid."), "id_number")
    if birth > dt.date.today():
        raise AffairsError(_("The birth date in the number lies in the future."), "id_number")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdInfo(number, birth, sex)


def check_phone(raw) -> str | None:
    phone = str(raw or "").strip().replace(" ", "")
    if not phone:
        return None
    if not PHONE_RE.match(phone):
        raise AffairsError(_("Enter an 11-digit mobile number or a landline such as 0553-1234567."), "phone")
    return phone


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# --- Scope helpers ------------------------------------------------------------------------


def paths_condition(path_column, paths: list[str]):
    """SQL condition: `path_column` lies under one of `paths` (none: nothing)."""
    if not paths:
        return False
    return or_(*[subtree(path_column, p) for p in paths])


def node_holders(node_ids) -> list[tuple]:
    out = []
    ids = list(node_ids)
    for title, model in (
        (_l("houses"), House),
        (_l("residents"), Resident),
        (_l("visits"), Visit),
        (_l("grid checklist items"), AffairTask),
        (_l("grid squad members"), SquadMember),
        (_l("squad reports"), SquadReport),
    ):
        n = db.session.scalar(select(func.count()).select_from(model).where(model.node_id.in_(ids)))
        if n:
            out.append((title, n))
    return out


# --- Maintained totals per grid node -----------------------------------------------------
#
# Keys: "residents", "party", "non_registered", "houses", "occ:<occupancy>" and
# "group:<group type id>" (open periods: no end date). Each node holds the
# totals of its whole subtree, itself included.


def _ancestor_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def _node_path(node_id: int) -> str:
    return db.session.scalar(select(GridNode.path).where(GridNode.id == node_id)) or ""


def bump_totals(node_id: int, deltas: dict[str, int]) -> None:
    """Add `deltas` to the totals of the node and of every ancestor."""
    deltas = {k: v for k, v in deltas.items() if v}
    if not deltas or node_id is None:
        return
    ids = _ancestor_ids(_node_path(node_id))
    if not ids:
        return
    have = set(
        db.session.execute(
            select(NodeTotal.node_id, NodeTotal.key).where(NodeTotal.node_id.in_(ids), NodeTotal.key.in_(list(deltas)))
        ).all()
    )
    missing = [{"node_id": i, "key": k, "value": 0} for i in ids for k in deltas if (i, k) not in have]
    if missing:
        db.session.execute(insert(NodeTotal), missing)
    for k, d in deltas.items():
        db.session.execute(
            update(NodeTotal).where(NodeTotal.node_id.in_(ids), NodeTotal.key == k)
            .values(value=NodeTotal.value + d).execution_options(synchronize_session=False)
        )


def _resident_keys(party: bool, residence: str, open_groups) -> dict[str, int]:
    out = {"residents": 1, "party": 1 if party else 0, "non_registered": 1 if residence == "non_registered" else 0}
    for gid in open_groups:
        out[f"group:{gid}"] = out.get(f"group:{gid}", 0) + 1
    return out


def _open_groups(resident_id: int) -> list[int]:
    return list(db.session.scalars(
        select(GroupTag.group_type_id).where(GroupTag.resident_id == resident_id, GroupTag.end_date.is_(None))
    ))


def _diff(new: dict, old: dict, sign: int = 1) -> dict:
    keys = set(new) | set(old)
    return {k: sign * (new.get(k, 0) - old.get(k, 0)) for k in keys}


def _house_people_keys(house_id: int) -> dict[str, int]:
    """The totals the residents of a house contribute (to move them with the house)."""
    n, party, nonreg = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Resident.party_member.is_(True), 1), else_=0)), 0),
            func.coalesce(func.sum(case((Resident.residence == "non_registered", 1), else_=0)), 0),
        ).where(Resident.house_id == house_id)
    ).one()
    out = {"residents": n or 0, "party": party or 0, "non_registered": nonreg or 0}
    for gid, c in db.session.execute(
        select(GroupTag.group_type_id, func.count())
        .join(Resident, Resident.id == GroupTag.resident_id)
        .where(Resident.house_id == house_id, GroupTag.end_date.is_(None))
        .group_by(GroupTag.group_type_id)
    ):
        out[f"group:{gid}"] = c
    return out


def node_totals(node_ids) -> dict[str, int]:
    """The maintained totals of the subtrees of `node_ids` (disjoint), summed by key."""
    out: dict[str, int] = {}
    ids = list(node_ids)
    if not ids:
        return out
    for k, v in db.session.execute(
        select(NodeTotal.key, func.sum(NodeTotal.value)).where(NodeTotal.node_id.in_(ids)).group_by(NodeTotal.key)
    ):
        out[k] = int(v or 0)
    return out


def _minimal_paths(paths) -> list[str]:
    out: list[str] = []
    for p in sorted(set(paths), key=len):
        if not any(p.startswith(q) for q in out):
            out.append(p)
    return out


def recompute_totals(paths: list[str] | None = None) -> None:
    """Recompute the totals of the subtrees at `paths` (all nodes: None) from
    the rows, with grouped SQL per node, and carry the change up to the
    ancestors. Used after bulk work: the demo and each import."""
    from sqlalchemy import delete, true

    roots = _minimal_paths(paths) if paths is not None else [None]
    for root in roots:
        cond = subtree(GridNode.path, root) if root else true()
        depth = len(_ancestor_ids(root)) - 1 if root else 0
        totals: dict[tuple[int, str], int] = {}

        def add(path, key, value, _totals=totals, _depth=depth):
            if not value:
                return
            for aid in _ancestor_ids(path)[_depth:]:
                _totals[(aid, key)] = _totals.get((aid, key), 0) + int(value)

        for path, n, party, nonreg in db.session.execute(
            select(
                GridNode.path,
                func.count(),
                func.coalesce(func.sum(case((Resident.party_member.is_(True), 1), else_=0)), 0),
                func.coalesce(func.sum(case((Resident.residence == "non_registered", 1), else_=0)), 0),
            ).join(GridNode, GridNode.id == Resident.node_id).where(cond).group_by(GridNode.path)
        ):
            add(path, "residents", n)
            add(path, "party", party)
            add(path, "non_registered", nonreg)
        for path, occ, n in db.session.execute(
            select(GridNode.path, House.occupancy, func.count())
            .join(GridNode, GridNode.id == House.node_id).where(cond).group_by(GridNode.path, House.occupancy)
        ):
            add(path, "houses", n)
            add(path, f"occ:{occ}", n)
        for path, gid, n in db.session.execute(
            select(GridNode.path, GroupTag.group_type_id, func.count())
            .join(Resident, Resident.id == GroupTag.resident_id)
            .join(GridNode, GridNode.id == Resident.node_id)
            .where(cond, GroupTag.end_date.is_(None))
            .group_by(GridNode.path, GroupTag.group_type_id)
        ):
            add(path, f"group:{gid}", n)
        if root is None:
            db.session.execute(delete(NodeTotal))
        else:
            root_id = _ancestor_ids(root)[-1]
            old = node_totals([root_id])
            new = {k: v for (nid, k), v in totals.items() if nid == root_id}
            above = _ancestor_ids(root)[:-1]
            if above:
                bump_totals(above[-1], _diff(new, old))
            db.session.execute(
                delete(NodeTotal).where(NodeTotal.node_id.in_(select(GridNode.id).where(cond)))
                .execution_options(synchronize_session=False)
            )
        rows = [{"node_id": nid, "key": k, "value": v} for (nid, k), v in totals.items()]
        for i in range(0, len(rows), 5000):
            db.session.execute(insert(NodeTotal), rows[i:i + 5000])
    db.session.flush()


# --- Houses and residents -----------------------------------------------------------------


def house_node_or_error(code_or_node, scope: list[str]) -> GridNode:
    """A building or zone in scope for a house; AffairsError on the 'building' field."""
    node = code_or_node
    if not isinstance(node, GridNode):
        code = str(code_or_node or "").strip()
        if not code:
            raise AffairsError(_("Choose the building."), "building")
        node = db.session.scalar(select(GridNode).where(GridNode.code == code))
    if node is None or not any(node.path.startswith(p) for p in scope):
        raise AffairsError(_("There is no building with this grid code in your grids."), "building")
    if node.level not in ("building", "zone"):
        raise AffairsError(_("A house belongs to a building or a zone of a building."), "building")
    return node


def save_house(house: House | None, node: GridNode, unit: str, floor, room: str, use: str, occupancy: str,
               area_m2=None, notes=None) -> House:
    unit = (unit or "").strip()
    room = (room or "").strip()
    if not room:
        raise AffairsError(_("Enter the room number."), "room")
    if use not in HOUSE_USES:
        raise AffairsError(_("Choose the use."), "use")
    if occupancy not in OCCUPANCIES:
        raise AffairsError(_("Choose how the house is occupied."), "occupancy")
    clash = db.session.scalar(
        select(House.id).where(House.node_id == node.id, House.unit == unit, House.room == room)
    )
    if clash is not None and (house is None or clash != house.id):
        raise AffairsError(_("This building already has a house with this unit and room."), "room")
    old_node, old_occ = (house.node_id, house.occupancy) if house is not None else (None, None)
    if house is None:
        house = House(node_id=node.id)
        db.session.add(house)
    moved = house.node_id != node.id
    house.node_id = node.id
    house.unit, house.floor, house.room = unit, floor, room
    house.use, house.occupancy, house.area_m2, house.notes = use, occupancy, area_m2, notes
    db.session.flush()
    if moved:
        people = _house_people_keys(house.id)
        bump_totals(old_node, {k: -v for k, v in people.items()})
        bump_totals(node.id, people)
        db.session.execute(update(Resident).where(Resident.house_id == house.id).values(node_id=node.id))
    new_keys = {"houses": 1, f"occ:{occupancy}": 1}
    if old_node is None:
        bump_totals(node.id, new_keys)
    elif old_node != node.id or old_occ != occupancy:
        bump_totals(old_node, {"houses": -1, f"occ:{old_occ}": -1})
        bump_totals(node.id, new_keys)
    return house


def save_resident(resident: Resident | None, *, house: House | None, name: str, id_number: str, phone=None,
                  residence="registered", party_member=False, social_security="unknown", employment="other",
                  household_id=None, notes=None) -> Resident:
    """Create or update a resident; AffairsError (with its field) when a rule fails. Nothing is flushed then."""
    name = (name or "").strip()
    if not name:
        raise AffairsError(_("Enter the name."), "name")
    info = parse_id_number(id_number)
    phone = check_phone(phone)
    if house is None:
        raise AffairsError(_("Every resident lives in a house: choose one."), "house_id")
    clash = db.session.scalar(select(Resident.id).where(Resident.id_number == info.number))
    if clash is not None and (resident is None or clash != resident.id):
        raise AffairsError(_("A resident with this ID-card number is registered already."), "id_number")
    if household_id:
        hh = db.session.get(Household, household_id)
        if hh is None or hh.house_id != house.id:
            raise AffairsError(_("The household must live in the chosen house."), "household_id")
    old = None
    if resident is None:
        resident = Resident()
        db.session.add(resident)
    else:
        old = (resident.node_id, _resident_keys(resident.party_member, resident.residence, _open_groups(resident.id)))
    resident.house_id, resident.node_id = house.id, house.node_id
    resident.household_id = household_id or None
    resident.name, resident.id_number = name, info.number
    resident.birth_date, resident.sex = info.birth_date, info.sex
    resident.phone = phone
    resident.residence = residence if residence in RESIDENCE else "registered"
    resident.party_member = bool(party_member)
    resident.social_security = social_security if social_security in SOCIAL_SECURITY else "unknown"
    resident.employment = employment if employment in EMPLOYMENT else "other"
    resident.notes = notes or None
    db.session.flush()
    new = _resident_keys(resident.party_member, resident.residence, _open_groups(resident.id) if old else ())
    if old is None:
        bump_totals(resident.node_id, new)
    elif old[0] == resident.node_id:
        bump_totals(resident.node_id, _diff(new, old[1]))
    else:
        bump_totals(old[0], {k: -v for k, v in old[1].items()})
        bump_totals(resident.node_id, new)
    return resident


def remove_resident(resident: Resident) -> None:
    """A resident moved away or died: remove the person and their special-group
    periods; their visits stay (on the house) for the worker's record and quota."""
    from sqlalchemy import delete

    keys = _resident_keys(resident.party_member, resident.residence, _open_groups(resident.id))
    bump_totals(resident.node_id, {k: -v for k, v in keys.items()})
    db.session.execute(update(Visit).where(Visit.resident_id == resident.id).values(resident_id=None))
    db.session.execute(delete(GroupTag).where(GroupTag.resident_id == resident.id))
    db.session.delete(resident)
    db.session.flush()


def residents_stmt(scope_cond, node: GridNode | None = None, q: str = "", group_id: int | None = None,
                   today: dt.date | None = None):
    stmt = (
        select(Resident)
        .join(GridNode, GridNode.id == Resident.node_id)
        .where(scope_cond)
        .order_by(GridNode.path, Resident.name, Resident.id)
    )
    if node is not None:
        stmt = stmt.where(subtree(GridNode.path, node.path))
    q = (q or "").strip()
    if q:
        # Search by name, or by the full ID number / phone (never by fragments of them).
        stmt = stmt.where(or_(Resident.name.contains(q), Resident.id_number == q.upper(), Resident.phone == q))
    if group_id:
        today = today or dt.date.today()
        stmt = stmt.where(
            exists().where(
                GroupTag.resident_id == Resident.id,
                GroupTag.group_type_id == group_id,
                GroupTag.start_date <= today,
                or_(GroupTag.end_date.is_(None), GroupTag.end_date >= today),
            )
        )
    return stmt


def houses_stmt(scope_cond, node: GridNode | None = None, q: str = ""):
    stmt = (
        select(House)
        .join(GridNode, GridNode.id == House.node_id)
        .where(scope_cond)
        .order_by(GridNode.path, House.unit, House.room, House.id)
    )
    if node is not None:
        stmt = stmt.where(subtree(GridNode.path, node.path))
    if q:
        stmt = stmt.where(or_(House.room.contains(q.strip()), GridNode.name.contains(q.strip())))
    return stmt


def subtree_counts(node: GridNode) -> dict:
    """Residents, houses and occupancy of a subtree: the node's maintained totals."""
    t = node_totals([node.id])
    return {
        "residents": t.get("residents", 0),
        "houses": t.get("houses", 0),
        "occupancy": {o: t[f"occ:{o}"] for o in OCCUPANCIES if t.get(f"occ:{o}")},
        "party_members": t.get("party", 0),
        "non_registered": t.get("non_registered", 0),
    }


# --- Special groups -------------------------------------------------------------------------

DEFAULT_INTERVALS = {"empty_nest": 14, "left_behind_child": 14, "disability": 30, "hardship": 30, "single_parent": 30}


def ensure_group_types() -> list[GroupType]:
    """The five built-in groups exist (created on first use)."""
    have = {g.code: g for g in db.session.scalars(select(GroupType))}
    for i, code in enumerate(BUILTIN_GROUPS):
        if code not in have:
            g = GroupType(code=code, builtin=True, visit_interval_days=DEFAULT_INTERVALS[code], sort_order=i)
            db.session.add(g)
            have[code] = g
    db.session.flush()
    return sorted(have.values(), key=lambda g: (g.sort_order, g.id))


def active_tag_condition(today: dt.date):
    return and_(GroupTag.start_date <= today, or_(GroupTag.end_date.is_(None), GroupTag.end_date >= today))


def add_tag(resident: Resident, group: GroupType, start: dt.date, end: dt.date | None, notes: str | None,
            user_id: int | None) -> GroupTag:
    if end is not None and end < start:
        raise AffairsError(_("The period ends before it starts."), "end_date")
    overlap = db.session.scalar(
        select(GroupTag.id).where(
            GroupTag.resident_id == resident.id,
            GroupTag.group_type_id == group.id,
            or_(GroupTag.end_date.is_(None), GroupTag.end_date >= start),
            GroupTag.start_date <= (end or dt.date.max),
        )
    )
    if overlap is not None:
        raise AffairsError(_("This person is in this group for an overlapping period already."), "group_type_id")
    tag = GroupTag(resident_id=resident.id, group_type_id=group.id, start_date=start, end_date=end,
                   notes=notes or None, created_by_id=user_id)
    db.session.add(tag)
    db.session.flush()
    if end is None:
        bump_totals(resident.node_id, {f"group:{group.id}": 1})
    return tag


def end_tag(tag: GroupTag, end: dt.date, user_id: int | None, notes: str | None = None) -> GroupTag:
    if end < tag.start_date:
        raise AffairsError(_("The period ends before it starts."), "end_date")
    if tag.end_date is None:
        node_id = db.session.scalar(select(Resident.node_id).where(Resident.id == tag.resident_id))
        bump_totals(node_id, {f"group:{tag.group_type_id}": -1})
    tag.end_date = end
    tag.ended_by_id = user_id
    if notes:
        tag.notes = ((tag.notes or "") + "\n" + notes).strip()
    return tag


def group_counts(node: GridNode, today: dt.date) -> list[tuple[GroupType, int]]:
    """Members of each active group in the subtree (open periods), from the maintained totals."""
    t = node_totals([node.id])
    types = list(db.session.scalars(select(GroupType).where(GroupType.active.is_(True)).order_by(GroupType.sort_order, GroupType.id)))
    return [(g, t.get(f"group:{g.id}", 0)) for g in types]


def count_tags(stmt) -> int:
    """Count the rows of a statement over GroupTag without computing its extra columns."""
    slim = stmt.with_only_columns(GroupTag.id).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(slim)) or 0


def count_tags_upto(stmt, cap: int) -> int:
    """Count the rows of a statement over GroupTag, stopping after `cap` + 1:
    the cost is bounded whatever the size of the district."""
    slim = stmt.with_only_columns(GroupTag.id).order_by(None).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(slim)) or 0


DUE_CAP = 20


def due_figure(stmt) -> int | str:
    """How many are due, exactly up to DUE_CAP, else "20+"."""
    n = count_tags_upto(stmt, DUE_CAP)
    return f"{DUE_CAP}+" if n > DUE_CAP else n


def due_figure_of(resident_stmt) -> int | str:
    """due_figure for due_residents_stmt: people due, exactly up to DUE_CAP, else "20+"."""
    n = count_upto(resident_stmt, DUE_CAP)
    return f"{DUE_CAP}+" if n > DUE_CAP else n


def last_visit_subquery():
    """The resident's latest visit (maintained on the resident by record_visit)."""
    return Resident.last_visit_date


def due_stmt(scope_cond, today: dt.date, node: GridNode | None = None):
    """Active special-group members whose group wants a visit every N days and
    who have not had one for N days: (tag, last visit date) rows, longest-waiting first.
    For a small scope (see due_residents_stmt for a large one)."""
    last = Resident.last_visit_date.label("last_visit")
    stmt = (
        select(GroupTag, last)
        .join(Resident, Resident.id == GroupTag.resident_id)
        .join(GridNode, GridNode.id == Resident.node_id)
        .join(GroupType, GroupType.id == GroupTag.group_type_id)
        .where(scope_cond, active_tag_condition(today), GroupType.visit_interval_days.isnot(None), GroupType.active.is_(True))
    )
    if node is not None:
        stmt = stmt.where(subtree(GridNode.path, node.path))
    # The cut-off depends on the group: a visit within visit_interval_days days.
    cutoffs = [
        (gid, today - dt.timedelta(days=days))
        for gid, days in db.session.execute(
            select(GroupType.id, GroupType.visit_interval_days).where(GroupType.visit_interval_days.isnot(None))
        ).all()
    ]
    if not cutoffs:
        return stmt.where(False)
    # One condition with the cut-off looked up by group (a CASE), not an OR per
    # group: so the planner starts from the grid subtree, not from every tag.
    cutoff = case(dict(cutoffs), value=GroupTag.group_type_id)
    # A small scope starts from its grid subtree: the tags' own indexes are
    # kept out of it (group_type_id + 0), else SQLite may start from every tag.
    gid_col = GroupTag.group_type_id + 0
    return stmt.where(
        gid_col.in_([gid for gid, _c in cutoffs]),
        or_(Resident.last_visit_date.is_(None), Resident.last_visit_date <= cutoff),
    ).order_by(Resident.last_visit_date.asc().nulls_first(), Resident.id)


def _due_cutoffs(today: dt.date) -> list[tuple[int, dt.date]]:
    return [
        (gid, today - dt.timedelta(days=days))
        for gid, days in db.session.execute(
            select(GroupType.id, GroupType.visit_interval_days)
            .where(GroupType.visit_interval_days.isnot(None), GroupType.active.is_(True))
        ).all()
    ]


def _due_tag_condition(today: dt.date, cutoffs, group_id: int | None = None):
    cutoff = case(dict(cutoffs), value=GroupTag.group_type_id)
    gids = [gid for gid, _c in cutoffs if group_id is None or gid == group_id]
    return and_(
        GroupTag.resident_id == Resident.id,
        active_tag_condition(today),
        GroupTag.group_type_id.in_(gids),
        or_(Resident.last_visit_date.is_(None), Resident.last_visit_date <= cutoff),
    )


def due_residents_stmt(scope_cond, today: dt.date, node: GridNode | None = None, group_id: int | None = None):
    """The residents due for a visit, longest-waiting first, for a scope that
    holds much of the district: read along the last-visit index, each resident
    checked by two correlated EXISTS (a due period; a grid in scope), so a
    page stops at its LIMIT (a join here made SQLite build a filter over every
    tag, and the cost grew with the district)."""
    cutoffs = _due_cutoffs(today)
    if not cutoffs:
        return select(Resident.id).where(False)
    in_grid = exists().where(GridNode.id == Resident.node_id, scope_cond)
    if node is not None:
        in_grid = exists().where(GridNode.id == Resident.node_id, scope_cond, subtree(GridNode.path.concat(""), node.path))
    return (
        select(Resident.id)
        .where(exists().where(_due_tag_condition(today, cutoffs, group_id)), in_grid)
        .order_by(Resident.last_visit_date.asc().nulls_first(), Resident.id)
    )


def due_rows_of(resident_ids: list[int], today: dt.date, options=()) -> list[tuple]:
    """(tag, last visit) rows of the due periods of these residents, in their order."""
    if not resident_ids:
        return []
    cutoffs = _due_cutoffs(today)
    rows = db.session.execute(
        select(GroupTag, Resident.last_visit_date.label("last_visit"))
        .join(Resident, Resident.id == GroupTag.resident_id)
        .where(Resident.id.in_(resident_ids), _due_tag_condition(today, cutoffs))
        .options(*options)
    ).all()
    order = {rid: i for i, rid in enumerate(resident_ids)}
    return sorted(rows, key=lambda r: (order[r[0].resident_id], r[0].group_type_id))


def count_upto(stmt, cap: int) -> int:
    slim = stmt.order_by(None).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(slim)) or 0


# --- Visits and the weekly quota ------------------------------------------------------------


def iso_week_of(day: dt.date) -> tuple[int, int]:
    y, w, _d = day.isocalendar()
    return y, w


def week_bounds(year: int, week: int) -> tuple[dt.date, dt.date]:
    monday = dt.date.fromisocalendar(year, week, 1)
    return monday, monday + dt.timedelta(days=6)


def previous_weeks(day: dt.date, n: int) -> list[tuple[int, int]]:
    monday = day - dt.timedelta(days=day.weekday())
    return [iso_week_of(monday - dt.timedelta(weeks=i)) for i in range(n)]


def weekly_quota(community_id: int | None) -> int:
    rows = dict(
        db.session.execute(
            select(AffairsSetting.node_id, AffairsSetting.weekly_quota).where(
                or_(AffairsSetting.node_id.is_(None), AffairsSetting.node_id == community_id)
            )
        ).all()
    )
    if community_id in rows and community_id is not None:
        return rows[community_id]
    return rows.get(None, 3)


def set_weekly_quota(node_id: int | None, quota: int, user_id: int | None) -> None:
    if quota < 0 or quota > 100:
        raise AffairsError(_("The quota is a number of visits between 0 and 100."), "weekly_quota")
    row = db.session.scalar(
        select(AffairsSetting).where(
            AffairsSetting.node_id.is_(None) if node_id is None else AffairsSetting.node_id == node_id
        )
    )
    if row is None:
        row = AffairsSetting(node_id=node_id)
        db.session.add(row)
    row.weekly_quota = quota
    row.updated_by_id = user_id


def covering_for(worker_id: int, node: GridNode, day: dt.date) -> int | None:
    """The A-post worker whose grid `worker_id` visits as B-post on `day`, if any.

    Looks at the nearest staffed grid at or above the node, the same rule as
    core.staffing.responsible_worker_for_node."""
    ids = node.ancestor_ids()
    posts = {p.node_id: p for p in db.session.scalars(select(GridPost).where(GridPost.node_id.in_(ids)))}
    for node_id in reversed(ids):
        post = posts.get(node_id)
        if post is None or (post.a_user_id is None and post.b_user_id is None):
            continue
        if post.a_user_id == worker_id:
            return None
        if post.b_user_id == worker_id and post.a_user_id and is_on_leave(post.a_user_id, day):
            return post.a_user_id
        return None
    return None


def record_visit(*, worker: User, node: GridNode, day: dt.date, kind: str, finding: str, notes: str | None,
                 resident: Resident | None = None, house: House | None = None) -> Visit:
    if resident is None and house is None:
        raise AffairsError(_("Choose the household or the resident you visited."), "target")
    if finding not in FINDINGS:
        raise AffairsError(_("Choose what the visit found."), "finding")
    if day > dt.date.today():
        raise AffairsError(_("A visit cannot be recorded for a future day."), "visit_date")
    if finding == "problem" and not (notes or "").strip():
        raise AffairsError(_("Describe the problem so that it can be handled."), "notes")
    y, w = iso_week_of(day)
    visit = Visit(
        node_id=node.id,
        house_id=house.id if house else (resident.house_id if resident else None),
        household_id=resident.household_id if resident else None,
        resident_id=resident.id if resident else None,
        worker_id=worker.id,
        covering_for_id=covering_for(worker.id, node, day),
        visit_date=day,
        iso_year=y,
        iso_week=w,
        kind=kind,
        notes=(notes or "").strip() or None,
        finding=finding,
    )
    db.session.add(visit)
    # A visit to a household counts for everyone living there.
    who = Resident.id == resident.id if resident is not None else Resident.house_id == house.id
    db.session.execute(
        update(Resident)
        .where(who, or_(Resident.last_visit_date.is_(None), Resident.last_visit_date < day))
        .values(last_visit_date=day)
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    return visit


def hand_off_problem(app, visit: Visit, worker: User) -> str | None:
    """Hand a visit's problem to the module that handles problems, through the
    hook: None when no such module is on in the visit's community."""
    from core.plugins import call_for_community

    node = visit.node or db.session.get(GridNode, visit.node_id)
    community_id = node.id if node.level == "community" else node.community_id
    person = visit.resident
    ref = call_for_community(
        app,
        "wangge_report_problem",
        community_id,
        node_id=visit.node_id,
        description=visit.notes or "",
        reporter_name=person.name if person else worker.display_name,
        reporter_phone=(person.phone if person else None) or worker.phone,
        channel="visit",
        user_id=worker.id,
        source_ref=f"affairs.visit:{visit.id}",
    )
    if ref:
        visit.problem_ref = str(ref)[:40]
    return ref


def visits_this_week(worker_id: int, day: dt.date) -> int:
    y, w = iso_week_of(day)
    return db.session.scalar(
        select(func.count()).select_from(Visit).where(Visit.worker_id == worker_id, Visit.iso_year == y, Visit.iso_week == w)
    ) or 0


def workers_under(path: str):
    """Grid workers holding a post or a grid-worker role in the subtree at `path`."""
    posted = (
        select(GridPost.a_user_id.label("uid"))
        .join(GridNode, GridNode.id == GridPost.node_id)
        .where(subtree(GridNode.path, path), GridPost.a_user_id.isnot(None))
    )
    granted = (
        select(RoleGrant.user_id.label("uid"))
        .join(GridNode, GridNode.id == RoleGrant.node_id)
        .where(subtree(GridNode.path, path), RoleGrant.role == "grid_worker")
    )
    return posted.union(granted)


def works_under(user_id: int, paths: list[str]) -> bool:
    for p in paths:
        sub = workers_under(p).subquery()
        if db.session.scalar(select(sub.c.uid).where(sub.c.uid == user_id).limit(1)) is not None:
            return True
    return False


@dataclass
class WorkerWeek:
    user: User
    visits: int
    covering: int
    quota: int

    @property
    def met(self) -> bool:
        return self.visits >= self.quota


def compliance(node: GridNode, year: int, week: int, quota: int) -> list[WorkerWeek]:
    """Each grid worker under `node` with the visits credited to them in the ISO week."""
    ids = workers_under(node.path).subquery()
    counts = (
        select(
            Visit.worker_id,
            func.count().label("n"),
            func.count(Visit.covering_for_id).label("cover"),
        )
        # Only these workers' visits (ix_affairs_visit_worker_week), not the district's week.
        .where(Visit.worker_id.in_(select(ids.c.uid)), Visit.iso_year == year, Visit.iso_week == week)
        .group_by(Visit.worker_id)
        .subquery()
    )
    rows = db.session.execute(
        select(User, func.coalesce(counts.c.n, 0), func.coalesce(counts.c.cover, 0))
        .where(User.id.in_(select(ids.c.uid)), User.active.is_(True))
        .outerjoin(counts, counts.c.worker_id == User.id)
        .order_by(func.coalesce(counts.c.n, 0), User.display_name, User.id)
    ).all()
    return [WorkerWeek(u, n, c, quota) for u, n, c in rows]


def community_quotas() -> tuple[int, dict[int, int]]:
    """(district quota, {community id: its own quota})."""
    rows = db.session.execute(select(AffairsSetting.node_id, AffairsSetting.weekly_quota)).all()
    default = next((q for n, q in rows if n is None), 3)
    return default, {n: q for n, q in rows if n is not None}


def compliance_by_community(district_path: str, year: int, week: int, offset: int = 0, limit: int | None = None):
    """Per community (one page of them: offset, limit): (community, grid workers,
    how many met their quota, visits), the page's communities first, then one
    grouped query over their workers' visits of the week only."""
    default, own = community_quotas()
    # The district's children, along ix_grid_node_parent_sort (not a scan of its subtree).
    comms_stmt = (
        select(GridNode).where(GridNode.parent_id == _ancestor_ids(district_path)[-1], GridNode.level == "community")
        .order_by(GridNode.sort_order, GridNode.id)
    )
    if limit is not None:
        comms_stmt = comms_stmt.offset(offset).limit(limit)
    comms = list(db.session.scalars(comms_stmt))
    if not comms:
        return []
    workers = (
        select(GridNode.community_id.label("cid"), GridPost.a_user_id.label("uid"))
        .join(GridPost, GridPost.node_id == GridNode.id)
        .where(GridNode.community_id.in_([c.id for c in comms]), GridPost.a_user_id.isnot(None))
        .distinct()
        .subquery()
    )
    counts = (
        select(Visit.worker_id, func.count().label("n"))
        .where(Visit.worker_id.in_(select(workers.c.uid)), Visit.iso_year == year, Visit.iso_week == week)
        .group_by(Visit.worker_id)
        .subquery()
    )
    n = func.coalesce(counts.c.n, 0)
    quota = case(own, value=workers.c.cid, else_=default) if own else default
    rows = db.session.execute(
        select(
            workers.c.cid,
            func.count(workers.c.uid),
            func.sum(case((n >= quota, 1), else_=0)),
            func.sum(n),
        )
        .outerjoin(counts, counts.c.worker_id == workers.c.uid)
        .group_by(workers.c.cid)
    ).all()
    by_id = {cid: (w, met or 0, visits or 0) for cid, w, met, visits in rows}
    return [(c, *by_id.get(c.id, (0, 0, 0)), own.get(c.id, default)) for c in comms]


def worker_history(worker_id: int, weeks: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    years = {y for y, _w in weeks}
    rows = db.session.execute(
        select(Visit.iso_year, Visit.iso_week, func.count())
        .where(Visit.worker_id == worker_id, Visit.iso_year.in_(years))
        .group_by(Visit.iso_year, Visit.iso_week)
    ).all()
    have = {(y, w): n for y, w, n in rows}
    return {k: have.get(k, 0) for k in weeks}


# --- Task list and admission list ------------------------------------------------------------

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$")


def check_period(period: str) -> str:
    period = (period or "").strip().upper()
    if not PERIOD_RE.match(period):
        raise AffairsError(_("Write the period as a month (2026-11) or a quarter (2026-Q4)."), "period")
    return period


def assign_item(item: AffairItem | None, node: GridNode, period: str, user_id: int | None) -> AffairTask:
    """Push an item down to a grid for a period; only admitted items for the node's level."""
    if item is None:
        raise AffairsError(_("This matter is not on the task list."), "item_id")
    if not item.admitted:
        raise AffairsError(
            _("“%(name)s” is not on the admission list: it cannot be pushed down to grids.", name=item.name),
            "item_id",
        )
    if node.level not in item.level_list:
        raise AffairsError(
            _("“%(name)s” does not apply to the %(level)s level.", name=item.name, level=label(node.level)),
            "item_id",
        )
    period = check_period(period)
    task = db.session.scalar(
        select(AffairTask).where(AffairTask.item_id == item.id, AffairTask.node_id == node.id, AffairTask.period == period)
    )
    if task is not None:
        raise AffairsError(_("This item is on this grid's checklist for this period already."), "item_id")
    task = AffairTask(item_id=item.id, node_id=node.id, period=period, status="pending", assigned_by_id=user_id)
    db.session.add(task)
    db.session.flush()
    return task


def current_period(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"


ITEM_COLUMNS = (
    ("category_code", _l("Category code")),
    ("category", _l("Category")),
    ("code", _l("Item code")),
    ("name", _l("Item")),
    ("responsible_role", _l("Responsible role")),
    ("target", _l("Target")),
    ("levels", _l("Grid levels")),
    ("admitted", _l("On the admission list")),
)


def item_rows():
    stmt = select(AffairItem).join(AffairCategory).order_by(AffairCategory.sort_order, AffairItem.sort_order, AffairItem.id)
    for it in db.session.scalars(stmt):
        yield (
            it.category.code,
            it.category.name,
            it.code,
            it.name,
            it.responsible_role,
            it.target,
            ",".join(it.level_list),
            str(_("Yes")) if it.admitted else str(_("No")),
        )


def import_items(rows) -> tuple[int, list]:
    """Upsert the task list from (row number, {key: value}) rows; all or nothing.

    Returns (items written, errors); writes nothing when there are errors."""
    from core.excel import RowError

    errors, good = [], []
    for rownum, row in rows:
        code = str(row.get("code") or "").strip()
        cat_code = str(row.get("category_code") or "").strip()
        levels = [x.strip() for x in str(row.get("levels") or "").replace("，", ",").split(",") if x.strip()]
        bad = [x for x in levels if x not in ("community", "estate", "building", "zone")]
        if not code:
            errors.append(RowError(rownum, str(_("Item code")), _("Missing.")))
        if not cat_code:
            errors.append(RowError(rownum, str(_("Category code")), _("Missing.")))
        if not str(row.get("name") or "").strip():
            errors.append(RowError(rownum, str(_("Item")), _("Missing.")))
        if bad or not levels:
            errors.append(RowError(rownum, str(_("Grid levels")), _("Use community, estate, building or zone, separated by commas.")))
        good.append((code, cat_code, row, levels))
    if errors:
        return 0, errors
    cats = {c.code: c for c in db.session.scalars(select(AffairCategory))}
    items = {i.code: i for i in db.session.scalars(select(AffairItem))}
    for n, (code, cat_code, row, levels) in enumerate(good):
        cat = cats.get(cat_code)
        if cat is None:
            cat = AffairCategory(code=cat_code, name=str(row.get("category") or cat_code), sort_order=len(cats))
            db.session.add(cat)
            db.session.flush()
            cats[cat_code] = cat
        it = items.get(code) or AffairItem(code=code)
        if it.id is None:
            db.session.add(it)
        it.category_id = cat.id
        it.name = str(row.get("name")).strip()
        it.responsible_role = str(row.get("responsible_role") or "").strip()
        it.target = str(row.get("target") or "").strip()
        it.levels = ",".join(levels)
        it.admitted = parse_bool(row.get("admitted"), default=True)
        it.sort_order = n
    db.session.flush()
    return len(good), []


# --- Excel import of residents and houses ------------------------------------------------------

RESIDENT_COLUMNS = (
    ("name", _l("Name")),
    ("id_number", _l("ID-card number")),
    ("phone", _l("Phone")),
    ("grid_code", _l("Building grid code")),
    ("unit", _l("Unit")),
    ("floor", _l("Floor")),
    ("room", _l("Room")),
    ("residence", _l("Residence")),
    ("party_member", _l("Party member")),
    ("social_security", _l("Social security")),
    ("employment", _l("Employment")),
)

HOUSE_COLUMNS = (
    ("grid_code", _l("Building grid code")),
    ("unit", _l("Unit")),
    ("floor", _l("Floor")),
    ("room", _l("Room")),
    ("use", _l("Use")),
    ("occupancy", _l("Occupancy")),
    ("area_m2", _l("Area (m²)")),
)

ENUMS = {
    "residence": RESIDENCE,
    "social_security": SOCIAL_SECURITY,
    "employment": EMPLOYMENT,
    "use": HOUSE_USES,
    "occupancy": OCCUPANCIES,
}


def columns_for(kind: str):
    return RESIDENT_COLUMNS if kind == "residents" else HOUSE_COLUMNS


def headers(kind: str, locale: str) -> list[str]:
    with force_locale(locale):
        return [str(lbl) for _k, lbl in columns_for(kind)]


def example_row(kind: str) -> list:
    if kind == "residents":
        body = "34022119800101001"
        return ["张三", body + ric.calc_check_digit(body + "0"), "13905531234", "340221-C01-E01-B01", "1", 3, "301",
                str(LABELS["registered"]), str(_("No")), str(LABELS["resident"]), str(LABELS["employed"])]
    return ["340221-C01-E01-B01", "1", 3, "301", str(LABELS["residential"]), str(LABELS["owner"]), 89]


def enum_lookup(field: str) -> dict[str, str]:
    """Accept the code or the label in either language."""
    out = {}
    for code in ENUMS[field]:
        out[code.lower()] = code
        for loc in ("zh_CN", "en"):
            with force_locale(loc):
                out[str(LABELS.get(code, code)).strip().lower()] = code
    return out


YES = {"1", "y", "yes", "true", "是", "√", "党员"}
NO = {"0", "n", "no", "false", "否", "", "none", "群众"}


def parse_bool(value, default=False) -> bool:
    s = str(value if value is not None else "").strip().lower()
    if s in YES:
        return True
    if s in NO:
        return default if s == "" else False
    raise ValueError(s)


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


class _Importer:
    """Streams an .xlsx in chunks; checks every row and upserts residents or houses."""

    CHUNK = 2000

    def __init__(self, job: ImportJob, scope: list[str]):
        self.job = job
        self.kind = job.kind
        self.scope = scope
        self.keys = [k for k, _l_ in columns_for(self.kind)]
        self.enums = {f: enum_lookup(f) for f in ENUMS}
        self.col_label = dict(zip(self.keys, headers(self.kind, job.locale), strict=True))
        # code -> (node id, path) of every building and zone in scope.
        self.nodes: dict[str, int] = {}
        cond = paths_condition(GridNode.path, scope)
        for nid, code in db.session.execute(
            select(GridNode.id, GridNode.code).where(GridNode.level.in_(("building", "zone")), cond)
        ):
            self.nodes[code] = nid
        self.houses: dict[tuple, int] = {}
        self.loaded_nodes: set[int] = set()
        self.seen: dict[str, int] = {}
        self.errors = []
        self.created = self.updated = self.unchanged = 0

    def err(self, rownum, key, reason):
        from core.excel import RowError

        self.errors.append(RowError(rownum, self.col_label.get(key, key), str(reason)))

    def check(self, rownum: int, row: dict) -> dict | None:
        """One row's values, or None after recording its errors."""
        n_err = len(self.errors)
        out = {}
        code = _text(row.get("grid_code"))
        node_id = self.nodes.get(code)
        if node_id is None:
            self.err(rownum, "grid_code", _("No building or zone with this grid code in your grids.") if code else _("Missing."))
        out["node_id"] = node_id
        out["unit"] = _text(row.get("unit"))
        out["room"] = _text(row.get("room"))
        if not out["room"]:
            self.err(rownum, "room", _("Missing."))
        floor = _text(row.get("floor"))
        try:
            out["floor"] = int(floor) if floor else None
        except ValueError:
            self.err(rownum, "floor", _("A floor is a whole number."))
        for f in ("residence", "social_security", "employment", "use", "occupancy"):
            if f in self.keys:
                raw = _text(row.get(f)).lower()
                if not raw and f in ("social_security", "employment"):
                    out[f] = "unknown" if f == "social_security" else "other"
                    continue
                val = self.enums[f].get(raw)
                if val is None:
                    choices = ", ".join(str(label(c)) for c in ENUMS[f])
                    self.err(rownum, f, _("Unknown value “%(v)s”; use one of: %(choices)s.", v=raw, choices=choices))
                out[f] = val
        if self.kind == "residents":
            name = _text(row.get("name"))
            if not name:
                self.err(rownum, "name", _("Missing."))
            out["name"] = name
            try:
                info = parse_id_number(row.get("id_number"))
                out["id_number"], out["birth_date"], out["sex"] = info.number, info.birth_date, info.sex
                if info.number in self.seen:
                    self.err(rownum, "id_number", _("The same ID-card number is in row %(row)s too.", row=self.seen[info.number]))
                else:
                    self.seen[info.number] = rownum
            except AffairsError as exc:
                self.err(rownum, "id_number", str(exc))
            try:
                out["phone"] = check_phone(_text(row.get("phone")))
            except AffairsError as exc:
                self.err(rownum, "phone", str(exc))
            try:
                out["party_member"] = parse_bool(row.get("party_member"))
            except ValueError:
                self.err(rownum, "party_member", _("Write yes or no."))
        else:
            area = _text(row.get("area_m2"))
            try:
                out["area_m2"] = int(float(area)) if area else None
            except ValueError:
                self.err(rownum, "area_m2", _("The area is a number."))
        return out if len(self.errors) == n_err else None

    def screen(self, rows: list[dict]) -> list[dict]:
        """Drop (as errors) the rows whose ID number belongs to a resident outside
        the importer's grids: an import never moves or changes someone it cannot see."""
        if self.kind != "residents" or not rows:
            return rows
        paths = dict(
            db.session.execute(
                select(Resident.id_number, GridNode.path)
                .join(GridNode, GridNode.id == Resident.node_id)
                .where(Resident.id_number.in_([r["id_number"] for r in rows]))
            ).all()
        )
        out = []
        for r in rows:
            path = paths.get(r["id_number"])
            if path is not None and not any(path.startswith(p) for p in self.scope):
                self.err(r["_row"], "id_number", _("A resident with this ID-card number is registered outside your grids."))
            else:
                out.append(r)
        return out

    def _load_houses(self, node_ids: set[int]):
        missing = node_ids - self.loaded_nodes
        if not missing:
            return
        for hid, nid, unit, room in db.session.execute(
            select(House.id, House.node_id, House.unit, House.room).where(House.node_id.in_(missing))
        ):
            self.houses[(nid, unit, room)] = hid
        self.loaded_nodes |= missing

    def apply(self, rows: list[dict]):
        if not rows:
            return
        self._load_houses({r["node_id"] for r in rows})
        if self.kind == "houses":
            self._apply_houses(rows)
        else:
            self._apply_residents(rows)

    def _ensure_houses(self, rows):
        new = {}
        for r in rows:
            key = (r["node_id"], r["unit"], r["room"])
            if key not in self.houses and key not in new:
                new[key] = {
                    "node_id": r["node_id"], "unit": r["unit"], "room": r["room"], "floor": r.get("floor"),
                    "use": r.get("use") or "residential", "occupancy": r.get("occupancy") or "owner",
                    "area_m2": r.get("area_m2"),
                }
        if new:
            keys = list(new)
            ids = db.session.scalars(
                insert(House).returning(House.id, sort_by_parameter_order=True), [new[k] for k in keys]
            ).all()
            self.houses.update(zip(keys, ids, strict=True))
        return len(new)

    def _apply_houses(self, rows):
        existing_keys = {(r["node_id"], r["unit"], r["room"]) for r in rows if (r["node_id"], r["unit"], r["room"]) in self.houses}
        created = self._ensure_houses(rows)
        self.created += created
        ids = [self.houses[k] for k in existing_keys]
        current = {
            h[0]: h[1:]
            for h in db.session.execute(
                select(House.id, House.floor, House.use, House.occupancy, House.area_m2).where(House.id.in_(ids))
            )
        }
        updates = []
        for r in rows:
            key = (r["node_id"], r["unit"], r["room"])
            if key not in existing_keys:
                continue
            hid = self.houses[key]
            new = (r["floor"], r["use"], r["occupancy"], r["area_m2"])
            if current.get(hid) != new:
                updates.append({"id": hid, "floor": r["floor"], "use": r["use"], "occupancy": r["occupancy"], "area_m2": r["area_m2"]})
                current[hid] = new
            else:
                self.unchanged += 1
        if updates:
            db.session.execute(update(House), updates)
            self.updated += len(updates)

    FIELDS = ("name", "phone", "house_id", "node_id", "residence", "party_member", "social_security", "employment")

    def _apply_residents(self, rows):
        self._ensure_houses(rows)
        existing = {
            r[0]: r[1:]
            for r in db.session.execute(
                select(Resident.id_number, Resident.id, *[getattr(Resident, f) for f in self.FIELDS]).where(
                    Resident.id_number.in_([r["id_number"] for r in rows])
                )
            )
        }
        inserts, updates = [], []
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for r in rows:
            r["house_id"] = self.houses[(r["node_id"], r["unit"], r["room"])]
            values = {f: r[f] for f in self.FIELDS}
            have = existing.get(r["id_number"])
            if have is None:
                inserts.append({**values, "id_number": r["id_number"], "birth_date": r["birth_date"], "sex": r["sex"],
                                "created_at": now, "updated_at": now})
            elif tuple(have[1:]) != tuple(values[f] for f in self.FIELDS):
                updates.append({"id": have[0], **values, "updated_at": now})
            else:
                self.unchanged += 1
        if inserts:
            db.session.execute(insert(Resident), inserts)
            self.created += len(inserts)
        if updates:
            db.session.execute(update(Resident), updates)
            self.updated += len(updates)


def _open_rows(path: str, kind: str, locale: str):
    """(estimated row count, iterator of (row number, {key: value})). ImportFileError on a bad file."""
    import zipfile

    from openpyxl import load_workbook

    from core.excel import ImportFileError

    with open(path, "rb") as f:
        head = f.read(4)
    if not head:
        raise ImportFileError(_("The file is empty."))
    if not zipfile.is_zipfile(path):
        raise ImportFileError(_("This is not an Excel .xlsx file."))
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook
        raise ImportFileError(_("This is not an Excel .xlsx file.")) from exc
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = next(it, None)
    if header is None:
        wb.close()
        raise ImportFileError(_("The file is empty."))
    names = [str(h).strip() if h is not None else "" for h in header]
    while names and names[-1] == "":
        names.pop()
    keys = [k for k, _x in columns_for(kind)]
    index = None
    for loc in (locale, "zh_CN", "en"):
        hdr = headers(kind, loc)
        if sorted(names) == sorted(hdr):
            index = [keys[hdr.index(n)] for n in names]
            break
    if index is None:
        wb.close()
        raise ImportFileError(
            _("The columns are wrong. Expected columns: %(cols)s.", cols=", ".join(headers(kind, locale)))
        )
    total = max(0, (ws.max_row or 1) - 1)

    def gen():
        try:
            for rownum, values in enumerate(it, start=2):
                if values is None or all(v is None or str(v).strip() == "" for v in values):
                    continue
                yield rownum, dict(zip(index, values, strict=False))
        finally:
            wb.close()

    return total, gen()


STAT_TABLES = ("affairs_house", "affairs_household", "affairs_resident", "affairs_group_tag", "affairs_visit")


def refresh_statistics() -> None:
    """ANALYZE the module's big tables after bulk loads, so that the query
    planner starts "who is due in this grid" from the grid, not from every tag
    (SQLite keeps no statistics until asked; PostgreSQL's autovacuum is lazy)."""
    from sqlalchemy import text

    for table in STAT_TABLES:
        db.session.execute(text(f"ANALYZE {table}"))
    db.session.execute(text("ANALYZE grid_node"))
    db.session.commit()


def _touch(job: ImportJob, processed: int):
    job.processed_rows = processed
    job.heartbeat_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)


def run_import(job_id: int) -> ImportJob:
    """Run an import job to its end, committing progress as it goes.

    good_rows: applies each chunk's good rows as it reads them.
    all_or_nothing: checks every row first; applies only when none failed."""
    from core.audit import record
    from core.excel import ImportFileError, error_report_bytes

    job = db.session.get(ImportJob, job_id)
    job.status, job.phase = "running", "checking"
    _touch(job, 0)
    db.session.commit()
    with force_locale(job.locale):
        try:
            scope = json.loads(job.scope or "[]")
            total, rows = _open_rows(job.stored_path, job.kind, job.locale)
            job.total_rows = total
            db.session.commit()
            imp = _Importer(job, scope)
            apply_now = job.mode == "good_rows"
            if apply_now:
                job.phase = "applying"
            processed, chunk = 0, []
            for rownum, row in rows:
                values = imp.check(rownum, row)
                processed += 1
                if values is not None:
                    values["_row"] = rownum
                    chunk.append(values)
                if processed % _Importer.CHUNK == 0:
                    chunk = imp.screen(chunk)
                    if apply_now:
                        imp.apply(chunk)
                    chunk = []
                    _touch(job, processed)
                    db.session.commit()
            chunk = imp.screen(chunk)
            if apply_now:
                imp.apply(chunk)
            if not apply_now and not imp.errors and processed:
                # Every row is good: apply them all, reading the file again.
                job.phase = "applying"
                _touch(job, 0)
                db.session.commit()
                imp.seen.clear()
                _t, rows = _open_rows(job.stored_path, job.kind, job.locale)
                done, chunk = 0, []
                for rownum, row in rows:
                    values = imp.check(rownum, row)
                    values["_row"] = rownum
                    chunk.append(values)
                    done += 1
                    if len(chunk) >= _Importer.CHUNK:
                        imp.apply(chunk)
                        chunk = []
                        _touch(job, done)
                        db.session.commit()
                imp.apply(chunk)
            job.total_rows = processed
            _touch(job, processed)
            job.created_count, job.updated_count, job.unchanged_count = imp.created, imp.updated, imp.unchanged
            job.error_count = len(imp.errors)
            if imp.errors:
                job.error_report = error_report_bytes(sorted(imp.errors, key=lambda e: e.row))
            if not processed:
                job.status, job.message = "failed", _("The file has no data rows.")
            else:
                job.status = "done"
            user = db.session.get(User, job.user_id)
            record(
                "affairs.import",
                object_type="affairs_import_job",
                object_id=job.id,
                summary=f"{job.kind} {job.mode} {job.filename}: +{imp.created} ~{imp.updated} ={imp.unchanged} !{len(imp.errors)}",
                user=user,
            )
        except ImportFileError as exc:
            db.session.rollback()
            job = db.session.get(ImportJob, job_id)
            job.status, job.message = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - the job must end, whatever failed
            db.session.rollback()
            job = db.session.get(ImportJob, job_id)
            job.status = "failed"
            job.message = _("The import stopped on an unexpected error: %(err)s", err=str(exc)[:300])
        job.finished_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        db.session.commit()
    if job.created_count or job.updated_count or job.processed_rows:
        # The rows went in by bulk statements: recompute the totals of the grids imported into.
        try:
            recompute_totals(json.loads(job.scope or "[]"))
            db.session.commit()
        except Exception:  # noqa: BLE001 - reported below by a wrong total only; never fails the job
            db.session.rollback()
    if job.status == "done" and (job.created_count or job.updated_count):
        try:
            refresh_statistics()
        except Exception:  # noqa: BLE001 - statistics are an optimisation only
            db.session.rollback()
    # The upload holds personal data: keep it no longer than the job needs it.
    try:
        os.remove(job.stored_path)
    except OSError:
        pass
    return job


def start_import_thread(app, job_id: int):
    """Run the job in a thread of this process; its state lives in the database."""
    import threading

    def target():
        with app.app_context():
            try:
                run_import(job_id)
            finally:
                db.session.remove()

    t = threading.Thread(target=target, name=f"affairs-import-{job_id}", daemon=True)
    t.start()
    return t


def follow_node_move(old_path: str, new_path: str) -> None:
    """A grid node moved: its old and new parents' subtrees (and so all their
    ancestors) get their totals recomputed; the moved subtree's own totals
    are unchanged."""

    def parent(path: str) -> str:
        return path[: path.rstrip("/").rfind("/") + 1]

    recompute_totals([parent(old_path)])
    recompute_totals([parent(new_path)])
