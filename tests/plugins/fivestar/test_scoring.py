"""Rules and scoring: each score is the sum of its explained lines; versions
apply by month; publishing freezes; amendments are listed with their reason."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from core.extensions import db
from plugins.fivestar.models import RuleSet
from plugins.fivestar.services import FivestarError, records, scoring
from plugins.fivestar.services import rules as rules_svc

from .conftest import AFTER, MONTH, duty_plugin, orders_plugin


def _score(sm, member):
    return next(s for s in db.session.scalars(db.select(scoring.MemberScore).where(
        scoring.MemberScore.month_id == sm.id, scoring.MemberScore.member_id == member.id)))


def test_a_members_month_from_shifts_orders_and_a_manual_record_adds_up(make_world):
    shifts = []
    app, w = make_world(duty_plugin(shifts), orders_plugin([]))
    shifts += [(w.m1.id, dt.date(2026, 3, 5), 4.0, w.c1.id), (w.m1.id, dt.date(2026, 3, 12), 3.5, w.c1.id),
               (w.m1.id, dt.date(2026, 4, 1), 9.0, w.c1.id)]  # April: not in March
    with app.test_request_context(), clock.frozen("2026-03-20 02:00"):
        records.add_manual(node=w.tree.zones[0], member_id=w.m1.id, day=dt.date(2026, 3, 18), hours=2,
                           kind="mediation", title="调解邻里纠纷", note="楼栋长确认", user_id=w.ca1.id)
        db.session.commit()
    with app.test_request_context(), clock.frozen(AFTER):
        sm = scoring.compute_month(w.c1, MONTH)
        db.session.commit()
        sc = _score(sm, w.m1)
        kinds = [(line.what, line.source, line.points) for line in sc.lines]
        assert kinds == [("record", "stations", 4.0), ("record", "stations", 3.5), ("record", "fivestar", 3.0)]
        assert sc.points == pytest.approx(sum(line.points for line in sc.lines)) == 10.5
        assert sc.lines[0].rule["per"] == "hour" and sc.lines[0].rule["v"] == 1
        assert sc.hours == 9.5 and sc.n_records == 3
        assert _score(sm, w.m2).points == 0  # a member with nothing still has a (zero) score


def test_caps_rejections_adjustments_and_rating_are_lines_that_add_up(make_world):
    shifts = []
    app, w = make_world(duty_plugin(shifts))
    shifts += [(w.m1.id, dt.date(2026, 3, d), 8.0, w.c1.id) for d in (2, 3, 4)]  # 24 h, cap 20
    with app.test_request_context(), clock.frozen(AFTER):
        rec = records.find_record(w.c1.id, w.m1.id, "stations", "shift:2", dt.date(2026, 3, 4))
        records.reject(community_id=w.c1.id, record=rec, reason="未到岗", user_id=w.ca1.id)
        scoring.add_adjustment(community_id=w.c1.id, member_id=w.m1.id, month=MONTH, code="commended",
                               reason="抗洪值守", user_id=w.ca1.id)
        sm = scoring.compute_month(w.c1, MONTH)
        db.session.commit()
        sc = _score(sm, w.m1)
        assert [(line.what, line.points, line.note) for line in sc.lines] == [
            ("record", 8.0, ""), ("record", 8.0, ""), ("record", 0.0, "rejected"), ("adjustment", 5.0, "")]
        assert sc.lines[2].reason == "未到岗"
        assert sc.points == 21.0 == sum(line.points for line in sc.lines)


def test_the_month_cap_is_a_line_of_its_own():
    rs = RuleSet(number=3, rules=[{"source": "*", "kind": "*", "per": "hour", "points": 10, "cap": None}], items=[],
                 rating_weight=2, month_cap=30)
    recs = [type("R", (), {"source": "x", "key": f"k{i}", "kind": "y", "title": "t", "date": MONTH, "hours": 2,
                           "evidence": "", "link": "", "confirmed": True})() for i in range(3)]
    lines, totals = scoring.score_member(rs, recs, {}, (), (4.5, 6, "2026H1"))
    assert [line["what"] for line in lines] == ["record", "record", "record", "cap", "rating"]
    assert lines[3]["points"] == -30 and lines[4]["points"] == 9
    assert totals["points"] == 39 == sum(line["points"] for line in lines)


def test_a_month_is_scored_by_the_rules_in_force_then_and_published_months_stay(make_world):
    shifts = []
    app, w = make_world(duty_plugin(shifts))
    shifts += [(w.m1.id, dt.date(2026, 3, 5), 4.0, w.c1.id), (w.m1.id, dt.date(2026, 4, 5), 4.0, w.c1.id)]
    with app.test_request_context(), clock.frozen(AFTER):
        sm = scoring.compute_month(w.c1, MONTH)
        scoring.review(sm, w.ca1.id)
        scoring.publish(sm, w.ca1.id)
        db.session.commit()
        rs = rules_svc.create_version(
            valid_from=dt.date(2026, 3, 1), rules=[{"source": "stations", "kind": "*", "per": "hour", "points": 3}],
            items=[], rating_weight=0, month_cap=None, note="加倍", user_id=w.boss.id)
        db.session.commit()
        assert rs.number == 2
        with pytest.raises(FivestarError):
            scoring.compute_month(w.c1, MONTH)  # published: frozen
        assert _score(sm, w.m1).points == 4.0
    with app.test_request_context(), clock.frozen("2026-05-02 02:00"):
        april = scoring.compute_month(w.c1, dt.date(2026, 4, 1))
        db.session.commit()
        assert april.rule_set.number == 2 and _score(april, w.m1).points == 12.0
        assert _score(sm, w.m1).points == 4.0


def test_a_month_is_computed_only_after_it_ends(world, app):
    with app.test_request_context(), clock.frozen("2026-03-31 10:00"):  # 18:00 on the 31st
        with pytest.raises(FivestarError):
            scoring.compute_month(world.c1, MONTH)


def test_amendments_change_published_scores_only_with_a_reason(world, app):
    with app.test_request_context(), clock.frozen(AFTER):
        sm = scoring.compute_month(world.c1, MONTH)
        sc = _score(sm, world.m1)
        with pytest.raises(FivestarError):
            scoring.amend(sc, 2, "漏记", world.ca1.id)  # not published yet
        scoring.review(sm, world.ca1.id)
        scoring.publish(sm, world.ca1.id)
        with pytest.raises(FivestarError):
            scoring.amend(sc, 2, " ", world.ca1.id)
        a = scoring.amend(sc, 2, "漏记一次值班", world.ca1.id)
        db.session.commit()
        assert sc.total == 2 and sc.points == 0 and a.after_filing is False


def test_rules_refuse_bad_input(world, app):
    with app.test_request_context():
        with pytest.raises(FivestarError) as exc:
            rules_svc.create_version(valid_from=dt.date(2026, 5, 1), rules=[{"source": "x", "per": "day", "points": 1}],
                                     items=[], rating_weight=1, month_cap=None, note="", user_id=None)
        assert exc.value.field == "rules"
        with pytest.raises(FivestarError):
            rules_svc.create_version(valid_from=dt.date(2026, 5, 1), rules=[], items=[], rating_weight=1,
                                     month_cap=None, note="", user_id=None)


def test_with_stations_switched_off_the_month_is_scored_from_manual_records(make_world):
    from core.modules import set_enabled

    shifts = []
    app, w = make_world(duty_plugin(shifts))
    shifts.append((w.m1.id, dt.date(2026, 3, 5), 4.0, w.c1.id))
    with app.test_request_context(), clock.frozen("2026-03-20 02:00"):
        records.add_manual(node=w.c1, member_id=w.m1.id, day=dt.date(2026, 3, 6), hours=1, kind="service",
                           title="清理楼道", user_id=None)
        set_enabled(w.c1.id, "stations", False, None)
        db.session.commit()
    with app.test_request_context(), clock.frozen(AFTER):
        sm = scoring.compute_month(w.c1, MONTH)
        assert [(line.source, line.points) for line in _score(sm, w.m1).lines] == [("fivestar", 3.0)]
        set_enabled(w.c1.id, "stations", True, None)
        sm = scoring.compute_month(w.c1, MONTH)  # on again: its records appear without retyping
        assert [line.source for line in _score(sm, w.m1).lines] == ["stations", "fivestar"]


def test_with_no_other_module_installed_manual_records_score(world, app):
    with app.test_request_context(), clock.frozen("2026-03-20 02:00"):
        records.add_manual(node=world.tree.zones[0], member_id=world.m1.id, day=dt.date(2026, 3, 6), hours=1,
                           kind="service", title="清理楼道", user_id=None)
    with app.test_request_context(), clock.frozen(AFTER):
        sm = scoring.compute_month(world.c1, MONTH)
        assert _score(sm, world.m1).points == 3.0
