"""The duty rota: shifts, rota lines that generate them, sign-up and drop with
an exact capacity and a waitlist, organisers' assignments, swaps, check-in by
QR code and the marking of worked shifts.

Capacity is the database's business: a sign-up takes a slot with one
conditional UPDATE (`taken < needed` in its WHERE) in the same transaction
as the INSERT of the sign-up; (shift, member) is unique, and a CHECK keeps
`taken` within `needed`. However many requests arrive at once, no shift ever
holds more members than its slots.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core import clock
from core.audit import record
from core.extensions import db
from core.i18n import N_
from core.models import User, utcnow

from ..models import OUTCOMES, Rota, Shift, Signup, Station, Swap
from . import ShiftFull, StationsError

# A member may check in this long before the shift and check out this long after it.
GRACE = dt.timedelta(minutes=30)


# --- Shifts and rota lines -------------------------------------------------------------------

def _check_times(day: dt.date, start: dt.time, end: dt.time) -> tuple[dt.datetime, dt.datetime]:
    starts = clock.to_utc(day, start)
    ends = clock.to_utc(day, end)
    if ends <= starts:  # a night shift ends the next day
        ends = clock.to_utc(day + dt.timedelta(days=1), end)
    if ends - starts > dt.timedelta(hours=24):
        raise StationsError(_("A shift lasts at most 24 hours."), "end_time")
    return starts, ends


def _check_needed(needed) -> int:
    try:
        needed = int(needed)
    except (TypeError, ValueError):
        raise StationsError(_("Give the number of volunteers needed."), "needed") from None
    if not 1 <= needed <= 50:
        raise StationsError(_("A shift needs between 1 and 50 volunteers."), "needed")
    return needed


def add_shift(station: Station, day: dt.date, start: dt.time, end: dt.time, *, role: str = "",
              needed: int = 2, restricted: bool = False, rota: Rota | None = None,
              incident_id: int | None = None) -> Shift:
    needed = _check_needed(needed)
    starts, ends = _check_times(day, start, end)
    role = (role or "").strip()
    exists = db.session.scalar(select(Shift.id).where(Shift.station_id == station.id, Shift.starts_at == starts,
                                                      Shift.role == role))
    if exists:
        raise StationsError(_("This station already has a shift for that role at that time."), "start_time")
    shift = Shift(station_id=station.id, day=day, starts_at=starts, ends_at=ends, role=role, needed=needed,
                  restricted=restricted, rota_id=rota.id if rota else None, incident_id=incident_id)
    db.session.add(shift)
    return shift


def set_needed(shift: Shift, needed) -> None:
    """Change the slots of a shift; never below the members who hold one."""
    needed = _check_needed(needed)
    res = db.session.execute(update(Shift).where(Shift.id == shift.id, Shift.taken <= needed)
                             .values(needed=needed).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise StationsError(_("More members hold this shift than that: drop someone first."), "needed")
    db.session.expire(shift, ["needed", "taken"])
    promote_waiting(shift)


def add_rota(station: Station, weekday: int, start: dt.time, end: dt.time, *, role: str = "",
             needed: int = 2, restricted: bool = False) -> Rota:
    if weekday not in range(7):
        raise StationsError(_("Choose a day of the week."), "weekday")
    _check_times(clock.today(), start, end)
    rota = Rota(station_id=station.id, weekday=weekday, start_time=start, end_time=end, role=(role or "").strip(),
                needed=_check_needed(needed), restricted=restricted)
    db.session.add(rota)
    db.session.flush()
    record("stations.rota", station, summary=f"{weekday} {start}-{end} ×{needed}", community_id=station.community_id)
    return rota


def generate_shifts(station: Station, today: dt.date, weeks: int = 4) -> int:
    """Create the shifts of the station's active rota lines for the coming
    weeks (idempotent: existing shifts are kept). Returns how many were made."""
    rotas = db.session.scalars(select(Rota).where(Rota.station_id == station.id, Rota.active.is_(True))).all()
    if not rotas:
        return 0
    last = today + dt.timedelta(weeks=weeks)
    have = set(db.session.execute(
        select(Shift.starts_at, Shift.role).where(Shift.station_id == station.id, Shift.day >= today, Shift.day <= last)
    ))
    made = 0
    day = today
    while day <= last:
        for r in rotas:
            if r.weekday != day.weekday():
                continue
            starts, ends = _check_times(day, r.start_time, r.end_time)
            if (starts, r.role) in have:
                continue
            db.session.add(Shift(station_id=station.id, day=day, starts_at=starts, ends_at=ends, role=r.role,
                                 needed=r.needed, restricted=r.restricted, rota_id=r.id))
            made += 1
        day += dt.timedelta(days=1)
    return made


# --- Sign-up, drop, waitlist -----------------------------------------------------------------

def _check_open(shift: Shift, now: dt.datetime, what: str) -> None:
    station = shift.station
    if shift.starts_at <= now:
        raise StationsError(_("This shift has already started."))
    if shift.starts_at - dt.timedelta(hours=station.cutoff_hours) <= now:
        if what == "drop":
            raise StationsError(_("It is too late to drop this shift: ask the station's organiser."))
        raise StationsError(_("Sign-up for this shift has closed (%(h)s hours before it starts).",
                              h=station.cutoff_hours))


def sign_up(shift: Shift, member: User, *, waitlist: bool = True, assigned_by: User | None = None) -> Signup:
    """Take a slot of the shift, or a place on its waitlist when it is full
    (with `waitlist=False`, ShiftFull instead). An organiser's assignment
    (`assigned_by`) may fill a restricted shift and ignores the cut-off.

    Commits nothing: the caller commits (the slot and the sign-up are one
    transaction; a duplicate sign-up raises before anything is kept)."""
    now = utcnow()
    if assigned_by is None:
        if shift.restricted:
            raise StationsError(_("Only an organiser assigns this shift."))
        _check_open(shift, now, "signup")
    elif shift.ends_at <= now:
        raise StationsError(_("This shift is over."))
    if db.session.scalar(select(Signup.id).where(Signup.shift_id == shift.id, Signup.member_id == member.id)):
        raise StationsError(_("You are already on this shift."), "member_id")
    took = db.session.execute(
        update(Shift).where(Shift.id == shift.id, Shift.taken < Shift.needed)
        .values(taken=Shift.taken + 1).execution_options(synchronize_session=False)
    ).rowcount == 1
    if not took and (not waitlist or assigned_by is not None):
        raise ShiftFull(_("This shift is full."))
    signup = Signup(shift_id=shift.id, member_id=member.id, status="held" if took else "waiting",
                    assigned_by_id=assigned_by.id if assigned_by else None)
    db.session.add(signup)
    try:
        db.session.flush()
    except IntegrityError:
        # The same member at the same instant in another request: the whole
        # transaction (the slot taken above included) is undone.
        db.session.rollback()
        raise StationsError(_("You are already on this shift."), "member_id") from None
    db.session.expire(shift, ["taken"])
    record("stations.signup" if took else "stations.waitlist", shift.station,
           summary=f"{member.display_name} {shift.day} {signup.status}", community_id=shift.station.community_id,
           object_type="stations_shift", object_id=shift.id)
    return signup


def drop(signup: Signup, *, by: User | None = None) -> Signup | None:
    """Leave a shift (or its waitlist). A member may until the station's
    cut-off; an organiser (`by`) any time before it ends. The first in line
    takes the freed slot in the same transaction; returns that sign-up."""
    shift = signup.shift
    now = utcnow()
    if by is None:
        _check_open(shift, now, "drop")
    elif shift.ends_at <= now:
        raise StationsError(_("This shift is over."))
    held = signup.status == "held"
    db.session.execute(Swap.__table__.delete().where(Swap.signup_id == signup.id))
    db.session.delete(signup)
    db.session.flush()
    promoted = None
    if held:
        db.session.execute(update(Shift).where(Shift.id == shift.id, Shift.taken > 0)
                           .values(taken=Shift.taken - 1).execution_options(synchronize_session=False))
        db.session.expire(shift, ["taken"])
        promoted = promote_waiting(shift)
    record("stations.drop", shift.station, summary=f"{signup.member.display_name} {shift.day}",
           community_id=shift.station.community_id, object_type="stations_shift", object_id=shift.id)
    return promoted


def promote_waiting(shift: Shift) -> Signup | None:
    """Move the first in line into a free slot (if any): first the sign-up's
    status (conditional, so two concurrent drops never promote one person
    twice), then the slot (conditional, so no shift over-fills)."""
    first = db.session.scalar(select(Signup).where(Signup.shift_id == shift.id, Signup.status == "waiting")
                              .order_by(Signup.id).limit(1))
    if first is None:
        return None
    won = db.session.execute(update(Signup).where(Signup.id == first.id, Signup.status == "waiting")
                             .values(status="held", promoted_at=utcnow())
                             .execution_options(synchronize_session=False)).rowcount == 1
    if not won:
        return None
    took = db.session.execute(update(Shift).where(Shift.id == shift.id, Shift.taken < Shift.needed)
                              .values(taken=Shift.taken + 1).execution_options(synchronize_session=False)).rowcount
    if took != 1:
        db.session.execute(update(Signup).where(Signup.id == first.id)
                           .values(status="waiting", promoted_at=None).execution_options(synchronize_session=False))
        return None
    db.session.expire(first)
    db.session.expire(shift, ["taken"])
    _tell_promoted(first, shift)
    return first


PROMOTED = N_("You were moved up from the waitlist: on duty at %(station)s on %(day)s at %(time)s.")


def _tell_promoted(signup: Signup, shift: Shift) -> None:
    from core.notify import notify

    notify("stations.promoted", PROMOTED,
           {"station": shift.station.name, "day": shift.day.isoformat(), "time": f"{clock.local(shift.starts_at):%H:%M}"},
           users=[signup.member_id], link=("stations.my", {}), about=shift.station, key=f"promoted:{signup.id}")


def waitlist_position(signup: Signup) -> int:
    from sqlalchemy import func

    return (db.session.scalar(select(func.count()).select_from(Signup).where(
        Signup.shift_id == signup.shift_id, Signup.status == "waiting", Signup.id < signup.id)) or 0) + 1


# --- Swaps -----------------------------------------------------------------------------------

def ask_swap(signup: Signup, to_member: User) -> Swap:
    if signup.status != "held":
        raise StationsError(_("Only a held slot can be handed over."), "to_member_id")
    if to_member.id == signup.member_id:
        raise StationsError(_("Choose another member."), "to_member_id")
    if db.session.scalar(select(Signup.id).where(Signup.shift_id == signup.shift_id,
                                                 Signup.member_id == to_member.id)):
        raise StationsError(_("That member is already on this shift."), "to_member_id")
    if db.session.scalar(select(Swap.id).where(Swap.signup_id == signup.id, Swap.state == "pending")):
        raise StationsError(_("A hand-over of this slot is already waiting for the organiser."), "to_member_id")
    swap = Swap(signup_id=signup.id, from_member_id=signup.member_id, to_member_id=to_member.id)
    db.session.add(swap)
    return swap


def decide_swap(swap: Swap, approve: bool, by: User) -> None:
    res = db.session.execute(update(Swap).where(Swap.id == swap.id, Swap.state == "pending")
                             .values(state="approved" if approve else "refused", decided_by_id=by.id,
                                     decided_at=utcnow()).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise StationsError(_("This hand-over has already been decided."))
    db.session.expire(swap)
    if approve:
        signup = swap.signup
        if signup.shift.ends_at <= utcnow():
            raise StationsError(_("This shift is over."))
        signup.member_id = swap.to_member_id
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            raise StationsError(_("That member is already on this shift.")) from None
    record("stations.swap", swap.signup.shift.station, summary=f"{swap.from_member.display_name} → "
           f"{swap.to_member.display_name} {'approved' if approve else 'refused'}",
           community_id=swap.signup.shift.station.community_id)


# --- Check-in and marking --------------------------------------------------------------------

def check_in(station: Station, member: User, now: dt.datetime | None = None) -> tuple[str, Signup]:
    """The member opened the station's QR link: check them in to the shift
    they hold now (or out, on the second visit). Returns ("in"|"out", sign-up)."""
    now = now or utcnow()
    signup = db.session.scalar(
        select(Signup).join(Shift, Shift.id == Signup.shift_id)
        .where(Shift.station_id == station.id, Signup.member_id == member.id, Signup.status == "held",
               Shift.starts_at <= now + GRACE, Shift.ends_at >= now - GRACE)
        .order_by(Shift.starts_at).limit(1)
    )
    if signup is None:
        raise StationsError(_("You hold no shift at this station now. Check in within 30 minutes of a shift "
                              "you signed up for."))
    if signup.checked_in_at is None:
        signup.checked_in_at = now
        kind = "in"
    elif signup.checked_out_at is None:
        signup.checked_out_at = now
        kind = "out"
    else:
        raise StationsError(_("You have already checked in and out of this shift."))
    record(f"stations.check_{kind}", station, summary=f"{member.display_name} {signup.shift.day}",
           community_id=station.community_id)
    return kind, signup


def mark(signup: Signup, outcome: str, by: User, rating: int | None = None) -> None:
    """An organiser marks a held shift worked, no-show or excused once it has
    started; a worked shift counts its hours times the station's weight."""
    if outcome not in OUTCOMES:
        raise StationsError(_("Choose worked, no-show or excused."), "outcome")
    if signup.status != "held":
        raise StationsError(_("Only members holding a slot can be marked."), "outcome")
    shift = signup.shift
    if shift.starts_at > utcnow():
        raise StationsError(_("A shift can be marked once it has started."), "outcome")
    if rating is not None and not 1 <= rating <= 5:
        raise StationsError(_("A rating is from 1 to 5."), "rating")
    signup.outcome = outcome
    signup.hours = round(shift.hours * (shift.station.weight or 1.0), 2) if outcome == "worked" else 0.0
    signup.rating = rating
    signup.marked_by_id = by.id
    signup.marked_at = utcnow()
    record("stations.mark", shift.station, summary=f"{signup.member.display_name} {shift.day} {outcome}",
           community_id=shift.station.community_id, object_type="stations_signup", object_id=signup.id)
