"""Half-year resident rating: a one-time signed link rates once (the database
refuses a second response), representatives' sheets, moderation."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from core import clock
from core.extensions import db
from core.forms import DuplicateError, commit
from plugins.fivestar.models import RatingResponse
from plugins.fivestar.services import FivestarError
from plugins.fivestar.services import ratings as ratings_svc

from .conftest import sign_in

NOW = "2026-03-10 02:00"


def _round(w):
    rnd = ratings_svc.open_round(community_id=w.c1.id, half="2026H1", items=["服务态度", "服务效果"],
                                 opens_on=dt.date(2026, 3, 1), closes_on=dt.date(2026, 3, 31))
    db.session.commit()
    return rnd


def test_a_rating_link_rates_once_and_refuses_a_second_rating(world, client, app):
    rnd = _round(world)
    with app.test_request_context():
        token = ratings_svc.make_token(rnd, world.m1.id)
    with clock.frozen(NOW):
        page = client.get(f"/fivestar/rate/{token}")
        assert page.status_code == 200 and "张三" in page.get_data(as_text=True)
        bad = client.post(f"/fivestar/rate/{token}", data={"s0": "5", "opinion": "很好"})
        assert bad.status_code == 200 and "请选择1至5颗星" in bad.get_data(as_text=True)
        assert "很好" in bad.get_data(as_text=True)  # what was typed stays
        ok = client.post(f"/fivestar/rate/{token}", data={"s0": "5", "s1": "4", "opinion": "很好"})
        assert "谢谢" in ok.get_data(as_text=True)
        again = client.post(f"/fivestar/rate/{token}", data={"s0": "1", "s1": "1"})
        assert again.status_code == 409 and "已用于评价" in again.get_data(as_text=True)
        assert "已用于评价" in client.get(f"/fivestar/rate/{token}").get_data(as_text=True)
    rows = list(db.session.scalars(select(RatingResponse)))
    assert [(r.stars, r.average, r.moderation) for r in rows] == [([5, 4], 4.5, "pending")]
    assert client.get(f"/fivestar/rate/{token}x").status_code == 404  # a forged link


def test_the_database_refuses_a_second_response_even_when_two_arrive_at_once(world, app):
    rnd = _round(world)
    # Read in the main thread: touching the expired objects in the threads would share its session.
    round_model, round_id, member_id = type(rnd), rnd.id, world.m1.id
    errors, done = [], []

    def rate():
        with app.app_context(), clock.frozen(NOW):
            try:
                ratings_svc.submit(rnd=db.session.get(round_model, round_id), member_id=member_id,
                                   resident_key="link:same", stars=[5, 5], opinion="", channel="link")
                commit("s0")
                done.append(1)
            except (DuplicateError, FivestarError) as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=rate) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) == 1 and len(errors) == 3
    assert db.session.scalar(select(func.count()).select_from(RatingResponse)) == 1


def test_a_closed_round_and_another_communitys_member_are_refused(world, app):
    rnd = _round(world)
    with clock.frozen("2026-04-02 02:00"), pytest.raises(FivestarError):
        ratings_svc.submit(rnd=rnd, member_id=world.m1.id, resident_key="link:a", stars=[5, 5], opinion="",
                           channel="link")
    with clock.frozen(NOW), pytest.raises(FivestarError):
        ratings_svc.submit(rnd=rnd, member_id=world.m3.id, resident_key="link:b", stars=[5, 5], opinion="",
                           channel="link")


def test_sheets_moderation_and_what_the_member_sees(world, client):
    rnd = _round(world)
    sign_in(client, "ca1")
    with clock.frozen(NOW):
        for rep, stars in (("代表甲", ("5", "5")), ("代表乙", ("4", "3"))):
            resp = client.post(f"/fivestar/rounds/{rnd.id}/sheet", data={
                "representative": rep, "member": world.m1.id, "s0": stars[0], "s1": stars[1], "opinion": f"{rep}的意见"})
            assert resp.status_code == 302
        dup = client.post(f"/fivestar/rounds/{rnd.id}/sheet", data={
            "representative": "代表甲", "member": world.m1.id, "s0": "1", "s1": "1"})
        assert dup.status_code == 200 and "已评价过" in dup.get_data(as_text=True)
        assert ratings_svc.results(rnd.id)[world.m1.id]["average"] == 4.25
        first, second = db.session.scalars(select(RatingResponse).order_by(RatingResponse.id)).all()
        client.post(f"/fivestar/responses/{first.id}/moderate", data={"decision": "approved"})
        client.post(f"/fivestar/responses/{second.id}/moderate", data={"decision": "hidden"})
        page = client.get(f"/fivestar/rounds/{rnd.id}")
        assert page.status_code == 200
        link = client.get(f"/fivestar/rounds/{rnd.id}/link?member={world.m1.id}", headers={"HX-Request": "true"})
        assert "<svg" in link.get_data(as_text=True) and "/fivestar/rate/" in link.get_data(as_text=True)
        me = sign_in(client, "m1").get("/fivestar/me").get_data(as_text=True)
    assert "代表甲的意见" in me and "代表乙的意见" not in me
