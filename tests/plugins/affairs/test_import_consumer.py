"""An affairs import run by a real consumer process (`flask --app wsgi worker`)
that is killed (SIGKILL) half-way through applying an all-or-nothing file:
after the restart the user sees the job failed ("the worker stopped"),
nothing of the file is stored, and a retry imports it whole."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.jobs import Job
from plugins.affairs.models import ImportJob, Resident
from tests.core.test_jobs_consumer import ROOT, queue_config, wait_for

from .conftest import make_id
from .test_import import resident_row, upload, xlsx

ROWS = 12_000


@pytest.fixture
def app(app_factory):
    cfg = {**queue_config(), "PLUGINS": ["affairs"], "LOAD_ENTRY_POINTS": False}
    app = app_factory(**cfg)
    with app.app_context():
        yield app


def start_consumer(app, database_url, log_path):
    cfg = app.config
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WANGGE_")},
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "WANGGE_INSTANCE_PATH": app.instance_path,
        "WANGGE_SECRET_KEY": cfg["SECRET_KEY"],
        "WANGGE_PLUGINS": '["affairs"]',
        "WANGGE_LOAD_ENTRY_POINTS": "false",
        "WANGGE_JOBS_BACKEND": cfg["JOBS_BACKEND"],
        "WANGGE_JOBS_QUEUE_NAME": cfg["JOBS_QUEUE_NAME"],
        "WANGGE_JOBS_MAX_DELAY": "0.2",
    }
    if cfg.get("REDIS_URL"):
        env["WANGGE_REDIS_URL"] = cfg["REDIS_URL"]
    cmd = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers", "1", "--no-periodic"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)


def residents() -> int:
    return db.session.scalar(select(func.count()).select_from(Resident))


def test_a_killed_consumer_leaves_an_all_or_nothing_import_failed_and_nothing_stored(app, world, login,
                                                                                   database_url, tmp_path):
    c = login("cadmin")
    c.post("/locale", data={"locale": "en"})
    born = dt.date(1950, 1, 1)
    rows = [resident_row(world, f"居民{i}", 1, room=str(1000 + i // 4),
                         id_number=make_id((born + dt.timedelta(days=i // 1000)).strftime("%Y%m%d"), i % 1000))
            for i in range(ROWS)]
    before = residents()
    victim = start_consumer(app, database_url, tmp_path / "consumer-1.log")
    procs = [victim]
    try:
        resp = upload(c, xlsx(rows), mode="all_or_nothing")
        job_id = int(resp.headers["Location"].rsplit("/", 1)[1])
        log = (tmp_path / "consumer-1.log")
        wait_for(lambda: db.session.scalar(select(ImportJob.phase).order_by(ImportJob.id.desc())) == "applying",
                 timeout=120, what=f"the import to apply\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.5)  # rows are being written, not committed
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        db.session.rollback()
        page = c.get(f"/jobs/{job_id}").get_data(as_text=True)
        assert 'data-state="failed"' in page and "The worker stopped" in page
        assert residents() == before  # nothing half-imported
        # A consumer started again leaves it failed; the user retries it and it goes in whole.
        procs.append(start_consumer(app, database_url, tmp_path / "consumer-2.log"))
        assert c.post(f"/jobs/{job_id}/retry").status_code == 302
        wait_for(lambda: db.session.scalar(select(Job.state).where(Job.id == job_id)) in ("done", "failed"),
                 timeout=180, what="the retried import")
        job = db.session.get(Job, job_id)
        assert job.state == "done", (job.error, (tmp_path / "consumer-2.log").read_text(errors="replace")[-2000:])
        assert job.result["created"] == ROWS and residents() == before + ROWS
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
