"""Real consumer processes (`flask worker`) next to the web app.

On SQLite the queue is huey's SQLite store in the instance folder; with
WANGGE_TEST_BACKEND=postgresql it is Redis (127.0.0.1:6379, a queue name of
this run's own) — consumers on several hosts work that way.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import clock, jobs
from core.extensions import db
from core.jobs import Job, PeriodicRun
from core.models import Organisation
from core.notify import Notification
from tests import factories
from tests.conftest import BACKEND
from tests.core import jobs_plugin
from tests.core.conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("WANGGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def queue_config() -> dict:
    cfg = {"JOBS_IMMEDIATE": False, "JOBS_QUEUE_NAME": f"wangge-test-{uuid.uuid4().hex[:8]}", "PLUGINS": []}
    if BACKEND == "postgresql":
        cfg.update(JOBS_BACKEND="redis", REDIS_URL=REDIS_URL)
    else:
        cfg.update(JOBS_BACKEND="sqlite")
    return cfg


class Consumers:
    def __init__(self, app, database_url, tmp_path):
        self.app, self.procs, self.logs = app, [], []
        cfg = app.config
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("WANGGE_")},
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url,
            "WANGGE_INSTANCE_PATH": app.instance_path,
            "WANGGE_SECRET_KEY": cfg["SECRET_KEY"],
            "WANGGE_PLUGINS": "[]",
            "WANGGE_JOBS_BACKEND": cfg["JOBS_BACKEND"],
            "WANGGE_JOBS_QUEUE_NAME": cfg["JOBS_QUEUE_NAME"],
            "WANGGE_JOBS_MAX_DELAY": "0.2",
        }
        if cfg.get("REDIS_URL"):
            self.env["WANGGE_REDIS_URL"] = cfg["REDIS_URL"]
        self.tmp = tmp_path

    def start(self, periodic=False):
        log = self.tmp / f"consumer-{len(self.procs)}.log"
        cmd = [sys.executable, "-m", "flask", "--app", "tests.core.consumer_app", "worker", "--workers", "1",
               "--periodic" if periodic else "--no-periodic"]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        self.procs.append(proc)
        self.logs.append(log)
        return proc

    def log(self, i=None) -> str:
        logs = self.logs if i is None else [self.logs[i]]
        return "\n".join(p.read_text(errors="replace") for p in logs)

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def queued(app_factory, database_url, tmp_path):
    app = app_factory(extra_plugins=[jobs_plugin], **queue_config())
    ctx = app.app_context()
    ctx.push()
    consumers = Consumers(app, database_url, tmp_path)
    try:
        yield app, consumers
    finally:
        consumers.stop()
        if app.config["JOBS_BACKEND"] == "redis":
            app.extensions["wangge_jobs"].huey.storage.flush_all()
        ctx.pop()


def wait_for(predicate, timeout=60.0, what="", consumers=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    log = consumers.log() if consumers else ""
    raise AssertionError(f"timed out waiting for {what}\n--- consumer log ---\n{log[-3000:]}")


def job_row(job_id):
    return db.session.execute(select(Job.state, Job.done, Job.total, Job.message).where(Job.id == job_id)).first()


def org_count():
    return db.session.scalar(select(func.count()).select_from(Organisation).where(Organisation.name.like("jobtest-%")))


def test_a_job_done_by_a_consumer_process_is_seen_by_the_web_app(queued):
    app, consumers = queued
    t = factories.build_tree()
    me = factories.make_user("me", "grid_worker", t.estates[0])
    consumers.start()
    job = jobs.start("jobtest.slow", params={"steps": 3, "writes": 3, "pause": 0.05}, user_id=me.id)
    assert job.state == "queued"  # nothing ran in this (the web) process
    wait_for(lambda: job_row(job.id).state == "done", what="the job to be done", consumers=consumers)
    assert org_count() == 3
    client = sign_in(app.test_client(), "me")
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'data-state="done"' in page
    note = db.session.scalar(select(Notification).where(Notification.user_id == me.id))
    assert note is not None and note.kind == "core.job_finished"


def test_a_consumer_killed_mid_job_leaves_nothing_half_written_and_the_job_failed(queued):
    app, consumers = queued
    t = factories.build_tree()
    me = factories.make_user("me", "grid_worker", t.estates[0])
    victim = consumers.start()
    job = jobs.start("jobtest.slow", params={"steps": 4, "writes": 60, "pause": 0.1}, user_id=me.id)
    # The web sees live progress while the task runs...
    wait_for(lambda: job_row(job.id).message == "writing", what="the job to start writing", consumers=consumers)
    row = job_row(job.id)
    assert row.state == "running" and row.total == 64 and row.done >= 4
    time.sleep(1.0)  # ... some rows are written, not committed
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    client = sign_in(app.test_client(), "me")
    client.post("/locale", data={"locale": "en"})
    page = client.get("/jobs/").get_data(as_text=True)
    assert 'data-state="failed"' in page and "The worker stopped" in page
    assert org_count() == 0
    assert job_row(job.id).state == "failed"  # stored, not only shown
    # A consumer started again does not take it up by itself; the user retries it.
    consumers.start()
    time.sleep(2)
    assert job_row(job.id).state == "failed" and org_count() == 0
    assert client.post(f"/jobs/{job.id}/retry").status_code == 302
    wait_for(lambda: job_row(job.id).state == "done", what="the retried job", consumers=consumers)
    assert org_count() == 60
    assert db.session.scalar(select(Job.attempts).where(Job.id == job.id)) == 2


def test_two_consumers_send_a_periodic_task_once(queued):
    app, consumers = queued
    t = factories.build_tree()
    pinged = factories.make_user("pinged", "grid_worker", t.estates[0])
    # Both schedulers look at the minute they start in: start both well inside one.
    while clock.utcnow().second > 40:
        time.sleep(1)
    minute = clock.utcnow().replace(second=0, microsecond=0)
    consumers.start(periodic=True)
    consumers.start(periodic=True)
    wait_for(lambda: db.session.scalar(select(PeriodicRun.finished_at).where(
        PeriodicRun.task == "jobtest.ping", PeriodicRun.slot == minute)), what="the periodic run", consumers=consumers)
    # Each scheduler sent it; the second one to take it found the minute claimed.
    wait_for(lambda: "jobtest.ping at" in consumers.log() and "claimed by another consumer" in consumers.log(),
             timeout=30, what="the second consumer to skip", consumers=consumers)
    runs = db.session.scalar(select(func.count()).select_from(PeriodicRun).where(PeriodicRun.task == "jobtest.ping",
                                                                                PeriodicRun.slot == minute))
    sent = db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == pinged.id, Notification.created_at >= minute,
        Notification.created_at < minute + dt.timedelta(minutes=1)))
    assert (runs, sent) == (1, 1)
