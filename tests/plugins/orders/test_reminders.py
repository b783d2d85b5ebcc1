"""Reminders through core.notify: before the date, when taking closes with
places open, when a commitment's deadline passes — once each."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import clock
from core.extensions import db
from core.modules import set_enabled
from core.notify.models import Notification
from plugins.orders.services import commitments as commit_svc
from plugins.orders.services import orders as svc
from plugins.orders.tasks import send_reminders

from .conftest import place_order


def _inbox(user):
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def test_reminders_are_sent_once(world):
    o = place_order(world, days=3, needed=3)
    svc.take(o.id, world.members[0])
    c = commit_svc.commit_to(world.members[1], world.c1, text="宣讲", items="宣讲", post=None,
                             deadline=clock.today() + dt.timedelta(days=1))
    db.session.commit()
    assert send_reminders(world.c1.id) == 0
    # a day before the start: taking has closed with 2 places open, the member is told it starts soon
    with clock.frozen(o.starts_at - dt.timedelta(hours=6)):
        # the member (starts soon), the admin (underfilled), the other member (commitment overdue)
        assert send_reminders(world.c1.id) == 3
        assert send_reminders(world.c1.id) == 0       # de-duplicated
    kinds = {n.kind for n in _inbox(world.members[0])}
    assert kinds == {"orders.reminder"}
    assert {n.kind for n in _inbox(world.admin1)} == {"orders.underfilled"}
    assert {n.kind for n in _inbox(world.members[1])} == {"orders.commitment_overdue"}
    assert c.id


def test_no_reminders_where_orders_is_off(world):
    o = place_order(world, days=3, needed=3)
    svc.take(o.id, world.members[0])
    set_enabled(world.c1.id, "orders", False, None)
    db.session.commit()
    with clock.frozen(o.starts_at - dt.timedelta(hours=6)):
        assert send_reminders(world.c1.id) == 0
