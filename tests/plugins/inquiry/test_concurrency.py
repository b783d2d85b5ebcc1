"""Two handlers of one unit sign for the same problem at the same moment:
exactly one wins, decided by the database (a conditional UPDATE), on SQLite
and on PostgreSQL alike."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from core.extensions import db
from core.models import User
from plugins.inquiry import services as svc
from plugins.inquiry.models import Event, Problem

from .conftest import node


def _issued_problems(world, n):
    cat = {c.code: c for c in svc.ensure_categories()}["roads"]
    sheet = svc.create_sheet(world.community)
    ids = []
    for i in range(n):
        p = svc.create_problem(node=node(world), description=f"路面塌陷 {i}", channel="staff")
        svc.verify(p, world.community, category=cat, unit=world.housing, priority="normal", deadline_days=5)
        svc.add_to_sheet(sheet, p, world.community)
        ids.append(p.id)
    svc.issue_sheet(sheet, world.community)
    db.session.commit()
    return ids


def test_two_handlers_claim_at_once_exactly_one_wins(app, world):
    ids = _issued_problems(world, 5)
    handler_ids = [world.handler.id, world.handler_b.id]
    for pid in ids:
        barrier = threading.Barrier(2)
        outcomes: dict[int, str] = {}

        def attempt(uid, pid=pid, barrier=barrier, outcomes=outcomes):
            with app.app_context():
                user = db.session.get(User, uid)
                problem = db.session.get(Problem, pid)
                assert problem.state == "issued"
                barrier.wait(timeout=10)
                try:
                    svc.claim(problem, user)
                    db.session.commit()
                    outcomes[uid] = "won"
                except svc.TransitionError:
                    db.session.rollback()
                    outcomes[uid] = "lost"
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=attempt, args=(uid,)) for uid in handler_ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(outcomes.values()) == ["lost", "won"], outcomes
        db.session.expire_all()
        p = db.session.get(Problem, pid)
        winner = next(uid for uid, o in outcomes.items() if o == "won")
        assert p.state == "claimed" and p.claimed_by_id == winner
        claims = db.session.scalar(select(func.count()).select_from(Event).where(Event.problem_id == pid, Event.action == "claim"))
        assert claims == 1
