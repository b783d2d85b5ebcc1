"""Exports, node holders, rate limits and SQL statement counts that do not
grow with the rows shown."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, select

from core import clock
from core.extensions import db
from plugins.fivestar.models import ScoreMonth
from plugins.fivestar.services import batches, records, scoring
from tests import factories

from .conftest import AFTER, MONTH, build_world, ref, sign_in


def _published_month(w, app, extra_members=0):
    for i in range(extra_members):
        m = factories.make_user(f"extra{i}", "member", w.tree.zones[i % 4])
        with app.test_request_context(), clock.frozen("2026-03-20 02:00"):
            records.add_manual(node=w.tree.zones[0], member_id=m.id, day=dt.date(2026, 3, 2), hours=1,
                               kind="service", title="服务", user_id=None)
    with app.test_request_context(), clock.frozen(AFTER):
        sm = scoring.compute_month(w.c1, MONTH)
        scoring.review(sm, None)
        scoring.publish(sm, None)
        db.session.commit()
    return sm


def _count_statements(client, url):
    n = [0]

    def count(*_a):
        n[0] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200, url
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return n[0]


def test_statement_counts_do_not_grow_with_the_members_shown(app_factory):
    counts = []
    for extra in (0, 8):
        app = app_factory()
        with app.app_context():
            w = build_world()
            sm = _published_month(w, app, extra)
            client = sign_in(app.test_client(), "ca1")
            counts.append([_count_statements(client, url) for url in (
                f"/fivestar/scores/{sm.id}", "/fivestar/records", f"/fivestar/public/{w.c1.code}")])
            from tests.conftest import empty_all_tables

            empty_all_tables()
    assert counts[0] == counts[1], counts


def test_exports_answer_xlsx_in_scope(world, app, client):
    _published_month(world, app)
    sign_in(client, "ca1")
    for url in ("/fivestar/export/scores.xlsx", "/fivestar/export/awards.xlsx"):
        resp = client.get(url)
        assert resp.status_code == 200 and resp.data[:2] == b"PK", url
    assert "五星级" in client.get("/exports").get_data(as_text=True)
    sign_in(client, "m1")
    assert client.get("/fivestar/export/scores.xlsx").status_code == 403


def test_node_holders_name_what_holds_a_community(world, app):
    _published_month(world, app)
    with app.test_request_context():
        from plugins.fivestar import wangge_node_holders

        held = dict((str(k), v) for k, v in wangge_node_holders([world.c1.id]))
        assert held == {"个月度评分（五星级评定）": 1}  # zh_CN by default


def test_objections_are_rate_limited(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, FIVESTAR_OBJECTION_LIMIT="2 per minute")
    with app.app_context():
        w = build_world()
        sm = _published_month(w, app)
        assert sm.state == "published"
        with app.test_request_context(), clock.frozen("2026-04-02 02:00"):
            b = batches.open_batch(number=1, title="第一批", opened_on=dt.date(2026, 4, 1), min_quarter_score=0,
                                   min_rating=1)
            n = batches.Nomination(batch_id=b.id, community_id=w.c1.id, member_id=w.m1.id, state="approved")
            db.session.add(n)
            db.session.flush()
            batches.start_notice(b)
            db.session.commit()
        anon = app.test_client()
        with clock.frozen("2026-04-03 02:00"):
            codes = [anon.post(f"/fivestar/public/nomination/{ref(app, 'nomination', n.id)}/object", data={"reason": "异议理由充分"}).status_code
                     for _ in range(3)]
        assert codes == [200, 200, 429]
        assert len(list(db.session.scalars(select(batches.Objection)))) == 2
        assert db.session.scalar(select(ScoreMonth.state)) == "published"
        from tests.conftest import empty_all_tables

        empty_all_tables()


def test_a_moved_estate_takes_its_manual_records_to_the_new_community(world, app):
    from core.grid.services import move_node
    from plugins.fivestar.models import ManualRecord

    with app.test_request_context(), clock.frozen("2026-03-20 02:00"):
        rec = records.add_manual(node=world.tree.zones[0], member_id=world.m1.id, day=dt.date(2026, 3, 2), hours=1,
                                 kind="service", title="服务", user_id=None)
        db.session.commit()
        move_node(world.tree.estates[0], world.c2)
        db.session.commit()
        assert db.session.get(ManualRecord, rec.id).community_id == world.c2.id
