"""The shared medicine box (共享药箱): batches, stock in and out, giving and
lending to residents, first-expiry-first-out, expiry warnings and removal of
expired stock. Stock never goes below zero: every taking is a conditional
UPDATE (`quantity >= n`)."""

from __future__ import annotations

import datetime as dt
import re

from flask_babel import gettext as _
from sqlalchemy import select, update

from core.audit import record
from core.extensions import db
from core.i18n import N_
from core.models import User, utcnow

from ..models import MedicineBatch, Move, Station
from . import StationsError

WARN_DAYS = 30
PHONE = re.compile(r"^1\d{10}$|^0\d{2,3}-?\d{7,8}$")


def resident_key(name: str, phone: str) -> str:
    return f"{re.sub(r'[^0-9]', '', phone)}|{name.strip()}"


def _qty(value, field="quantity") -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise StationsError(_("Give a whole number."), field) from None
    if not 1 <= n <= 100000:
        raise StationsError(_("Give a number from 1 to 100,000."), field)
    return n


def add_batch(station: Station, *, name: str, spec: str = "", quantity, expiry: dt.date, donor: str = "",
              today: dt.date, by: User | None = None) -> MedicineBatch:
    name = (name or "").strip()
    if not name:
        raise StationsError(_("Name the medicine."), "name")
    n = _qty(quantity)
    if expiry is None:
        raise StationsError(_("Give the expiry date."), "expiry")
    if expiry < today:
        raise StationsError(_("This batch has already expired: it cannot go into the box."), "expiry")
    batch = MedicineBatch(station_id=station.id, name=name, spec=(spec or "").strip(), quantity=n, expiry=expiry,
                  donor=(donor or "").strip())
    db.session.add(batch)
    db.session.flush()
    db.session.add(Move(batch_id=batch.id, station_id=station.id, kind="in", quantity=n, note=batch.donor,
                        by_id=by.id if by else None))
    record("stations.batch", station, summary=f"{name} {spec} ×{n} {expiry}", community_id=station.community_id)
    return batch


def stock_in(batch: MedicineBatch, quantity, *, by: User | None = None, note: str = "") -> Move:
    n = _qty(quantity)
    if batch.removed_at is not None:
        raise StationsError(_("This batch was removed."), "quantity")
    db.session.execute(update(MedicineBatch).where(MedicineBatch.id == batch.id).values(quantity=MedicineBatch.quantity + n)
                       .execution_options(synchronize_session=False))
    db.session.expire(batch, ["quantity"])
    move = Move(batch_id=batch.id, station_id=batch.station_id, kind="in", quantity=n, note=note,
                by_id=by.id if by else None)
    db.session.add(move)
    return move


def take(batch: MedicineBatch, kind: str, quantity, *, today: dt.date, resident_name: str = "", resident_phone: str = "",
         note: str = "", by: User | None = None) -> Move:
    """Take stock out of a batch: `give` (consumed) or `lend` (to come back)
    to a resident named by name and phone, or `out` (other use)."""
    if kind not in ("give", "lend", "out"):
        raise StationsError(_("Choose give, lend or stock out."), "kind")
    n = _qty(quantity)
    if batch.removed_at is not None or batch.expiry < today:
        raise StationsError(_("This batch has expired: remove it instead of handing it out."), "batch_id")
    name = (resident_name or "").strip()
    phone = (resident_phone or "").strip()
    if kind in ("give", "lend"):
        if not name:
            raise StationsError(_("Give the resident's name."), "resident_name")
        digits = re.sub(r"[\s-]", "", phone)
        if re.fullmatch(r"1\d{10}", digits):
            phone = digits
        elif not PHONE.match(phone):
            raise StationsError(_("Give the resident's phone number (11 digits)."), "resident_phone")
    res = db.session.execute(update(MedicineBatch).where(MedicineBatch.id == batch.id, MedicineBatch.quantity >= n)
                             .values(quantity=MedicineBatch.quantity - n).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise StationsError(_("Only %(n)s left in this batch.", n=batch.quantity), "quantity")
    db.session.expire(batch, ["quantity"])
    move = Move(batch_id=batch.id, station_id=batch.station_id, kind=kind, quantity=n, resident_name=name,
                resident_phone=phone, resident_key=resident_key(name, phone) if name else None, note=note,
                by_id=by.id if by else None)
    db.session.add(move)
    record(f"stations.{kind}", batch.station, summary=f"{batch.name} ×{n}", community_id=batch.station.community_id)
    return move


def return_loan(move: Move, *, by: User | None = None) -> None:
    if move.kind != "lend":
        raise StationsError(_("Only a loan can be returned."))
    res = db.session.execute(update(Move).where(Move.id == move.id, Move.returned_at.is_(None))
                             .values(returned_at=utcnow()).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise StationsError(_("This loan was already returned."))
    db.session.execute(update(MedicineBatch).where(MedicineBatch.id == move.batch_id, MedicineBatch.removed_at.is_(None))
                       .values(quantity=MedicineBatch.quantity + move.quantity).execution_options(synchronize_session=False))
    db.session.expire(move)
    record("stations.return", move.station, summary=f"{move.batch.name} ×{move.quantity}",
           community_id=move.station.community_id)


def remove_batch(batch: MedicineBatch, reason: str, *, by: User | None = None) -> None:
    """Take a batch (expired, damaged, recalled) out of the box, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise StationsError(_("Say why the stock is removed."), "reason")
    if batch.removed_at is not None:
        raise StationsError(_("This batch was removed."), "reason")
    left = batch.quantity
    db.session.execute(update(MedicineBatch).where(MedicineBatch.id == batch.id)
                       .values(quantity=0, removed_at=utcnow(), removed_reason=reason[:200])
                       .execution_options(synchronize_session=False))
    db.session.expire(batch)
    if left:
        db.session.add(Move(batch_id=batch.id, station_id=batch.station_id, kind="remove", quantity=left,
                            note=reason[:200], by_id=by.id if by else None))
    record("stations.remove", batch.station, summary=f"{batch.name} ×{left}: {reason}",
           community_id=batch.station.community_id)


def fefo(station: Station, today: dt.date, name: str | None = None) -> list[MedicineBatch]:
    """Batches to hand out first: unexpired stock, the earliest expiry first."""
    stmt = (select(MedicineBatch).where(MedicineBatch.station_id == station.id, MedicineBatch.removed_at.is_(None), MedicineBatch.quantity > 0,
                                MedicineBatch.expiry >= today).order_by(MedicineBatch.name, MedicineBatch.expiry, MedicineBatch.id))
    if name:
        stmt = stmt.where(MedicineBatch.name == name)
    rows = db.session.scalars(stmt).all()
    seen, first = set(), []
    for b in rows:
        if b.name not in seen:
            seen.add(b.name)
            first.append(b)
    return first


def expiring_batches(station: Station, today: dt.date, days: int = WARN_DAYS) -> list[MedicineBatch]:
    """Stock in the box that expires within `days` (or has expired)."""
    return db.session.scalars(
        select(MedicineBatch).where(MedicineBatch.station_id == station.id, MedicineBatch.removed_at.is_(None), MedicineBatch.quantity > 0,
                            MedicineBatch.expiry <= today + dt.timedelta(days=days)).order_by(MedicineBatch.expiry, MedicineBatch.id)
    ).all()


EXPIRING = N_("%(station)s: %(name)s (%(n)s left) expires on %(expiry)s.")
EXPIRED = N_("%(station)s: %(name)s (%(n)s left) expired on %(expiry)s; remove it from the box.")


def notify_expiring(station: Station, batches: list[MedicineBatch], today: dt.date) -> int:
    """Tell the station's organisers (community admins and grid workers over
    its grid) about each expiring batch, once per batch and expiry date."""
    from core.notify import notify

    sent = 0
    for b in batches:
        params = {"station": station.name, "name": b.name, "n": b.quantity, "expiry": b.expiry.isoformat()}
        sent += notify("stations.expiring", EXPIRED if b.expiry < today else EXPIRING, params,
                       role=("community_admin", "grid_worker"), node=station.node_id,
                       link=("stations.medicine", {"station_id": station.id}), about=station,
                       key=f"expiring:{b.id}:{b.expiry.isoformat()}:{'past' if b.expiry < today else 'soon'}")
    return sent
