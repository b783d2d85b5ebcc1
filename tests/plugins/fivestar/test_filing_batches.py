"""Quarterly filing locks the quarter (later changes are amendments, shown as
made after filing); a batch goes nomination → notice → objection → award."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core import clock
from core.extensions import db
from plugins.fivestar.models import (
    Batch,
    MemberScore,
    Nomination,
    Objection,
    QuarterFiling,
    ScoreMonth,
)
from plugins.fivestar.services import FivestarError, scoring
from plugins.fivestar.services import ratings as ratings_svc
from plugins.fivestar.services import rules as rules_svc

from .conftest import ref, sign_in


def publish_history(w, points: dict, months):
    """Published months of community 1 with the given points per member."""
    rs = rules_svc.ensure_default()
    for month in months:
        sm = ScoreMonth(community_id=w.c1.id, month=month, state="published", rule_set_id=rs.id)
        db.session.add(sm)
        db.session.flush()
        for member, p in points.items():
            db.session.add(MemberScore(month_id=sm.id, member_id=member.id, points=p, hours=p / 2, n_records=2))
    db.session.commit()


def rate(w, member, stars, half="2025H2", closes=dt.date(2025, 12, 20)):
    rnd = db.session.scalar(select(ratings_svc.RatingRound).where(ratings_svc.RatingRound.half == half))
    if rnd is None:
        rnd = ratings_svc.open_round(community_id=w.c1.id, half=half, items=["服务"], opens_on=closes,
                                     closes_on=closes)
    for i, s in enumerate(stars):
        ratings_svc.submit(rnd=rnd, member_id=member.id, resident_key=f"sheet:{member.id}:{i}", stars=[s],
                           opinion="", channel="sheet")
    db.session.commit()


MONTHS_2025 = [dt.date(2025, m, 1) for m in range(1, 13)]


def test_filing_locks_the_quarter_and_later_changes_show_as_amendments(world, client):
    publish_history(world, {world.m1: 30, world.m2: 10}, MONTHS_2025[:3])
    sign_in(client, "ca1")
    with clock.frozen("2025-04-03 02:00"):
        resp = client.post("/fivestar/filings/submit", data={"community": world.c1.id, "year": 2025, "quarter": 1})
        assert resp.status_code == 302
        f = db.session.scalar(select(QuarterFiling))
        assert f.state == "submitted"
        xlsx = client.get(f"/fivestar/filings/{f.id}/ledger.xlsx")
        assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
        again = client.post("/fivestar/filings/submit", data={"community": world.c1.id, "year": 2025, "quarter": 1})
        assert again.status_code == 422 and "本季度已报送" in again.get_data(as_text=True)
        assert client.post(f"/fivestar/filings/{f.id}/file").status_code == 403  # the community cannot file
        sign_in(client, "boss")
        html = client.get(f"/fivestar/filings/{f.id}").get_data(as_text=True)
        token = html.split('name="edit_token" value="')[1].split('"')[0]
        assert client.post(f"/fivestar/filings/{f.id}/file", data={"edit_token": token}).status_code == 302
        db.session.refresh(f)
        assert f.state == "filed"
        sm = db.session.scalar(select(ScoreMonth).where(ScoreMonth.month == MONTHS_2025[0]))
        with pytest.raises(FivestarError):
            scoring.compute_month(world.c1, sm.month)
        sc = db.session.scalar(select(MemberScore).where(MemberScore.month_id == sm.id,
                                                         MemberScore.member_id == world.m1.id))
        sign_in(client, "ca1")
        assert client.post(f"/fivestar/score/{sc.id}/amend", data={"delta": "-2", "reason": "重复登记"}).status_code == 302
        page = client.get(f"/fivestar/filings/{f.id}").get_data(as_text=True)
        assert "重复登记" in page and "备案后更正" in page and "88" in page  # 90 - 2
        public = client.get(f"/fivestar/public/score/{ref(client.application, 'score', sc.id)}").get_data(as_text=True)
        assert "重复登记" in public and "季度备案后更正" in public


def test_a_quarter_with_an_unpublished_month_cannot_be_submitted(world, app):
    from plugins.fivestar.services import filing

    publish_history(world, {world.m1: 30}, MONTHS_2025[:2])
    with app.test_request_context(), clock.frozen("2025-04-03 02:00"), pytest.raises(FivestarError):
        filing.submit(world.c1.id, 2025, 1, None)


def test_a_batch_from_nomination_to_notice_objection_award_and_certificate(world, client, app):
    publish_history(world, {world.m1: 30, world.m2: 10}, MONTHS_2025)
    with app.test_request_context(), clock.frozen("2025-12-25 02:00"):
        rate(world, world.m1, [5, 5, 4])
        rate(world, world.m2, [5, 5, 5])
    sign_in(client, "boss")
    with clock.frozen("2026-01-05 02:00"):
        resp = client.post("/fivestar/batches/new", data={
            "number": 1, "title": "第一批", "opened_on": "2026-01-05", "min_quarter_score": 80, "min_rating": 4.5,
            "no_rejected": "y", "notice_days": 7})
        assert resp.status_code == 302
        b = db.session.scalar(select(Batch))
        sign_in(client, "ca1")
        page = client.get(f"/fivestar/batches/{b.id}").get_data(as_text=True)
        assert "张三" in page and "李四" in page and "不符合条件" in page  # 李四: 30 a quarter
        assert client.post(f"/fivestar/batches/{b.id}/nominate", data={"member": world.m2.id}).status_code == 302
        assert client.post(f"/fivestar/batches/{b.id}/nominate", data={"member": world.m1.id}).status_code == 302
        noms = list(db.session.scalars(select(Nomination)))
        assert [(n.member_id, n.evidence["eligible"]) for n in noms] == [(world.m1.id, True)]
        assert noms[0].evidence["quarters"][0] == {"quarter": "2025Q1", "points": 90.0}
        sign_in(client, "boss")
        client.post(f"/fivestar/nominations/{noms[0].id}/decide", data={"decision": "approve"})
        token = client.get(f"/fivestar/batches/{b.id}").get_data(as_text=True).split(
            'name="edit_token" value="')[1].split('"')[0]
        assert client.post(f"/fivestar/batches/{b.id}/notice", data={"edit_token": token}).status_code == 302
        db.session.refresh(b)
        assert (b.state, b.notice_start, b.notice_end) == ("notice", dt.date(2026, 1, 5), dt.date(2026, 1, 11))
    anon = app.test_client()
    with clock.frozen("2026-01-08 02:00"):
        notice = anon.get(f"/fivestar/public/batch/{b.id}").get_data(as_text=True)
        assert "张三" in notice and "2026-01-11" in notice
        resp = anon.post(f"/fivestar/public/nomination/{ref(app, 'nomination', noms[0].id)}/object",
                         data={"reason": "此人值班时经常缺席"})
        assert "异议已收到" in resp.get_data(as_text=True)
        sign_in(client, "boss")
        token = client.get(f"/fivestar/batches/{b.id}").get_data(as_text=True).split(
            'name="edit_token" value="')[1].split('"')[0]
        client.post(f"/fivestar/batches/{b.id}/award", data={"edit_token": token})
        db.session.refresh(b)
        assert b.state == "notice"  # still in the notice period
    with clock.frozen("2026-01-12 02:00"):
        objection = db.session.scalar(select(Objection))
        assert objection.answered_at is None
        client.post(f"/fivestar/objections/{objection.id}/answer", data={"answer": "经核实，值班记录完整。"})
        token = client.get(f"/fivestar/batches/{b.id}").get_data(as_text=True).split(
            'name="edit_token" value="')[1].split('"')[0]
        assert client.post(f"/fivestar/batches/{b.id}/award", data={"edit_token": token}).status_code == 302
        late = anon.post(f"/fivestar/public/nomination/{ref(app, 'nomination', noms[0].id)}/object",
                         data={"reason": "迟到的异议理由"})
        assert "仅在公示期内受理异议" in late.get_data(as_text=True)
    db.session.refresh(b)
    nom = db.session.get(Nomination, noms[0].id)
    assert b.state == "awarded" and nom.state == "awarded" and nom.certificate_no == "WZ-5S-01-001"
    cert = client.get(f"/fivestar/nominations/{nom.id}/certificate").get_data(as_text=True)
    assert "荣誉证书" in cert and "张三" in cert and "WZ-5S-01-001" in cert
    me = sign_in(client, "m1")
    assert "五星级党员" in me.get("/fivestar/me").get_data(as_text=True)
    assert me.get(f"/fivestar/nominations/{nom.id}/certificate").status_code == 200
    assert sign_in(client, "m2").get(f"/fivestar/nominations/{nom.id}/certificate").status_code == 404


def test_an_upheld_objection_withdraws_the_nomination(world, app):
    from plugins.fivestar.services import batches

    publish_history(world, {world.m1: 30}, MONTHS_2025)
    with app.test_request_context(), clock.frozen("2026-01-05 02:00"):
        rate(world, world.m1, [5, 5])
        b = batches.open_batch(number=2, title="第二批", opened_on=dt.date(2026, 1, 5), min_quarter_score=80,
                               min_rating=4.5)
        n = batches.nominate(b, world.c1.id, world.m1.id, None)
        db.session.flush()
        batches.decide(n, True)
        batches.start_notice(b)
        o = batches.object_to(n, "材料不实，请核查")
        db.session.flush()
        batches.answer(o, "经核实异议属实", True, None)
    with app.test_request_context(), clock.frozen("2026-01-13 02:00"):
        assert batches.award(b) == 0
        assert n.state == "withdrawn" and batches.stars_of(world.m1.id) == []
