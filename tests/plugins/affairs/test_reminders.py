"""The weekly visit-quota reminder (periodic task "affairs.visit_quota"):
on the community's weekday from its hour on, grid workers short of the quota
are told once; a community with the module off is skipped."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import clock
from core.extensions import db
from core.jobs import run_periodic
from core.modules import set_enabled
from core.notify.models import Notification
from plugins.affairs import services as S

# 2026-03-05 is a Thursday; 01:00 UTC is 09:00 in Beijing.
THURSDAY_9 = "2026-03-05 01:00"


def told(kind="affairs.visit_quota"):
    return sorted((n.user_id, n.params["visits"], n.params["quota"]) for n in
                  db.session.scalars(select(Notification).where(Notification.kind == kind)))


def test_workers_short_of_the_quota_are_told_once_on_the_day(world):
    S.set_weekly_quota(None, 1, None)
    db.session.commit()
    with clock.frozen("2026-03-03 02:00"):  # Tuesday: worker A makes the one visit
        S.record_visit(worker=world.worker_a, node=world.tree.zones[0], day=dt.date(2026, 3, 3), kind="home",
                       finding="none", notes=None, resident=world.res_a)
        db.session.commit()
        assert run_periodic("affairs.visit_quota") == "done" and told() == []  # not the reminder day
    with clock.frozen("2026-03-05 00:00"):  # Thursday 08:00: before the hour
        run_periodic("affairs.visit_quota")
        assert told() == []
    with clock.frozen(THURSDAY_9):
        run_periodic("affairs.visit_quota")
    # Worker B (0 of 1) in community 1 and the outsider in community 2; not A.
    assert told() == sorted([(world.worker_b.id, 0, 1), (world.outsider.id, 0, 1)])
    with clock.frozen("2026-03-05 02:00"):  # the next hourly run, and a second consumer's
        run_periodic("affairs.visit_quota")
        run_periodic("affairs.visit_quota", "2026-03-05 02:00")
    assert len(told()) == 2
    n = db.session.scalar(select(Notification).where(Notification.user_id == world.worker_b.id))
    assert n.key == f"quota:2026-10:{world.worker_b.id}"


def test_a_community_with_the_module_off_is_skipped_and_its_own_day_is_kept(world):
    set_enabled(world.tree.communities[1].id, "affairs", False, None)
    S.set_weekly_quota(world.tree.communities[0].id, 2, None, reminder_weekday=5, reminder_hour=17)
    db.session.commit()
    assert S.reminder_schedule(world.tree.communities[0].id) == (5, 17)
    assert S.reminder_schedule(world.tree.communities[1].id) == (4, 9)
    with clock.frozen(THURSDAY_9):
        run_periodic("affairs.visit_quota")
    assert told() == []  # community 1 waits for Friday 17:00; community 2 has the module off
    with clock.frozen("2026-03-06 09:30"):  # Friday 17:30 in Beijing
        run_periodic("affairs.visit_quota")
    assert told() == sorted([(world.worker_a.id, 0, 2), (world.worker_b.id, 0, 2)])
