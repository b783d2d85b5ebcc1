"""Scoring as a job: "compute now" queues the task, the periodic task scores
last month on the 1st, and the people concerned are told."""

from __future__ import annotations

from sqlalchemy import select

from core import clock
from core.extensions import db
from core.jobs import Job, run_periodic
from core.notify.models import Notification
from plugins.fivestar.models import ScoreMonth

from .conftest import AFTER, sign_in


def test_compute_now_runs_as_a_job_and_tells_the_community_admin(world, client):
    sign_in(client, "ca1")
    with clock.frozen(AFTER):
        resp = client.post("/fivestar/scores/compute", data={"community": world.c1.id, "month": "2026-03"})
        assert resp.status_code == 302 and "/jobs/" in resp.headers["Location"]
        job = db.session.scalar(select(Job))
        assert (job.task, job.state, job.result) == ("fivestar.compute_month", "done", {"month_id": job.result["month_id"]})
        sm = db.session.get(ScoreMonth, job.result["month_id"])
        assert sm.state == "computed"
        kinds = {(n.user_id, n.kind) for n in db.session.scalars(select(Notification))}
        assert (world.ca1.id, "fivestar.month_computed") in kinds
        assert (world.ca2.id, "fivestar.month_computed") not in kinds
        early = client.post("/fivestar/scores/compute", data={"community": world.c1.id, "month": "2026-04"})
        assert early.status_code == 422 and "月份结束后方可评分" in early.get_data(as_text=True)
        assert db.session.scalar(select(db.func.count()).select_from(Job)) == 1  # nothing queued


def test_the_periodic_task_scores_last_month_once_for_each_community(world, app):
    with app.test_request_context(), clock.frozen("2026-03-31 18:30"):  # 02:30 on 1 April in the district
        assert run_periodic("fivestar.monthly_scores") == "done"
        months = {(m.community_id, m.month.isoformat()) for m in db.session.scalars(select(ScoreMonth))}
        assert months == {(world.c1.id, "2026-03-01"), (world.c2.id, "2026-03-01")}
    with app.test_request_context(), clock.frozen("2026-03-31 18:31"):
        run_periodic("fivestar.monthly_scores")
        assert db.session.scalar(select(db.func.count()).select_from(ScoreMonth)) == 2


def test_publishing_tells_each_member_their_score(world, client, app):
    sign_in(client, "ca1")
    with clock.frozen(AFTER):
        client.post("/fivestar/scores/compute", data={"community": world.c1.id, "month": "2026-03"})
        sm = db.session.scalar(select(ScoreMonth))
        for step in ("review", "publish"):
            html = client.get(f"/fivestar/scores/{sm.id}").get_data(as_text=True)
            token = html.split('name="edit_token" value="')[1].split('"')[0]
            client.post(f"/fivestar/scores/{sm.id}/{step}", data={"edit_token": token})
    told = {n.user_id for n in db.session.scalars(select(Notification).where(
        Notification.kind == "fivestar.month_published"))}
    assert told == {world.m1.id, world.m2.id}
