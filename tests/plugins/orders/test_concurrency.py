"""N members take an order with K places at the same instant: exactly K
succeed and the rest are told it is full — decided by the database (a
conditional UPDATE and a unique constraint in one transaction), on SQLite
and on PostgreSQL alike."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from core.extensions import db
from core.models import User
from plugins.orders.models import Order, Take
from plugins.orders.services import orders as svc

from .conftest import place_order, register_member

N, K = 12, 5


def _race(app, order_id, user_ids):
    barrier = threading.Barrier(len(user_ids))
    outcomes: dict[int, str] = {}

    def attempt(uid):
        with app.app_context():
            user = db.session.get(User, uid)
            barrier.wait(timeout=20)
            try:
                svc.take(order_id, user)
                outcomes[uid] = "won"
            except svc.OrderFull:
                outcomes[uid] = "full"
            except svc.OrdersError:
                outcomes[uid] = "twice"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(uid,)) for uid in user_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_n_members_k_places_exactly_k_win(app, world):
    members = [register_member(f"race{i:02d}", world.c1, unit=world.unit, by=world.admin1) for i in range(N)]
    o = place_order(world, needed=K)
    outcomes = _race(app, o.id, [m.id for m in members])
    assert len(outcomes) == N
    assert sorted(outcomes.values()).count("won") == K
    assert sorted(outcomes.values()).count("full") == N - K
    db.session.expire_all()
    assert db.session.get(Order, o.id).taken == K
    assert db.session.scalar(select(func.count()).select_from(Take).where(Take.order_id == o.id)) == K


def test_one_member_twice_at_once_takes_one_place(app, world):
    o = place_order(world, needed=3)
    uid = world.members[0].id
    outcomes = _race(app, o.id, [uid, uid, uid, uid])
    db.session.expire_all()
    assert db.session.get(Order, o.id).taken == 1
    assert db.session.scalar(select(func.count()).select_from(Take).where(Take.order_id == o.id)) == 1
    assert outcomes  # every attempt answered (won, or told it was already taken)
