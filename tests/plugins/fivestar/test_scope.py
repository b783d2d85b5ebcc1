"""Scope and switches: another community's staff get 404 on every object URL;
with the module off in a community its pages, objects and public pages are 404
there and its nav item is gone."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from core import clock
from core.extensions import db
from core.modules import set_enabled
from plugins.fivestar.models import (
    Adjustment,
    Amendment,
    ManualRecord,
    MemberScore,
    Nomination,
    Objection,
    QuarterFiling,
    RatingResponse,
    Rejection,
    ScoreLine,
)
from plugins.fivestar.services import batches, records, scoring
from plugins.fivestar.services import ratings as ratings_svc

from .conftest import AFTER, MONTH, ref, sign_in

PNG = b"\x89PNG\r\n\x1a\nfake"


def everything_in_community_1(w, app):
    """One object of every kind in community 1; returns {url arg: id}."""
    with app.test_request_context(), clock.frozen("2026-03-20 02:00"):
        rec = records.add_manual(node=w.tree.zones[0], member_id=w.m1.id, day=dt.date(2026, 3, 3), hours=2,
                                 kind="service", title="清理楼道", note="楼长确认", file_data=PNG, file_name="a.png")
        rnd = ratings_svc.open_round(community_id=w.c1.id, half="2026H1", items=["服务"],
                                     opens_on=dt.date(2026, 3, 1), closes_on=dt.date(2026, 3, 31))
        resp = ratings_svc.submit(rnd=rnd, member_id=w.m1.id, resident_key="link:x", stars=[5], opinion="好",
                                  channel="link")
        db.session.commit()
    with app.test_request_context(), clock.frozen(AFTER):
        rej = records.reject(community_id=w.c1.id, record=records.find_record(
            w.c1.id, w.m1.id, "fivestar", rec.key, rec.day), reason="重复", user_id=None)
        adj = scoring.add_adjustment(community_id=w.c1.id, member_id=w.m1.id, month=MONTH, code="commended",
                                     reason="表扬", user_id=None)
        sm = scoring.compute_month(w.c1, MONTH)
        scoring.review(sm, None)
        scoring.publish(sm, None)
        sc = db.session.scalar(select(MemberScore).where(MemberScore.month_id == sm.id,
                                                         MemberScore.member_id == w.m1.id))
        am = scoring.amend(sc, 1, "补记", None)
        b = batches.open_batch(number=1, title="第一批", opened_on=dt.date(2026, 4, 1), min_quarter_score=0,
                               min_rating=1)
        n = Nomination(batch_id=b.id, community_id=w.c1.id, member_id=w.m1.id, state="awarded", evidence={},
                       certificate_no="WZ-5S-01-001")
        db.session.add(n)
        db.session.flush()
        o = Objection(nomination_id=n.id, reason="异议理由")
        f = QuarterFiling(community_id=w.c1.id, year=2026, quarter=1)
        db.session.add_all([o, f])
        db.session.commit()
        line = db.session.scalar(select(ScoreLine).where(ScoreLine.score_id == sc.id).limit(1))
    return {"record_id": rec.id, "round_id": rnd.id, "response_id": resp.id, "rejection_id": rej.id,
            "adjustment_id": adj.id, "month_id": sm.id, "score_id": sc.id, "amendment_id": am.id,
            "nomination_id": n.id, "objection_id": o.id, "filing_id": f.id, "line_id": line.id,
            "member_id": w.m1.id, "node_id": w.c1.id}


def fivestar_object_urls(app, ids):
    """(method, url, endpoint) of every fivestar route that names an object."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("fivestar.") or "/public/" in rule.rule or "/rate/" in rule.rule:
            continue
        if not any(a in ids for a in rule.arguments) or "batch_id" in rule.arguments:
            continue
        steps = sorted(getattr(rule._converters.get("step"), "items", None) or [""])
        for step in steps:
            values = {**ids, "step": step}
            url = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", lambda m, v=values: str(v[m.group(1)]), rule.rule)
            for method in sorted((rule.methods or set()) & {"GET", "POST"}):
                out.append((method, url, rule.endpoint))
    return out


def test_another_communitys_staff_get_404_on_every_object_url(world, app, client):
    ids = everything_in_community_1(world, app)
    urls = fivestar_object_urls(app, ids)
    assert len(urls) >= 20
    before = {m.__tablename__: db.session.scalar(select(db.func.count()).select_from(m)) for m in (
        ManualRecord, Rejection, Adjustment, Amendment, RatingResponse, Objection)}
    for user in ("ca2",):
        sign_in(client, user)
        for method, url, endpoint in urls:
            resp = client.open(url, method=method, data={"reason": "x", "delta": "1", "decision": "approved"})
            assert resp.status_code in (403, 404), (user, method, url, resp.status_code)
            if method == "GET" or endpoint not in ("fivestar.decide", "fivestar.answer", "fivestar.filing_step"):
                assert resp.status_code == 404, (user, method, url, resp.status_code)
    after = {m.__tablename__: db.session.scalar(select(db.func.count()).select_from(m)) for m in (
        ManualRecord, Rejection, Adjustment, Amendment, RatingResponse, Objection)}
    assert before == after
    # The same URLs work for the community's own admin (the control).
    sign_in(client, "ca1")
    for method, url, _e in urls:
        if method == "GET" and not url.endswith("/link"):  # the link page needs ?member=
            assert client.get(url).status_code == 200, url
    # Lists and counts leave community 1 out for community 2's admin.
    sign_in(client, "ca2")
    for url in ("/fivestar/records", "/fivestar/scores", "/fivestar/rounds", "/fivestar/filings", "/fivestar/members"):
        assert "张三" not in client.get(url).get_data(as_text=True) and "清理楼道" not in client.get(url).get_data(as_text=True)


def test_with_the_module_off_its_pages_objects_and_public_pages_are_404(world, app, client):
    ids = everything_in_community_1(world, app)
    sign_in(client, "ca1")
    assert 'data-module="fivestar"' in client.get("/").get_data(as_text=True)
    set_enabled(world.c1.id, "fivestar", False, None)
    db.session.commit()
    assert client.get("/fivestar/").status_code == 404
    assert 'data-module="fivestar"' not in client.get("/").get_data(as_text=True)
    sign_in(client, "boss")
    for method, url, _e in fivestar_object_urls(app, ids):
        if method == "GET":
            assert client.get(url).status_code == 404, url
    anon = app.test_client()
    with app.test_request_context():
        token = ratings_svc.make_token(db.session.get(ratings_svc.RatingRound, ids["round_id"]), world.m1.id)
    for url in (f"/fivestar/public/{world.c1.code}", f"/fivestar/public/score/{ref(app, 'score', ids['score_id'])}",
                f"/fivestar/public/evidence/{ref(app, 'evidence', ids['record_id'])}", f"/fivestar/rate/{token}",
                f"/fivestar/public/nomination/{ref(app, 'nomination', ids['nomination_id'])}/object"):
        assert anon.get(url).status_code == 404, url
    # Community 2 is untouched.
    assert anon.get(f"/fivestar/public/{world.c2.code}").status_code == 200
    set_enabled(world.c1.id, "fivestar", True, None)
    db.session.commit()
    assert anon.get(f"/fivestar/public/score/{ref(app, 'score', ids['score_id'])}").status_code == 200


def test_public_addresses_name_no_database_id_and_refuse_a_forged_reference(world, app):
    ids = everything_in_community_1(world, app)
    anon = app.test_client()
    page = anon.get(f"/fivestar/public/{world.c1.code}").get_data(as_text=True)
    assert ref(app, "score", ids["score_id"]) in page
    assert anon.get(f"/fivestar/public/score/{ids['score_id']}").status_code == 404
    assert anon.get(f"/fivestar/public/score/{ref(app, 'nomination', ids['score_id'])}").status_code == 404
    assert anon.get(f"/fivestar/public/{world.tree.estates[0].code}").status_code == 404  # not a community
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("fivestar.public"):
            assert set(rule.arguments) <= {"code", "ref", "batch_id"}, rule.rule


def test_every_integer_route_argument_is_named_by_an_anchor(app):
    from werkzeug.routing import IntegerConverter

    from core import access

    named = {arg for a in access.anchors() for arg in a.url_args}
    loose = [f"{rule.rule} <{name}>" for rule in app.url_map.iter_rules() if rule.endpoint.startswith("fivestar.")
             for name, conv in rule._converters.items() if isinstance(conv, IntegerConverter) and name not in named]
    assert loose == []
