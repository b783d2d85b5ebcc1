"""Shared by every aggregate of grid affairs: the module's error, the labels
of its codes, ID-card numbers and phones."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from stdnum import exceptions as stdnum_exc
from stdnum.cn import ric

from core import clock
from core.extensions import db
from core.forms import DUPLICATE_MESSAGE, DomainError, DuplicateError

from ..models import (
    GroupType,
)


class AffairsError(DomainError):
    """A change the rules of grid affairs refuse; str() is the user's message,
    `field` the form field it belongs to (core.forms.show_error puts it there)."""


def flush(duplicate_field: str | None = None, message=None) -> None:
    """Flush; a unique key taken by a concurrent request (the same resident
    created twice at once) becomes a DuplicateError on `duplicate_field`, not a 500."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise DuplicateError(message or DUPLICATE_MESSAGE, duplicate_field) from exc


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
    if birth > clock.today():
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


YES = {"1", "y", "yes", "true", "是", "√", "党员"}
NO = {"0", "n", "no", "false", "否", "", "none", "群众"}


def parse_bool(value, default=False) -> bool:
    s = str(value if value is not None else "").strip().lower()
    if s in YES:
        return True
    if s in NO:
        return default if s == "" else False
    raise ValueError(s)


