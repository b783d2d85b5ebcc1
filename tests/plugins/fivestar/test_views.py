"""The pages as users meet them: a member's month becomes a published score
whose public page explains every point; staff pages render, as full pages
and as HTMX fragments."""

from __future__ import annotations

import datetime as dt
import io

from core import clock
from core.extensions import db
from plugins.fivestar.models import ManualRecord, MemberScore, ScoreMonth

from .conftest import AFTER, duty_plugin, orders_plugin, ref, sign_in

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00"
       b"\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def test_a_members_month_becomes_a_published_score_explained_in_public(make_world):
    shifts, orders = [], []
    app, w = make_world(duty_plugin(shifts), orders_plugin(orders))
    shifts.append((w.m1.id, dt.date(2026, 3, 5), 4.0, w.c1.id))
    orders.append((w.m1.id, dt.date(2026, 3, 9), w.c1.id))
    client = sign_in(app.test_client(), "ca1")
    with clock.frozen("2026-03-25 02:00"):
        page = client.get(f"/fivestar/records/new?member={w.m1.id}")
        assert page.status_code == 200 and "张三" in page.get_data(as_text=True)
        resp = client.post("/fivestar/records/new", data={
            "member": w.m1.id, "day": "2026-03-20", "hours": "2", "kind": "mediation", "title": "调解邻里纠纷",
            "note": "楼栋长确认", "evidence": (io.BytesIO(PNG), "photo.png")}, content_type="multipart/form-data")
        assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    rec = db.session.scalar(db.select(ManualRecord))
    assert rec.evidence_file and rec.community_id == w.c1.id
    with clock.frozen(AFTER):
        member_page = client.get(f"/fivestar/members/{w.m1.id}").get_data(as_text=True)
        assert "驿站值班" in member_page and "政策宣传岗接单" in member_page and "调解邻里纠纷" in member_page
        resp = client.post("/fivestar/scores/compute", data={"community": w.c1.id, "month": "2026-03"})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
        sm = db.session.scalar(db.select(ScoreMonth))
        for step in ("review", "publish"):
            html = client.get(f"/fivestar/scores/{sm.id}").get_data(as_text=True)
            token = html.split('name="edit_token" value="')[1].split('"')[0]
            assert client.post(f"/fivestar/scores/{sm.id}/{step}", data={"edit_token": token}).status_code == 302
        db.session.refresh(sm)
        assert sm.state == "published"
    sc = db.session.scalar(db.select(MemberScore).where(MemberScore.member_id == w.m1.id))
    assert sc.points == 4 + 5 + 3
    anon = app.test_client()
    public = anon.get(f"/fivestar/public/{w.c1.code}").get_data(as_text=True)
    assert "张三" in public and "12" in public
    assert w.m1.phone is None or w.m1.phone not in public
    explained = anon.get(f"/fivestar/public/score/{ref(app, 'score', sc.id)}").get_data(as_text=True)
    for text in ("驿站值班", "政策宣传岗接单", "调解邻里纠纷", "站长确认", "+4", "+5", "+3"):
        assert text in explained, text
    evidence = explained.split('/fivestar/public/evidence/')[1].split('"')[0]
    assert anon.get(f"/fivestar/public/evidence/{evidence}").data == PNG
    # The member sees the explanation on their own page.
    me = sign_in(app.test_client(), "m1").get("/fivestar/me").get_data(as_text=True)
    assert "调解邻里纠纷" in me and "12" in me


def test_every_staff_page_renders_as_page_and_fragment(world, client):
    sign_in(client, "boss")
    with clock.frozen(AFTER):
        client.post("/fivestar/scores/compute", data={"community": world.c1.id, "month": "2026-03"})
    sm = db.session.scalar(db.select(ScoreMonth))
    sc = db.session.scalar(db.select(MemberScore))
    urls = ["/fivestar/", "/fivestar/widget", f"/fivestar/panel/{world.c1.id}", f"/fivestar/panel/{world.tree.district.id}",
            f"/fivestar/panel/{world.tree.zones[0].id}", "/fivestar/members", f"/fivestar/members/{world.m1.id}",
            "/fivestar/records", "/fivestar/records/new", "/fivestar/rules", "/fivestar/rules/new", "/fivestar/scores",
            f"/fivestar/scores/{sm.id}", f"/fivestar/score/{sc.id}", "/fivestar/rounds", "/fivestar/rounds/new",
            "/fivestar/filings", "/fivestar/batches", "/fivestar/batches/new", f"/fivestar/public/{world.c1.code}"]
    for url in urls:
        for headers in ({}, {"HX-Request": "true"}):
            resp = client.get(url, headers=headers)
            assert resp.status_code == 200, (url, headers, resp.get_data(as_text=True)[:1500])
