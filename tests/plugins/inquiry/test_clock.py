"""Dates come from core.clock (the district's time zone), never a fixed
offset: at 23:30 UTC it is already 07:30 the next morning in Beijing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import clock
from core.extensions import db
from plugins.inquiry import services as svc
from plugins.inquiry.models import MonthStat

from .conftest import node

D = dt.date


def cats():
    return {c.code: c for c in svc.ensure_categories()}


def issue(world, days=5, zone=0, due_date=None):
    p = svc.create_problem(node=node(world, "zone", zone), description="路灯不亮", channel="staff")
    svc.verify(p, world.district, category=cats()["power"], unit=world.power, priority="normal", deadline_days=days,
               due_date=due_date)
    s = svc.create_sheet(world.district)
    svc.add_to_sheet(s, p, world.district)
    svc.issue_sheet(s, world.district)
    db.session.commit()
    return p


def test_a_deadline_counts_from_the_district_day_of_issue(world):
    # Sunday 1 March 23:30 UTC = Monday 2 March 07:30 in Beijing.
    with clock.frozen("2026-03-01 23:30"):
        p = issue(world, days=5)
    assert clock.local_date(p.issued_at) == D(2026, 3, 2)
    # Five working days after Monday 2 March: Tue–Fri and Monday 9 March, to its last second.
    assert clock.local_date(p.deadline) == D(2026, 3, 9)
    assert clock.local(p.deadline).time() == dt.time(23, 59, 59)
    assert p.deadline == dt.datetime(2026, 3, 9, 15, 59, 59)


def test_the_deadline_follows_the_configured_time_zone(app, world):
    app.config["TIMEZONE"] = "Europe/London"
    try:
        with clock.frozen("2026-03-01 23:30"):
            p = issue(world, days=5)
        # In London it is still Sunday 1 March: five working days end on Friday 6 March.
        assert clock.local_date(p.deadline) == D(2026, 3, 6)
        assert p.deadline == dt.datetime(2026, 3, 6, 23, 59, 59)
    finally:
        app.config["TIMEZONE"] = "Asia/Shanghai"


def test_a_due_date_of_the_district_today_is_accepted_at_dawn(world):
    with clock.frozen("2026-03-01 23:30"):
        p = svc.create_problem(node=node(world), description="x", channel="staff")
        try:
            svc.verify(p, world.district, category=cats()["power"], unit=world.power, priority="normal",
                       deadline_days=5, due_date=D(2026, 3, 1))
            raise AssertionError("yesterday accepted as a due date")
        except svc.InquiryError as exc:
            assert exc.field == "due_date"
            db.session.rollback()
        p = svc.create_problem(node=node(world), description="x", channel="staff")
        svc.verify(p, world.district, category=cats()["power"], unit=world.power, priority="normal",
                   deadline_days=5, due_date=D(2026, 3, 2))
        assert p.state == "triaged"


def test_form_defaults_are_the_district_today(client, login, world):
    p = svc.create_problem(node=node(world), description="待分拣", channel="staff")
    db.session.commit()
    login("district")
    with clock.frozen("2026-03-01 23:30"):
        settings = client.get("/inquiry/settings").get_data(as_text=True)
        page = client.get(f"/inquiry/p/{p.id}").get_data(as_text=True)
    assert 'value="2026-03-02"' in settings  # the extra-day form starts at today
    assert 'min="2026-03-02"' in page  # the triage form's fixed due date


def test_monthly_statistics_count_in_the_district_month(world):
    # 31 March 17:00 UTC is 1 April 01:00 in Beijing: April's figure.
    with clock.frozen("2026-03-31 17:00"):
        svc.create_problem(node=node(world), description="x", channel="staff")
        db.session.commit()
    months = {m for m, in db.session.execute(select(MonthStat.month).where(MonthStat.received > 0))}
    assert months == {"2026-04"}


def test_the_clock_turns_yellow_then_red(world):
    with clock.frozen("2026-03-01 23:30"):
        p = issue(world, days=5)
    assert svc.deadline_colour(p, now=dt.datetime(2026, 3, 3, 2, 0)) == "green"
    assert svc.deadline_colour(p, now=dt.datetime(2026, 3, 9, 2, 0)) == "yellow"
    # 00:30 on 10 March in Beijing, 16:30 UTC on the 9th: overdue.
    assert svc.deadline_colour(p, now=dt.datetime(2026, 3, 9, 16, 30)) == "red"


def test_deadline_warnings_name_tomorrows_and_passed_deadlines(world):
    c1 = world.tree.communities[0]
    with clock.frozen("2026-03-01 23:30"):
        due_tue = issue(world, days=1)  # due Tuesday 3 March
        due_mon = issue(world, days=5)  # due Monday 9 March
        other = issue(world, days=1, zone=8)  # another community
    # Monday 2 March: Tuesday's deadline is tomorrow.
    warned = svc.deadline_warnings(c1.id, D(2026, 3, 2))
    assert [(w.ref, w.level, w.due) for w in warned] == [(due_tue.ref, "yellow", D(2026, 3, 3))]
    assert other.ref not in {w.ref for w in warned}
    # Friday 6 March: Monday's deadline is the next working day; Tuesday's has passed.
    warned = {w.ref: w.level for w in svc.deadline_warnings(c1.id, D(2026, 3, 6))}
    assert warned == {due_tue.ref: "red", due_mon.ref: "yellow"}
    # A claimed problem is still warned of; a reported one is not.
    svc.claim(due_tue, world.power_handler)
    svc.claim(due_mon, world.power_handler)
    svc.report_result(due_mon, world.power_handler, "已修好")
    db.session.commit()
    assert {w.ref for w in svc.deadline_warnings(c1.id, D(2026, 3, 6))} == {due_tue.ref}


def test_the_morning_run_tells_the_unit_s_handlers_once_yellow_then_red(world):
    from core.jobs import run_periodic
    from core.notify.models import Notification

    c1, c2 = world.tree.communities
    with clock.frozen("2026-03-01 23:30"):
        due_tue = issue(world, days=1)  # due Tuesday 3 March, held by the power company
    # Monday 2 March, 08:00 Beijing (00:00 UTC): Tuesday's deadline is tomorrow.
    with clock.frozen("2026-03-02 00:00"):
        run_periodic("inquiry.deadlines")
        run_periodic("inquiry.deadlines", "2026-03-02 00:01")  # a second run sends nothing new
    notes = list(db.session.scalars(select(Notification).where(Notification.user_id == world.power_handler.id)))
    assert [(n.kind, n.params["ref"]) for n in notes] == [("inquiry.deadline_near", due_tue.ref)]
    # Other units' handlers are not told.
    assert db.session.scalar(select(Notification).where(Notification.user_id == world.handler.id)) is None
    # Thursday 5 March: it has passed — a red warning; the module switched off in c1 sends nothing more.
    with clock.frozen("2026-03-05 00:00"):
        run_periodic("inquiry.deadlines")
    kinds = [n.kind for n in db.session.scalars(
        select(Notification).where(Notification.user_id == world.power_handler.id).order_by(Notification.id))]
    assert kinds == ["inquiry.deadline_near", "inquiry.overdue"]
    from core.modules import set_enabled

    set_enabled(c1.id, "inquiry", False, None)
    db.session.commit()
    with clock.frozen("2026-03-05 00:00"):
        db.session.execute(Notification.__table__.delete())
        db.session.commit()
        run_periodic("inquiry.deadlines", "2026-03-05 00:02")
    assert db.session.scalar(select(Notification)) is None
