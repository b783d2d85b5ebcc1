"""Background jobs in immediate mode (JOBS_IMMEDIATE, the tests' default):
a job's page, progress, failure in the user's language, all or nothing,
retry, the result file, a consumer that died."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import func, select

from core import clock, jobs
from core.extensions import db
from core.i18n import N_
from core.jobs import Job, JobFailed
from core.models import Organisation
from core.notify import Notification
from core.plugins import Task
from tests import factories
from tests.core.conftest import sign_in
from tests.core.fakes import module_plugin

RUNS: list[str] = []


def count_up(job, n=3):
    for i in range(1, n + 1):
        job.progress(i, n, message=f"step {i}")
    return {"message": N_("Finished: %(title)s"), "params": {"title": f"{n} steps"}}


def write_then_crash(job, name="半途"):
    db.session.add(Organisation(name=name, kind="department"))
    db.session.flush()
    job.progress(1, 2)
    raise RuntimeError("secret internals: /etc/passwd line 3")


def refuse(job):
    raise JobFailed(N_("Failed: %(title)s"), title="X")


def flaky(job):
    RUNS.append("run")
    if len(RUNS) == 1:
        raise JobFailed(N_("Failed: %(title)s"), title="first try")
    db.session.add(Organisation(name="第二次成功", kind="department"))
    return {"runs": len(RUNS)}


def with_file(job):
    job.save_file(b"col\n1\n", "result.csv")
    return {"rows": 1}


def plugin():
    return module_plugin("workbench", wangge_tasks=lambda: [
        Task("workbench.count", count_up, "Count up"),
        Task("workbench.crash", write_then_crash, "Crash"),
        Task("workbench.refuse", refuse, "Refuse"),
        Task("workbench.flaky", flaky, "Flaky"),
        Task("workbench.file", with_file, "File"),
    ])


@pytest.fixture
def bench(fake_app):
    RUNS.clear()
    app = fake_app(plugin())
    t = factories.build_tree()
    me = factories.make_user("me", "grid_worker", t.estates[0])
    other = factories.make_user("other", "grid_worker", t.estates[1])
    client = sign_in(app.test_client(), "me")
    return app, t, me, other, client


def test_a_job_runs_with_progress_and_its_starter_sees_it_done(bench):
    app, t, me, other, client = bench
    job = jobs.start("workbench.count", params={"n": 3}, title="Three steps", community_id=t.communities[0].id,
                     user_id=me.id)
    assert (job.state, job.done, job.total, job.message, job.attempts) == ("done", 3, 3, "step 3", 1)
    assert job.started_at and job.finished_at and job.heartbeat_at
    page = client.get("/jobs/").get_data(as_text=True)
    assert "Three steps" in page and 'data-state="done"' in page
    detail = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "已完成:3 steps" in detail  # the result's summary, in the reader's language (zh_CN)
    # The starter is told in the inbox, with a link to the job.
    note = db.session.scalar(select(Notification).where(Notification.user_id == me.id))
    assert note.kind == "core.job_finished" and note.url.endswith(f"/jobs/{job.id}")


def test_a_job_started_from_a_request_belongs_to_the_signed_in_user(bench):
    app, t, me, other, client = bench
    with app.test_request_context():
        from flask_login import login_user

        login_user(me)
        job = jobs.start("workbench.count")
    assert job.user_id == me.id


def test_a_crashing_task_leaves_nothing_half_written_and_tells_no_traceback(bench, caplog):
    app, t, me, other, client = bench
    # Alembic's fileConfig (a migration test earlier in the run) disables existing loggers.
    logging.getLogger("wangge.jobs").disabled = False
    job = jobs.start("workbench.crash", user_id=me.id)
    assert job.state == "failed"
    assert db.session.scalar(select(func.count()).select_from(Organisation).where(Organisation.name == "半途")) == 0
    client.post("/locale", data={"locale": "en"})
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "error in the program" in page and "secret internals" not in page and "Traceback" not in page
    assert "secret internals" in caplog.text  # the administrators find it in the log
    client.post("/locale", data={"locale": "zh_CN"})
    assert "程序出错" in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_a_refused_job_gives_its_reason_in_the_reader_s_language(bench):
    app, t, me, other, client = bench
    job = jobs.start("workbench.refuse", user_id=me.id)
    assert "失败:X" in client.get(f"/jobs/{job.id}").get_data(as_text=True)
    client.post("/locale", data={"locale": "en"})
    assert "Failed: X" in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_a_failed_job_is_retried_by_its_starter_only(bench):
    app, t, me, other, client = bench
    job = jobs.start("workbench.flaky", user_id=me.id)
    assert job.state == "failed"
    client.post("/locale", data={"locale": "en"})
    assert "Retry" in client.get(f"/jobs/{job.id}").get_data(as_text=True)
    # Someone else cannot retry it (nor see it).
    stranger = sign_in(app.test_client(), "other")
    assert stranger.post(f"/jobs/{job.id}/retry").status_code == 404
    assert stranger.get(f"/jobs/{job.id}").status_code == 404
    assert len(RUNS) == 1
    resp = client.post(f"/jobs/{job.id}/retry")
    assert resp.status_code == 302
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert (job.state, job.attempts, job.result, job.error) == ("done", 2, {"runs": 2}, None)
    # A done job is not run again.
    client.post(f"/jobs/{job.id}/retry")
    assert len(RUNS) == 2


def test_the_result_file_downloads_for_the_starter(bench):
    app, t, me, other, client = bench
    job = jobs.start("workbench.file", user_id=me.id)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert f'href="/jobs/{job.id}/file"' in page
    resp = client.get(f"/jobs/{job.id}/file")
    assert resp.status_code == 200 and resp.data == b"col\n1\n"
    assert "result.csv" in resp.headers["Content-Disposition"]
    assert sign_in(app.test_client(), "other").get(f"/jobs/{job.id}/file").status_code == 404


def test_a_running_job_whose_heartbeat_stopped_shows_failed(bench):
    app, t, me, other, client = bench
    with clock.frozen("2026-03-01 08:00"):
        job = Job(task="workbench.count", title="Stuck", state="running", user_id=me.id, attempts=1,
                  started_at=clock.utcnow(), heartbeat_at=clock.utcnow(), worker="elsewhere:1")
        db.session.add(job)
        db.session.commit()
        assert 'data-state="running"' in client.get(f"/jobs/{job.id}").get_data(as_text=True)
    with clock.frozen("2026-03-01 08:20"):  # no heartbeat for 20 minutes (JOBS_STALE_AFTER 15)
        client.post("/locale", data={"locale": "en"})
        page = client.get("/jobs/").get_data(as_text=True)
    assert 'data-state="failed"' in page and "The worker stopped" in page
    db.session.expire_all()
    assert db.session.get(Job, job.id).state == "failed"  # stored, not only shown


def test_a_running_job_of_a_dead_consumer_on_this_host_fails_at_once(bench):
    import socket
    import subprocess

    app, t, me, other, client = bench
    gone = subprocess.Popen(["true"])
    gone.wait()
    job = Job(task="workbench.count", title="Orphan", state="running", user_id=me.id, attempts=1,
              started_at=clock.utcnow(), heartbeat_at=clock.utcnow(), worker=f"{socket.gethostname()}:{gone.pid}")
    db.session.add(job)
    db.session.commit()
    assert 'data-state="failed"' in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_a_job_is_claimed_once(bench):
    app, t, me, other, client = bench
    job = jobs.start("workbench.count", user_id=me.id)
    # Delivered again (a duplicate message): it is not queued any more, so it is skipped.
    assert jobs.run_job(job.id) == "skipped"
    assert db.session.get(Job, job.id).attempts == 1


def test_polling_fragments_stop_when_the_job_ends(bench):
    app, t, me, other, client = bench
    job = Job(task="workbench.count", title="Waiting", state="queued", user_id=me.id)
    db.session.add(job)
    db.session.commit()
    frag = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true"})
    body = frag.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="job-status"') and 'hx-trigger="every 2s"' in body
    listing = client.get("/jobs/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in listing
    job.state, job.finished_at = "done", clock.utcnow()
    db.session.commit()
    frag = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true"})
    assert "every 2s" not in frag.get_data(as_text=True)
    assert frag.headers.get("HX-Trigger") == "wangge-inbox"


def test_start_refuses_an_unknown_task_and_params_that_are_not_json(bench):
    with pytest.raises(KeyError):
        jobs.start("workbench.nope")
    with pytest.raises(TypeError):
        jobs.start("workbench.count", params={"when": dt.date(2026, 3, 1)})
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_task_acts_as_its_starter(fake_app):
    from flask import url_for
    from flask_login import current_user

    from core import security
    from core.audit import record
    from core.models import AuditLog

    def whoami(job):
        record("workbench.seen", summary="from a job")
        return {"user": current_user.id, "paths": security.scope_paths(), "url": url_for("jobs.index")}

    fake_app(module_plugin("whoami", wangge_tasks=lambda: [Task("whoami.run", whoami, "Who am I")]))
    t = factories.build_tree()
    me = factories.make_user("me", "grid_worker", t.estates[0])
    job = jobs.start("whoami.run", user_id=me.id)
    assert job.result == {"user": me.id, "paths": [t.estates[0].path], "url": "/jobs/"}
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "workbench.seen"))
    assert (entry.user_id, entry.ip) == (me.id, None)


def test_a_task_whose_writes_fail_at_commit_fails_cleanly(fake_app):
    def clash(job):
        # Two departments of one name: refused by the unique key only when committed.
        db.session.add(Organisation(name="重名", kind="department"))
        db.session.add(Organisation(name="重名", kind="department"))

    fake_app(module_plugin("clash", wangge_tasks=lambda: [Task("clash.run", clash, "Clash")]))
    t = factories.build_tree()
    me = factories.make_user("me", "grid_worker", t.estates[0])
    job = jobs.start("clash.run", user_id=me.id)
    assert job.state == "failed" and "error in the program" in job.error
    assert db.session.scalar(select(func.count()).select_from(Organisation).where(Organisation.name == "重名")) == 0


def test_done_counts_up_to_the_total_even_when_the_last_progress_was_written_earlier(bench):
    app, t, me, other, client = bench
    job = jobs.start("workbench.count", params={"n": 1}, user_id=me.id)
    assert (job.done, job.total) == (1, 1)


def test_files_of_old_jobs_are_deleted_and_their_rows_kept(bench):
    from core.jobs import run_periodic
    from core.uploads import upload_root

    app, t, me, other, client = bench
    with clock.frozen("2026-01-01 08:00"):
        old = jobs.start("workbench.file", user_id=me.id)
    recent = jobs.start("workbench.file", user_id=me.id)
    old_file = upload_root() / old.result["file"]
    assert old_file.exists()
    with clock.frozen("2026-03-01 08:00"):
        run_periodic("core.clean_job_files", clock.utcnow())
    db.session.expire_all()
    assert not old_file.exists() and (upload_root() / db.session.get(Job, recent.id).result["file"]).exists()
    assert db.session.get(Job, old.id).result == {"rows": 1}
    assert client.get(f"/jobs/{old.id}/file").status_code == 404
    assert client.get(f"/jobs/{old.id}").status_code == 200


def test_an_export_task_writes_an_xlsx_result_with_progress(fake_app):
    import io

    from openpyxl import load_workbook

    def export(job, n):
        job.save_xlsx("big.xlsx", ["#", "名称"], ([i, f"=x{i}"] for i in range(n)), title="big", total=n)
        return {"rows": n}

    app = fake_app(module_plugin("exporter", wangge_tasks=lambda: [Task("exporter.big", export, "Big export")]))
    t = factories.build_tree()
    me = factories.make_user("me", "grid_worker", t.estates[0])
    job = jobs.start("exporter.big", params={"n": 2500}, user_id=me.id)
    assert (job.state, job.done, job.total, job.result["filename"]) == ("done", 2500, 2500, "big.xlsx")
    data = sign_in(app.test_client(), "me").get(f"/jobs/{job.id}/file").data
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert len(rows) == 2501 and rows[1] == (0, "'=x0")  # formulas neutralised as in every export
