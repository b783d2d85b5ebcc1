"""Houses, households and residents (人房关联): the rules of saving and removing them."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update

from core.extensions import db
from core.models import GridNode

from ..models import (
    EMPLOYMENT,
    HOUSE_USES,
    OCCUPANCIES,
    RESIDENCE,
    SOCIAL_SECURITY,
    GroupTag,
    House,
    Household,
    Resident,
    Visit,
)
from .common import AffairsError, check_phone, flush, parse_id_number
from .totals import (
    _diff,
    _house_people_keys,
    _open_groups,
    _resident_keys,
    bump_totals,
)

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
    flush("room", _("This building already has a house with this unit and room."))
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
    house_id, node_id = house.id, house.node_id  # read before a new row joins the session (autoflush)
    if resident is None:
        resident = Resident()
    else:
        old = (resident.node_id, _resident_keys(resident.party_member, resident.residence, _open_groups(resident.id)))
    resident.house_id, resident.node_id = house_id, node_id
    resident.household_id = household_id or None
    resident.name, resident.id_number = name, info.number
    resident.birth_date, resident.sex = info.birth_date, info.sex
    resident.phone = phone
    resident.residence = residence if residence in RESIDENCE else "registered"
    resident.party_member = bool(party_member)
    resident.social_security = social_security if social_security in SOCIAL_SECURITY else "unknown"
    resident.employment = employment if employment in EMPLOYMENT else "other"
    resident.notes = notes or None
    db.session.add(resident)
    flush("id_number", _("A resident with this ID-card number was registered a moment ago."))
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


def add_household(house: House, head_name: str) -> Household:
    head_name = (head_name or "").strip()
    if not head_name:
        raise AffairsError(_("Enter the name of the head of household."), "head_name")
    household = Household(house_id=house.id, head_name=head_name)
    db.session.add(household)
    db.session.flush()
    return household
