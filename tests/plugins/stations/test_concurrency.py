"""N members sign up for a shift of K slots at the same instant: exactly K hold
a slot, the rest are waitlisted (or told it is full); drops promote exactly
one waiting member per freed slot. Decided by the database — a conditional
UPDATE of the shift's taken-count in the sign-up's transaction and a unique
(shift, member) — on SQLite and PostgreSQL alike, with real threads."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from core.extensions import db
from core.models import User
from plugins.stations.models import Shift, Signup
from plugins.stations.services import ShiftFull, StationsError
from plugins.stations.services import shifts as svc
from tests import factories

from .conftest import future_shift

N, K = 16, 3


def _rush(app, shift_id, member_ids, waitlist):
    barrier = threading.Barrier(len(member_ids))
    outcomes: dict[int, str] = {}

    def attempt(uid):
        with app.app_context():
            user = db.session.get(User, uid)
            shift = db.session.get(Shift, shift_id)
            shift.station  # noqa: B018 - loaded before the rush
            db.session.commit()  # hand the connection back: more threads than the pool holds
            barrier.wait(timeout=20)
            try:
                su = svc.sign_up(shift, user, waitlist=waitlist)
                db.session.commit()
                outcomes[uid] = su.status
            except ShiftFull:
                db.session.rollback()
                outcomes[uid] = "full"
            except StationsError as exc:
                db.session.rollback()
                outcomes[uid] = f"error: {exc}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(uid,)) for uid in member_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def _members(world, n):
    return [factories.make_user(f"rush{i}", "member", world.tree.estates[i % 2]).id for i in range(n)]


def test_concurrent_sign_ups_never_over_fill_a_shift(app, world):
    ids = _members(world, N)
    sh = future_shift(world.station, needed=K)
    outcomes = _rush(app, sh.id, ids, waitlist=False)
    assert len(outcomes) == N
    assert sorted(outcomes.values()) == ["full"] * (N - K) + ["held"] * K, outcomes
    db.session.expire_all()
    assert db.session.get(Shift, sh.id).taken == K
    held = db.session.scalar(select(func.count()).select_from(Signup).where(Signup.shift_id == sh.id))
    assert held == K


def test_concurrent_sign_ups_with_waitlist_then_concurrent_drops_promote_in_order(app, world):
    ids = _members(world, N)
    sh = future_shift(world.station, needed=K)
    outcomes = _rush(app, sh.id, ids, waitlist=True)
    assert sorted(outcomes.values()).count("held") == K
    assert sorted(outcomes.values()).count("waiting") == N - K
    waiting = db.session.scalars(select(Signup.member_id).where(Signup.shift_id == sh.id, Signup.status == "waiting")
                                 .order_by(Signup.id)).all()
    holders = db.session.scalars(select(Signup.id).where(Signup.shift_id == sh.id, Signup.status == "held")).all()
    barrier = threading.Barrier(len(holders))

    def drop(signup_id):
        with app.app_context():
            su = db.session.get(Signup, signup_id)
            barrier.wait(timeout=20)
            try:
                svc.drop(su)
                db.session.commit()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=drop, args=(i,)) for i in holders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    db.session.expire_all()
    assert db.session.get(Shift, sh.id).taken == K
    now_held = set(db.session.scalars(select(Signup.member_id).where(Signup.shift_id == sh.id, Signup.status == "held")))
    assert now_held == set(waiting[:K])


def test_the_same_member_twice_at_once_gets_one_sign_up(app, world):
    sh = future_shift(world.station, needed=K)
    member = world.members[0].id
    barrier = threading.Barrier(2)
    results = []

    def attempt():
        with app.app_context():
            user = db.session.get(User, member)
            shift = db.session.get(Shift, sh.id)
            shift.station  # noqa: B018
            barrier.wait(timeout=20)
            try:
                svc.sign_up(shift, user)
                db.session.commit()
                results.append("ok")
            except StationsError:
                db.session.rollback()
                results.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["ok", "refused"]
    db.session.expire_all()
    assert db.session.get(Shift, sh.id).taken == 1
