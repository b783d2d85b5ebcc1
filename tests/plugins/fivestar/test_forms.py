"""Bad input: the message next to the field, what was typed kept, nothing
saved; rejecting a record and adding a bonus item through the member's page."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from core import clock
from core.extensions import db
from plugins.fivestar.models import Adjustment, ManualRecord, Rejection, RuleSet, ScoreLine
from plugins.fivestar.services import records

from .conftest import AFTER, sign_in


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_bad_record_is_refused_next_to_its_field_and_nothing_is_saved(world, client):
    sign_in(client, "gw1")
    with clock.frozen("2026-03-20 02:00"):
        resp = client.post("/fivestar/records/new", data={
            "member": world.m1.id, "day": "2026-03-25", "hours": "2", "kind": "service", "title": "清理楼道杂物"})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and "日期不能晚于今天" in html and "清理楼道杂物" in html
        resp = client.post("/fivestar/records/new", data={
            "member": world.m1.id, "day": "2026-03-02", "hours": "30", "kind": "service", "title": "清理楼道杂物"})
        assert 'aria-invalid="true"' in resp.get_data(as_text=True)
        resp = client.post("/fivestar/records/new", data={
            "member": world.m1.id, "day": "2026-03-02", "hours": "1", "kind": "service", "title": "清理楼道杂物",
            "evidence": (__import__("io").BytesIO(b"MZ..."), "virus.exe")}, content_type="multipart/form-data")
        assert "佐证材料可以是照片" in resp.get_data(as_text=True)
    assert _count(ManualRecord) == 0
    # A grid worker of another estate's community cannot pick a member outside their scope.
    sign_in(client, "ca2")
    resp = client.post("/fivestar/records/new", data={
        "member": world.m1.id, "day": "2026-03-02", "hours": "1", "kind": "service", "title": "x"})
    assert resp.status_code == 200 and _count(ManualRecord) == 0  # not a choice of theirs


def test_the_rules_form_refuses_no_rules_and_keeps_what_was_typed(world, client):
    sign_in(client, "boss")
    data = {"valid_from": "2026-05-01", "rating_weight": "3", "month_cap": "50", "note": "第二版细则"}
    resp = client.post("/fivestar/rules/new", data=data)
    html = resp.get_data(as_text=True)
    assert "请至少填写一条规则" in html and "第二版细则" in html
    data.update({"rules-0-source": "orders", "rules-0-kind": "*", "rules-0-per": "record", "rules-0-points": "6",
                 "items-0-code": "flood", "items-0-title": "防汛值守", "items-0-points": "8"})
    assert client.post("/fivestar/rules/new", data=data).status_code == 302
    rs = db.session.scalar(select(RuleSet).order_by(RuleSet.number.desc()))
    assert (rs.number, rs.valid_from, rs.rules[0]["points"], rs.items[0]["code"]) == (2, dt.date(2026, 5, 1), 6.0, "flood")
    assert "第2版" in client.get("/fivestar/rules").get_data(as_text=True)
    sign_in(client, "ca1")
    assert client.get("/fivestar/rules/new").status_code == 403


def test_rejecting_a_record_and_adding_a_bonus_on_the_members_page(world, client, app):
    with app.test_request_context(), clock.frozen("2026-03-20 02:00"):
        rec = records.add_manual(node=world.tree.zones[0], member_id=world.m1.id, day=dt.date(2026, 3, 2), hours=1,
                                 kind="service", title="清理楼道杂物", user_id=None)
        db.session.commit()
    sign_in(client, "ca1")
    with clock.frozen("2026-03-28 02:00"):
        page = client.get(f"/fivestar/members/{world.m1.id}").get_data(as_text=True)
        assert "清理楼道杂物" in page and "驳回理由" in page
        base = {"source": "fivestar", "key": rec.key, "day": "2026-03-02"}
        client.post(f"/fivestar/members/{world.m1.id}/reject", data={**base, "reason": ""})
        assert _count(Rejection) == 0
        client.post(f"/fivestar/members/{world.m1.id}/reject", data={**base, "reason": "照片与内容不符"})
        client.post(f"/fivestar/members/{world.m1.id}/adjust", data={
            "adj-month": "2026-03", "adj-code": "commended", "adj-reason": "社区表扬"})
        assert _count(Rejection) == 1 and _count(Adjustment) == 1
        assert "照片与内容不符" in client.get(f"/fivestar/members/{world.m1.id}").get_data(as_text=True)
    with clock.frozen(AFTER):
        client.post("/fivestar/scores/compute", data={"community": world.c1.id, "month": "2026-03"})
    lines = {(line.what, line.points, line.note) for line in db.session.scalars(select(ScoreLine))}
    assert lines == {("record", 0.0, "rejected"), ("adjustment", 5.0, "")}
