"""The rules of the stations module, without a request."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from core.extensions import db
from core.modules import set_enabled
from core.plugins import service_records
from plugins.stations import queries as q
from plugins.stations.models import MedicineBatch, Move, Shift, Signup
from plugins.stations.services import ShiftFull, StationsError, modes
from plugins.stations.services import medicine as med
from plugins.stations.services import shifts as svc
from plugins.stations.services import stations as station_svc

from .conftest import future_shift, running_shift


def _held(shift):
    db.session.expire_all()
    return [s.member_id for s in db.session.get(Shift, shift.id).signups if s.status == "held"]


def test_sign_up_fills_then_waitlists_and_a_drop_promotes_the_first_in_line(app, world):
    sh = future_shift(world.station, needed=2)
    a, b, c, d = world.members[:4]
    for m in (a, b, c, d):
        svc.sign_up(sh, m)
        db.session.commit()
    db.session.expire_all()
    assert db.session.get(Shift, sh.id).taken == 2
    statuses = {s.member_id: s.status for s in db.session.get(Shift, sh.id).signups}
    assert statuses == {a.id: "held", b.id: "held", c.id: "waiting", d.id: "waiting"}
    held_a = next(s for s in db.session.get(Shift, sh.id).signups if s.member_id == a.id)
    promoted = svc.drop(held_a)
    db.session.commit()
    assert promoted is not None and promoted.member_id == c.id and promoted.promoted_at is not None
    assert sorted(_held(sh)) == sorted([b.id, c.id])
    assert db.session.get(Shift, sh.id).taken == 2


def test_full_shift_without_waitlist_is_refused_and_duplicates_are_refused(app, world):
    sh = future_shift(world.station, needed=1)
    svc.sign_up(sh, world.members[0])
    db.session.commit()
    with pytest.raises(ShiftFull):
        svc.sign_up(sh, world.members[1], waitlist=False)
    db.session.rollback()
    with pytest.raises(StationsError) as exc:
        svc.sign_up(sh, world.members[0])
    assert exc.value.field == "member_id"
    db.session.rollback()
    assert db.session.get(Shift, sh.id).taken == 1


def test_cut_off_restricted_and_started_shifts(app, world):
    with clock.frozen("2026-03-02 02:00"):  # 10:00 in the district
        soon = svc.add_shift(world.station, clock.today(), dt.time(11), dt.time(12))
        started = svc.add_shift(world.station, clock.today(), dt.time(9), dt.time(12))
        db.session.commit()
        for shift in (soon, started):
            with pytest.raises(StationsError):
                svc.sign_up(shift, world.members[0])
            db.session.rollback()
    restricted = future_shift(world.station, days=4, restricted=True)
    with pytest.raises(StationsError):
        svc.sign_up(restricted, world.members[0])
    db.session.rollback()
    su = svc.sign_up(restricted, world.members[0], assigned_by=world.community)
    db.session.commit()
    assert su.status == "held" and su.assigned_by_id == world.community.id
    with pytest.raises(ShiftFull):
        for m in world.members[1:4]:
            svc.sign_up(restricted, m, assigned_by=world.community)
    db.session.rollback()


def test_needed_cannot_fall_below_the_members_holding_it(app, world):
    sh = future_shift(world.station, needed=3)
    for m in world.members[:3]:
        svc.sign_up(sh, m)
    db.session.commit()
    with pytest.raises(StationsError) as exc:
        svc.set_needed(sh, 2)
    assert exc.value.field == "needed"
    db.session.rollback()
    svc.sign_up(sh, world.members[3])  # waitlisted
    db.session.commit()
    svc.set_needed(sh, 4)  # a new slot goes to the first in line
    db.session.commit()
    assert world.members[3].id in _held(sh)


def test_rota_generates_shifts_once(app, world):
    rota = svc.add_rota(world.station, 5, dt.time(9), dt.time(12), needed=2)
    db.session.commit()
    n = svc.generate_shifts(world.station, clock.today(), weeks=4)
    db.session.commit()
    assert n in (4, 5)
    assert svc.generate_shifts(world.station, clock.today(), weeks=4) == 0
    days = db.session.scalars(db.select(Shift.day).where(Shift.rota_id == rota.id)).all()
    assert all(d.weekday() == 5 for d in days)


def test_swap_needs_the_organiser(app, world):
    sh = future_shift(world.station)
    su = svc.sign_up(sh, world.members[0])
    db.session.commit()
    swap = svc.ask_swap(su, world.members[1])
    db.session.commit()
    with pytest.raises(StationsError):
        svc.ask_swap(su, world.members[2])
    db.session.rollback()
    svc.decide_swap(swap, True, world.community)
    db.session.commit()
    assert _held(sh) == [world.members[1].id]
    with pytest.raises(StationsError):
        svc.decide_swap(swap, False, world.community)
    db.session.rollback()


def test_check_in_out_mark_hours_weighted_and_service_records(app, world):
    world.station.weight = 1.5
    db.session.commit()
    sh = running_shift(world.station)
    su = Signup(shift_id=sh.id, member_id=world.members[0].id, status="held")
    sh.taken = 1
    db.session.add(su)
    db.session.commit()
    with pytest.raises(StationsError):
        svc.check_in(world.station, world.members[1])
    kind, got = svc.check_in(world.station, world.members[0])
    assert kind == "in" and got.id == su.id and su.checked_in_at is not None
    kind, _ = svc.check_in(world.station, world.members[0])
    assert kind == "out"
    with pytest.raises(StationsError):
        svc.check_in(world.station, world.members[0])
    svc.mark(su, "worked", world.community)
    db.session.commit()
    assert su.hours == round(sh.hours * 1.5, 2)
    recs = service_records([world.members[0].id], sh.day - dt.timedelta(days=1), sh.day + dt.timedelta(days=1))
    assert [(r.source, r.key, r.hours) for r in recs] == [("stations", f"shift:{su.id}", su.hours)]
    assert recs[0].evidence == "marked worked by comm1"
    set_enabled(world.tree.communities[0].id, "stations", False, None)
    db.session.commit()
    assert service_records([world.members[0].id], sh.day, sh.day) == []


def test_marking_rules(app, world):
    sh = future_shift(world.station)
    su = svc.sign_up(sh, world.members[0])
    db.session.commit()
    with pytest.raises(StationsError):
        svc.mark(su, "worked", world.community)
    with pytest.raises(StationsError):
        svc.mark(su, "partied", world.community)


def test_medicine_box_fefo_expiry_removal_and_figures(app, world):
    today = clock.today()
    st = world.station
    late = med.add_batch(st, name="布洛芬", spec="0.3g", quantity=10, expiry=today + dt.timedelta(days=300), today=today)
    early = med.add_batch(st, name="布洛芬", spec="0.3g", quantity=5, expiry=today + dt.timedelta(days=20), today=today)
    with pytest.raises(StationsError) as exc:
        med.add_batch(st, name="过期药", quantity=1, expiry=today - dt.timedelta(days=1), today=today)
    assert exc.value.field == "expiry"
    db.session.commit()
    assert [b.id for b in med.fefo(st, today)] == [early.id]
    assert [b.id for b in med.expiring_batches(st, today)] == [early.id]
    med.take(early, "give", 2, today=today, resident_name="王芳", resident_phone="13900000001")
    loan = med.take(late, "lend", 1, today=today, resident_name="王芳", resident_phone="139-0000-0001")
    med.take(late, "give", 3, today=today, resident_name="李强", resident_phone="13900000002")
    db.session.commit()
    with pytest.raises(StationsError) as exc:
        med.take(early, "give", 10, today=today, resident_name="赵敏", resident_phone="13900000003")
    assert exc.value.field == "quantity"
    db.session.rollback()
    with pytest.raises(StationsError) as exc:
        med.take(early, "give", 1, today=today, resident_name="赵敏", resident_phone="123")
    assert exc.value.field == "resident_phone"
    db.session.rollback()
    assert q.station_medicine(st) == (2, 6)  # 王芳 twice is one resident
    med.return_loan(loan)
    db.session.commit()
    assert db.session.get(MedicineBatch, late.id).quantity == 10 - 1 - 3 + 1
    with pytest.raises(StationsError):
        med.return_loan(loan)
    db.session.rollback()
    later = today + dt.timedelta(days=25)
    with pytest.raises(StationsError):
        med.take(early, "give", 1, today=later, resident_name="赵敏", resident_phone="13900000003")
    db.session.rollback()
    with pytest.raises(StationsError) as exc:
        med.remove_batch(early, "  ")
    assert exc.value.field == "reason"
    med.remove_batch(early, "过期")
    db.session.commit()
    assert db.session.get(MedicineBatch, early.id).quantity == 0
    assert db.session.scalar(db.select(Move.quantity).where(Move.batch_id == early.id, Move.kind == "remove")) == 3
    assert med.expiring_batches(st, later) == []


def test_opinion_post_hands_on_to_the_problem_module_or_says_none_took_it(app, world):
    st = world.station
    with pytest.raises(StationsError):
        modes.take_opinion(st, "路灯坏了")
    modes.set_mode(st, "opinion")
    db.session.commit()
    op = modes.take_opinion(st, "小区路灯坏了三盏", resident_name="王芳", resident_phone="13900000001", by=world.worker)
    db.session.commit()
    assert op.problem_ref  # inquiry is installed and on: it made a problem of it
    set_enabled(world.tree.communities[0].id, "inquiry", False, None)
    db.session.commit()
    op2 = modes.take_opinion(st, "垃圾清运不及时", by=world.worker)
    db.session.commit()
    assert op2.problem_ref is None


def test_emergency_post_with_branch_history_rota_and_log(app, world):
    st = world.station
    inc = modes.start_incident(st, "防汛抢险", by=world.community, secretary="王书记", rota_days=1, per_shift=2)
    db.session.commit()
    assert st.mode == "emergency"
    assert db.session.scalar(db.select(db.func.count()).select_from(Shift).where(Shift.incident_id == inc.id)) == 3
    with pytest.raises(StationsError):
        modes.set_mode(st, "service")
    modes.add_branch_member(inc, "李委员")
    modes.add_branch_member(inc, "张书记", role="secretary")  # the former secretary leaves, kept in history
    modes.log(inc, "转移群众12人", world.community)
    db.session.commit()
    seats = {s.name: s for s in inc.branch}
    assert seats["王书记"].left_at is not None and seats["张书记"].left_at is None
    modes.end_incident(inc, world.community)
    db.session.commit()
    assert st.mode == "service" and inc.ended_at is not None
    assert len(inc.branch) == 3 and len(inc.log) == 3


def test_station_rules_and_claims(app, world):
    with pytest.raises(StationsError) as exc:
        station_svc.create_station(world.tree.estates[1], name="锦绣先锋驿站")
    assert exc.value.field == "name"
    db.session.rollback()
    with pytest.raises(StationsError):
        station_svc.create_station(world.tree.district, name="区驿站")
    with pytest.raises(StationsError) as exc:
        station_svc.set_served(world.station, [world.tree.estates[2]])
    assert exc.value.field == "served"
    with pytest.raises(StationsError):
        station_svc.add_claim(world.station, world.housing)
    station_svc.add_claim(world.station, world.power, liaison_name="新联络")
    db.session.commit()
    assert world.station.current_claim.organisation_id == world.power.id
    assert sum(1 for c in world.station.claims if c.end_date is None) == 1


def test_the_promoted_member_and_the_organisers_are_told(app, world):
    from core.notify import Notification
    from plugins.stations.tasks import generate_ahead, warn_expiring

    sh = future_shift(world.station, needed=1)
    first = svc.sign_up(sh, world.members[0])
    svc.sign_up(sh, world.members[1])
    db.session.commit()
    svc.drop(first)
    db.session.commit()
    notes = db.session.scalars(db.select(Notification).where(Notification.kind == "stations.promoted")).all()
    assert [n.user_id for n in notes] == [world.members[1].id]
    today = clock.today()
    med.add_batch(world.station, name="布洛芬", quantity=3, expiry=today + dt.timedelta(days=10), today=today)
    db.session.commit()
    c1 = world.tree.communities[0].id
    assert warn_expiring(c1) == 2  # the community admin and the grid worker of the station's estate
    assert warn_expiring(c1) == 0  # once per batch
    who = set(db.session.scalars(db.select(Notification.user_id).where(Notification.kind == "stations.expiring")))
    assert who == {world.community.id, world.worker.id}
    svc.add_rota(world.station, 5, dt.time(9), dt.time(12))
    db.session.commit()
    assert generate_ahead(c1) >= 4 and generate_ahead(c1) == 0
