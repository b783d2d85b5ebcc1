"""The state machine and the deadline arithmetic, without requests."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from core import clock
from core.extensions import db
from core.privacy import mask_name, mask_phone
from plugins.inquiry import queries
from plugins.inquiry import services as svc
from plugins.inquiry.models import STATES, Event, ExtraDay, MonthStat, Problem

from .conftest import node

D = dt.date


# --- Deadlines ---------------------------------------------------------------------


def test_national_day_2025_skips_the_holiday_and_counts_the_adjusted_saturday():
    # Issued Tuesday 30 Sep 2025: 1–8 Oct are off, Sat 11 Oct is worked.
    assert svc.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert svc.add_working_days(D(2025, 9, 30), 3) == D(2025, 10, 11)
    assert svc.add_working_days(D(2025, 9, 30), 4) == D(2025, 10, 13)


def test_sunday_before_national_day_2025_is_a_working_day():
    assert svc.is_working_day(D(2025, 9, 28))  # a Sunday, worked
    assert svc.add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)


def test_spring_festival_2025():
    # 28 Jan – 4 Feb off; Sun 26 Jan and Sat 8 Feb worked.
    assert svc.is_working_day(D(2025, 1, 26))
    assert not svc.is_working_day(D(2025, 2, 3))
    assert svc.add_working_days(D(2025, 1, 27), 1) == D(2025, 2, 5)
    assert svc.add_working_days(D(2025, 2, 6), 2) == D(2025, 2, 8)
    assert svc.working_days_between(D(2025, 1, 24), D(2025, 2, 10)) == 7  # 26, 27 Jan; 5, 6, 7, 8, 10 Feb


def test_working_days_between_counts_the_end_not_the_start():
    assert svc.working_days_between(D(2025, 10, 9), D(2025, 10, 9)) == 0
    assert svc.working_days_between(D(2025, 10, 9), D(2025, 10, 13)) == 3  # 10, 11 (adjusted), 13


def test_district_days_override_the_national_calendar():
    extra = {D(2025, 10, 10): False, D(2025, 10, 12): True}
    assert svc.add_working_days(D(2025, 10, 9), 1, extra) == D(2025, 10, 11)
    assert svc.add_working_days(D(2025, 10, 9), 2, extra) == D(2025, 10, 12)


def test_years_the_calendar_does_not_know_fall_back_to_weekdays():
    assert svc.is_working_day(D(2040, 1, 2))  # a Monday
    assert not svc.is_working_day(D(2040, 1, 1))  # a Sunday


def test_deadline_is_the_end_of_the_local_day():
    issued = dt.datetime(2025, 9, 30, 2, 0)  # 10:00 in Wuhu
    deadline = svc.deadline_for(issued, 1)
    assert clock.local_date(deadline) == D(2025, 10, 9)
    assert deadline == dt.datetime(2025, 10, 9, 15, 59, 59)  # 23:59:59 local


def test_clock_colours(app, world):
    p = Problem(state="claimed", issued_at=dt.datetime(2025, 10, 1), deadline=dt.datetime(2025, 10, 11))
    assert svc.deadline_colour(p, dt.datetime(2025, 10, 2), 0.75) == "green"
    assert svc.deadline_colour(p, dt.datetime(2025, 10, 9), 0.75) == "yellow"
    assert svc.deadline_colour(p, dt.datetime(2025, 10, 12), 0.75) == "red"
    p.state = "reported"
    assert svc.deadline_colour(p, dt.datetime(2025, 10, 12), 0.75) == ""


def test_extra_days_table_is_used_when_issuing(app, world):
    db.session.add(ExtraDay(day=D(2025, 10, 9), is_workday=False, note="防汛"))
    db.session.commit()
    assert svc.deadline_for(dt.datetime(2025, 9, 30, 2), 1, svc.extra_days()).date() == D(2025, 10, 10)


# --- The state machine --------------------------------------------------------------

EXPECTED = {
    "verify": {"new", "returned"},
    "reject": {"new", "returned"},
    "duplicate": {"new", "returned"},
    "file_opinion": {"new", "returned"},
    "add_to_sheet": {"triaged"},
    "remove_from_sheet": {"triaged"},
    "issue": {"triaged"},
    "claim": {"issued"},
    "return": {"issued", "claimed"},
    "request_extension": {"issued", "claimed"},
    "approve_extension": {"issued", "claimed"},
    "refuse_extension": {"issued", "claimed"},
    "report_result": {"claimed"},
    "close": {"reported"},
    "reopen": {"reported"},
    "unreachable": {"reported"},
    "supervise": {"triaged", "issued", "claimed", "reported"},
    "followup": {"closed"},
}


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_every_transition_allowed_and_forbidden(app, action):
    assert set(svc.TRANSITIONS) == set(EXPECTED)
    for state in STATES:
        assert svc.allowed(action, state) == (state in EXPECTED[action]), (action, state)
        if state not in EXPECTED[action]:
            with pytest.raises(svc.TransitionError):
                svc.check(action, state)


def test_terminal_states_allow_nothing_but_the_follow_up(app):
    for state in ("rejected", "duplicate", "filed"):
        assert not any(svc.allowed(a, state) for a in svc.TRANSITIONS)
    assert [a for a in svc.TRANSITIONS if svc.allowed(a, "closed")] == ["followup"]


def _problem(world, **kw):
    kw.setdefault("node", node(world))
    kw.setdefault("description", "楼道灯不亮")
    kw.setdefault("channel", "staff")
    p = svc.create_problem(**kw)
    db.session.commit()
    return p


def _issued(world, category_code="power", unit=None, days=5):
    cats = {c.code: c for c in svc.ensure_categories()}
    p = _problem(world, user=world.worker)
    svc.verify(p, world.community, category=cats[category_code], unit=unit or world.housing, priority="normal", deadline_days=days)
    sheet = svc.create_sheet(world.community)
    svc.add_to_sheet(sheet, p, world.community)
    svc.issue_sheet(sheet, world.community)
    db.session.commit()
    return p, sheet


def test_whole_loop_with_timeline_and_totals(app, world):
    p, sheet = _issued(world)
    assert p.state == "issued" and p.deadline is not None and p.issued_at is not None
    svc.claim(p, world.handler)
    svc.report_result(p, world.handler, "已更换灯泡")
    svc.return_visit(p, world.community, "dissatisfied", "二楼仍不亮")
    db.session.commit()
    assert p.state == "claimed" and p.reopen_count == 1
    svc.report_result(p, world.handler, "二楼也已更换")
    svc.return_visit(p, world.community, "satisfied", "")
    db.session.commit()
    assert p.state == "closed" and p.on_time is True and p.followup_due is not None
    events = svc.timeline(p.id)
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("report", None, "new"), ("verify", "new", "triaged"), ("add_to_sheet", "triaged", "triaged"),
        ("issue", "triaged", "issued"), ("claim", "issued", "claimed"), ("report_result", "claimed", "reported"),
        ("reopen", "reported", "claimed"), ("report_result", "claimed", "reported"), ("close", "reported", "closed"),
    ]
    assert all(e.actor for e in events[1:])
    totals = db.session.execute(select(func.sum(MonthStat.closed), func.sum(MonthStat.reopens), func.sum(MonthStat.received),
                                       func.sum(MonthStat.assigned)).where(MonthStat.community_id == svc.ALL)).one()
    assert tuple(totals) == (1, 1, 1, 1)


def test_rebuild_stats_matches_the_maintained_totals(app, world):
    p, _s = _issued(world)
    svc.claim(p, world.handler)
    svc.report_result(p, world.handler, "done")
    svc.return_visit(p, world.community, "dissatisfied", "no")
    svc.report_result(p, world.handler, "done")
    svc.return_visit(p, world.community, "basically_satisfied", "")
    q, _s2 = _issued(world)
    svc.return_to_triage(q, world.handler, "不归我们管")
    db.session.commit()
    cols = [getattr(MonthStat, f) for f in svc.STAT_FIELDS]
    before = db.session.execute(select(*[func.sum(c) for c in cols])).one()
    svc.rebuild_stats()
    db.session.commit()
    after = db.session.execute(select(*[func.sum(c) for c in cols])).one()
    assert tuple(before) == tuple(after)


def test_return_goes_back_to_triage_and_is_counted_against_the_unit(app, world):
    p, _s = _issued(world)
    svc.return_to_triage(p, world.handler, "属于供电公司")
    db.session.commit()
    assert p.state == "returned" and p.unit_id is None and p.returns_count == 1 and p.deadline is None
    ret = db.session.scalar(select(Event).where(Event.problem_id == p.id, Event.action == "return"))
    assert ret.unit_id == world.housing.id
    assert db.session.scalar(select(func.sum(MonthStat.returns)).where(MonthStat.unit_id == world.housing.id,
                                                                       MonthStat.community_id == svc.ALL)) == 1
    by_comm = queries.analysis([p.community_id], "2000-01", "2999-12")
    assert by_comm["totals"]["returns"] == 1 and by_comm["by_community"][p.community_id]["returns"] == 1


def test_claiming_a_closed_problem_is_refused_and_changes_nothing(app, world):
    p, _s = _issued(world)
    svc.claim(p, world.handler)
    svc.report_result(p, world.handler, "ok")
    svc.return_visit(p, world.community, "satisfied")
    db.session.commit()
    n = len(svc.timeline(p.id))
    with pytest.raises(svc.TransitionError) as exc:
        svc.claim(p, world.handler_b)
    assert "Closed out" in str(exc.value) or "销号" in str(exc.value)
    db.session.rollback()
    assert len(svc.timeline(p.id)) == n and p.state == "closed"


def test_another_units_handler_cannot_claim(app, world):
    p, _s = _issued(world)
    with pytest.raises(svc.InquiryError):
        svc.claim(p, world.power_handler)


def test_stale_copy_loses(app, world):
    p, _s = _issued(world)
    from types import SimpleNamespace

    # What a second request had read before the first one claimed.
    stale = SimpleNamespace(id=p.id, state=p.state, version=p.version, unit_id=p.unit_id)
    svc.claim(p, world.handler)
    db.session.commit()
    with pytest.raises(svc.TransitionError):
        svc.claim(stale, world.handler_b)
    assert db.session.get(Problem, p.id).claimed_by_id == world.handler.id


def test_extension_before_the_deadline_only(app, world):
    p, _s = _issued(world)
    svc.claim(p, world.handler)
    old = p.deadline
    ext = svc.request_extension(p, world.handler, 3, "需要采购材料")
    with pytest.raises(svc.InquiryError):
        svc.request_extension(p, world.handler, 3, "again")
    svc.decide_extension(p, ext, world.community, True, "")
    db.session.commit()
    assert p.deadline > old and p.extension_count == 1
    with pytest.raises(svc.InquiryError):
        svc.request_extension(p, world.handler, 2, "late", now=p.deadline + dt.timedelta(minutes=1))


def test_unreachable_three_times_closes_out(app, world):
    p, _s = _issued(world)
    svc.claim(p, world.handler)
    svc.report_result(p, world.handler, "ok")
    day = dt.timedelta(days=1)
    svc.return_visit(p, world.worker, "unreachable")
    db.session.commit()
    # A second attempt the same day (a double click, a retrying client) is refused.
    with pytest.raises(svc.InquiryError):
        svc.return_visit(p, world.worker, "unreachable")
    db.session.rollback()
    svc.return_visit(p, world.worker, "unreachable", now=clock.utcnow() + day)
    assert p.state == "reported"
    svc.return_visit(p, world.worker, "unreachable", now=clock.utcnow() + 2 * day)
    db.session.commit()
    assert p.state == "closed" and p.outcome == "unreachable" and p.unreachable_count == 3


def test_deadline_in_the_past_is_refused(app, world):
    cats = {c.code: c for c in svc.ensure_categories()}
    p = _problem(world)
    with pytest.raises(svc.InquiryError) as exc:
        svc.verify(p, world.community, category=cats["power"], unit=world.power, priority="normal", deadline_days=5,
                   due_date=dt.date(2020, 1, 1))
    assert exc.value.field == "due_date"
    db.session.rollback()
    assert db.session.get(Problem, p.id).state == "new"
    assert len(svc.timeline(p.id)) == 1


def test_problem_needs_description_and_location(app, world):
    with pytest.raises(svc.InquiryError):
        svc.create_problem(node=node(world), description="  ", channel="staff")
    with pytest.raises(svc.InquiryError):
        svc.create_problem(node=None, description="x", channel="staff")


def test_property_management_proposes_the_estates_company(app, world):
    cats = {c.code: c for c in svc.ensure_categories()}
    assert svc.proposed_unit_id(node(world, "zone", 3), cats["property"]) == world.property_co.id
    assert svc.proposed_unit_id(node(world, "community"), cats["property"]) is None


def test_duplicate_candidates_are_suggested(app, world):
    a = _problem(world, description="3栋楼道灯不亮了好几天")
    _problem(world, description="完全无关的事情", node=node(world, "building", 5))
    b = _problem(world, description="3栋楼道灯不亮")
    cands = svc.duplicate_candidates(b)
    assert cands and cands[0].id == a.id
    svc.mark_duplicate(b, world.community, a, "")
    db.session.commit()
    assert b.state == "duplicate" and b.duplicate_of_id == a.id


def test_hotspots_three_times_same_building_and_category(app, world):
    cats = {c.code: c for c in svc.ensure_categories()}
    for _ in range(3):
        _problem(world, category=cats["water"], node=node(world, "zone", 0))
    _problem(world, category=cats["water"], node=node(world, "building", 3))
    hot = queries.hotspots()
    assert hot == [(node(world, "building", 0).id, cats["water"].id, 3)]


def test_masking():
    assert mask_phone("13912345678") == "139****5678"
    assert mask_name("张三丰") == "张**"


def test_statistics_and_hotspots_follow_an_estate_to_its_new_community(world):
    """wangge_node_moved: the moved estate's monthly statistics and hotspots
    belong to the new community, equal to a recomputation from the records."""
    from core.grid.services import move_node
    from plugins.inquiry.models import HotspotStat, MonthStat

    c1, c2 = world.tree.communities
    water = {c.code: c for c in svc.ensure_categories()}["water"]

    def problem(zone, text):
        return svc.create_problem(node=node(world, "zone", zone), description=text, channel="staff", category=water)

    moved = [problem(0, f"漏水{i}") for i in range(3)]  # a hotspot: one building, one category, three times
    stays = problem(4, "另一个小区")  # estate 1 of community 1
    sheet = svc.create_sheet(world.district)
    for p in (moved[0], moved[1], stays):
        svc.verify(p, world.district, category=water, unit=world.housing, priority="normal", deadline_days=5)
        svc.add_to_sheet(sheet, p, world.district)
    svc.issue_sheet(sheet, world.district)
    svc.claim(moved[0], world.handler)
    svc.report_result(moved[0], world.handler, "已修好")
    svc.return_visit(moved[0], world.community, "satisfied")
    svc.return_to_triage(moved[1], world.handler, "不归我们管")
    svc.supervise(stays, world.district)
    db.session.commit()

    move_node(node(world, "estate", 0), c2)
    db.session.commit()

    def figures():
        rows = db.session.execute(select(MonthStat).where(MonthStat.community_id.in_([c1.id, c2.id]))).scalars()
        stats = sorted((r.month, r.community_id, r.category_id, r.unit_id,
                        tuple(getattr(r, f) for f in svc.STAT_FIELDS)) for r in rows)
        hot = sorted((h.building_id, h.category_id, h.community_id, h.n) for h in db.session.scalars(select(HotspotStat)))
        return stats, hot, queries.analysis([c1.id], "2000-01", "2999-12"), queries.analysis([c2.id], "2000-01", "2999-12")

    after_move = figures()
    svc.rebuild_stats()
    db.session.commit()
    assert figures() == after_move
    _stats, hot, a1, a2 = after_move
    assert a1["totals"]["received"] == 1 and a1["totals"]["supervisions"] == 1
    assert a2["totals"]["received"] == 3 and a2["totals"]["closed"] == 1 and a2["totals"]["returns"] == 1
    assert (node(world, "building", 0).id, water.id, c2.id, 3) in hot
    assert queries.hotspots(community_ids=[c2.id]) and not queries.hotspots(community_ids=[c1.id])
