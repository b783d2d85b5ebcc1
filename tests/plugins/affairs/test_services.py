"""The rules without a request: ID numbers, masking, the ISO-week quota, A/B cover."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_babel import force_locale

from core import clock
from core.extensions import db
from core.models import Leave
from plugins.affairs import queries as Q
from plugins.affairs import services as S
from plugins.affairs.models import AffairCategory, AffairItem

from .conftest import make_id


def test_a_valid_id_number_gives_birth_date_and_sex(app):
    info = S.parse_id_number(make_id("19750612", 123))
    assert info.birth_date == dt.date(1975, 6, 12)
    assert info.sex == "M"  # 17th digit 3 is odd
    assert S.parse_id_number(make_id("20010203", 124)).sex == "F"
    # lower-case x and spaces are accepted and normalised
    number = next(make_id("19800101", s) for s in range(1000) if make_id("19800101", s).endswith("X"))
    assert S.parse_id_number(" " + number.lower() + " ").number == number


@pytest.mark.parametrize(
    "raw, words",
    [
        ("34022119800101001", "18"),  # too short
        (make_id("19800101", 1)[:-1] + ("1" if make_id("19800101", 1)[-1] != "1" else "2"), "check digit"),
        (make_id("19800231", 1), "birth date"),  # 31 February
        ("3402211980A1010011", "17 digits"),
        (make_id("20990101", 1), "birth date"),  # in the future
        (make_id("19800101", 1, area="999999"), "area code"),  # no such county
    ],
)
def test_invalid_id_numbers_are_refused_with_the_reason(app, raw, words):
    with force_locale("en"), pytest.raises(S.AffairsError) as exc:
        S.parse_id_number(raw)
    assert exc.value.field == "id_number"
    assert words in str(exc.value)


def test_masking_keeps_area_code_and_last_four():
    assert S.mask_id("34022119800101123X") == "340221********123X"
    assert S.mask_phone("13905531234") == "139****1234"
    assert S.mask_id(None) == "" and S.mask_phone("") == ""


def test_phone_check(app):
    assert S.check_phone("139 0553 1234") == "13905531234"
    assert S.check_phone("0553-1234567") == "0553-1234567"
    for bad in ("12345", "1390553123a", "23905531234"):
        with pytest.raises(S.AffairsError):
            S.check_phone(bad)


def _visit(worker, node, day, resident):
    return S.record_visit(worker=worker, node=node, day=day, kind="home", finding="none", notes=None, resident=resident)


def test_quota_counts_per_iso_week_across_year_end(world):
    w, node = world.worker_a, world.tree.zones[0]
    # 2026-12-28 (Mon) … 2027-01-03 (Sun) is ISO week 2026-W53; 2027-01-04 starts 2027-W01.
    for day in (dt.date(2026, 12, 27), dt.date(2026, 12, 28), dt.date(2027, 1, 1), dt.date(2027, 1, 3), dt.date(2027, 1, 4)):
        if day <= clock.today():
            _visit(w, node, day, world.res_a)
        else:
            v = _visit(w, node, clock.today(), world.res_a)  # record, then move to the day under test
            v.visit_date = day
            v.iso_year, v.iso_week = S.iso_week_of(day)
    db.session.commit()
    by_user = {r.user.username: r.visits for r in S.compliance(world.tree.communities[0], 2026, 53, 3)}
    assert by_user["worker_a"] == 3  # 28 Dec, 1 Jan, 3 Jan
    rows = {r.user.username: r for r in S.compliance(world.tree.communities[0], 2026, 52, 3)}
    assert rows["worker_a"].visits == 1 and not rows["worker_a"].met
    assert {r.user.username: r.visits for r in S.compliance(world.tree.communities[0], 2027, 1, 3)}["worker_a"] == 1
    met = {r.user.username: r.met for r in S.compliance(world.tree.communities[0], 2026, 53, 3)}
    assert met["worker_a"] is True and met["worker_b"] is False


def test_visits_as_b_post_count_for_the_coverer(world):
    today = clock.today()
    a, b = world.worker_a, world.worker_b
    # Without leave, B visiting A's grid is not cover.
    v0 = _visit(b, world.tree.zones[0], today, world.res_a)
    assert v0.covering_for_id is None
    db.session.add(Leave(user_id=a.id, start_date=today - dt.timedelta(days=2), end_date=today, reason="病假"))
    db.session.flush()
    v = _visit(b, world.tree.zones[0], today, world.res_a)
    assert v.worker_id == b.id and v.covering_for_id == a.id
    db.session.commit()
    y, w = S.iso_week_of(today)
    rows = {r.user.username: r for r in S.compliance(world.tree.communities[0], y, w, 3)}
    assert rows["worker_b"].visits == 2 and rows["worker_b"].covering == 1
    assert rows["worker_a"].visits == 0


def test_only_admitted_items_reach_grids(world):
    cat = AffairCategory(code="02", name="综治维稳")
    db.session.add(cat)
    db.session.flush()
    ok = AffairItem(category_id=cat.id, code="02-001", name="矛盾纠纷排查", responsible_role="网格员", levels="estate", admitted=True)
    no = AffairItem(category_id=cat.id, code="02-002", name="代收代缴费用", responsible_role="网格员", levels="estate", admitted=False)
    db.session.add_all([ok, no])
    db.session.flush()
    task = S.assign_item(ok, world.tree.estates[0], "2026-11", None)
    assert task.status == "pending"
    with force_locale("en"):
        with pytest.raises(S.AffairsError, match="admission list"):
            S.assign_item(no, world.tree.estates[0], "2026-11", None)
        with pytest.raises(S.AffairsError, match="does not apply"):
            S.assign_item(ok, world.tree.buildings[0], "2026-11", None)
        with pytest.raises(S.AffairsError, match="already"):
            S.assign_item(ok, world.tree.estates[0], "2026-11", None)
        with pytest.raises(S.AffairsError, match="period"):
            S.assign_item(ok, world.tree.estates[1], "Nov 2026", None)


def test_due_for_a_visit_follows_the_group_interval(world):
    today = clock.today()
    groups = {g.code: g for g in S.ensure_group_types()}
    S.add_tag(world.res_a, groups["empty_nest"], today - dt.timedelta(days=100), None, None, None)
    S.add_tag(world.res_b, groups["empty_nest"], today - dt.timedelta(days=100), None, None, None)
    _visit(world.worker_a, world.tree.zones[0], today - dt.timedelta(days=20), world.res_a)
    _visit(world.worker_b, world.tree.zones[4], today - dt.timedelta(days=3), world.res_b)
    db.session.commit()
    due = [t.resident_id for t, _last in db.session.execute(Q.due_stmt(True, today)).all()]
    assert due == [world.res_a.id]  # 20 days > 14; B was seen 3 days ago
    groups["empty_nest"].visit_interval_days = 30
    db.session.commit()
    assert db.session.execute(Q.due_stmt(True, today)).all() == []


def test_group_periods_keep_history_and_refuse_overlaps(world):
    g = {x.code: x for x in S.ensure_group_types()}["hardship"]
    t1 = S.add_tag(world.res_a, g, dt.date(2025, 1, 1), None, "低保", None)
    with pytest.raises(S.AffairsError):
        S.add_tag(world.res_a, g, dt.date(2025, 6, 1), None, None, None)
    S.end_tag(t1, dt.date(2025, 12, 31), None, "已脱困")
    t2 = S.add_tag(world.res_a, g, dt.date(2026, 3, 1), None, None, None)
    assert t1.end_date == dt.date(2025, 12, 31) and t2.end_date is None
    with pytest.raises(S.AffairsError):
        S.end_tag(t2, dt.date(2026, 1, 1), None)


def test_node_holders_name_the_records(world):
    with force_locale("en"):
        held = {str(k): v for k, v in S.node_holders([world.tree.zones[0].id])}
    assert held == {"houses": 1, "residents": 1}


def test_a_household_visit_counts_for_everyone_living_there(world):
    today = clock.today()
    g = {x.code: x for x in S.ensure_group_types()}["empty_nest"]
    S.add_tag(world.res_a, g, today - dt.timedelta(days=100), None, None, None)
    db.session.commit()
    assert [t.resident_id for t, _l in db.session.execute(Q.due_stmt(True, today)).all()] == [world.res_a.id]
    S.record_visit(worker=world.worker_a, node=world.tree.zones[0], day=today - dt.timedelta(days=2), kind="home",
                   finding="none", notes=None, house=world.house_a)
    db.session.commit()
    assert world.res_a.last_visit_date == today - dt.timedelta(days=2)
    assert db.session.execute(Q.due_stmt(True, today)).all() == []
    # An older visit recorded later does not move the date back.
    S.record_visit(worker=world.worker_a, node=world.tree.zones[0], day=today - dt.timedelta(days=20), kind="home",
                   finding="none", notes=None, resident=world.res_a)
    db.session.commit()
    assert world.res_a.last_visit_date == today - dt.timedelta(days=2)
