"""Running one job inside a consumer: claim it, report progress, end it.

The task's own writes go through `db.session` in one transaction that is
committed only when the task returns (all or nothing: a task that fails or
whose consumer dies leaves nothing half-written, unless it chose to commit
itself). Progress and the heartbeat go through a connection of their own, so
the web sees them while the task's transaction is still open.
"""

from __future__ import annotations

import logging
import os
import socket
import time

from flask import current_app
from flask_babel import force_locale
from flask_login import login_user
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from .. import clock
from ..extensions import db
from ..forms import DomainError
from ..i18n import N_
from .models import Job

log = logging.getLogger("wangge.jobs")

PROGRAM_ERROR = N_(
    "The task stopped because of an error in the program. The administrators "
    "can find the details in the log; retrying may help."
)
WORKER_STOPPED = N_("The worker stopped while running this job (it was shut down or crashed). Retry it.")
JOB_TABLE = Job.__table__


class JobFailed(Exception):  # noqa: N818 - the job failed; the name reads as the outcome
    """Raised by a task to fail its job with a reason for users: an English
    msgid (mark it with N_) and its params, translated when read."""

    def __init__(self, msgid: str, **params):
        super().__init__(msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobHandle:
    """What a task function receives as `job`."""

    # Write progress at most this often (seconds); the last call always counts.
    EVERY = 1.0

    def __init__(self, row: Job, attempt: int):
        self.id = row.id
        self.task = row.task
        self.params = dict(row.params or {})
        self.user_id = row.user_id
        self.community_id = row.community_id
        self.attempt = attempt
        self.result: dict = {}
        self._pending: dict = {}
        self._last = 0.0
        self._message: str | None = None

    @property
    def user(self):
        from ..models import User

        return db.session.get(User, self.user_id) if self.user_id else None

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Record how far the task got (and that its consumer is alive)."""
        values = {"done": int(done), "heartbeat_at": clock.utcnow()}
        if total is not None:
            values["total"] = int(total)
        if message is not None:
            values["message"] = str(message)[:255]
        news = message is not None and message != self._message
        self._message = message if message is not None else self._message
        self._pending.update(values)
        finished = total is not None and done >= total
        if news or finished or time.monotonic() - self._last >= self.EVERY:
            self.flush()

    def flush(self) -> None:
        if not self._pending or _session_holds_sqlite_write_lock():
            # SQLite has one writer: while this task's transaction writes,
            # progress waits in memory (it is written with the outcome).
            return
        stmt = (
            update(JOB_TABLE)
            .where(JOB_TABLE.c.id == self.id, JOB_TABLE.c.attempts == self.attempt, JOB_TABLE.c.state == "running")
            .values(**self._pending)
        )
        try:
            with db.engine.begin() as conn:
                conn.execute(stmt)
        except OperationalError:  # the database is busy: try again next time
            log.debug("progress of job %s not written (database busy)", self.id)
            return
        self._pending = {}
        self._last = time.monotonic()

    def save_file(self, data: bytes, filename: str, suffix: str | None = None) -> str:
        """Keep a result file (an export, an error report) for the user to
        download from the job's page; returns its stored name."""
        from ..uploads import save_bytes

        suffix = suffix if suffix is not None else os.path.splitext(filename)[1]
        stored = save_bytes("jobs", data, suffix)
        self.result["file"] = stored
        self.result["filename"] = filename
        return stored


    def save_xlsx(self, filename: str, headers, rows, title: str = "Sheet1", total: int | None = None) -> str:
        """Write rows to an .xlsx result file (core.excel's cell rules),
        reporting progress every 1,000 rows; returns its stored name. For
        exports too big for a request: the user downloads it from the job."""
        from ..excel import workbook_bytes

        def counted():
            for n, row in enumerate(rows, 1):
                if n % 1000 == 0:
                    self.progress(n, total)
                yield row

        return self.save_file(workbook_bytes(headers, counted(), title), filename)


def _session_holds_sqlite_write_lock() -> bool:
    session = db.session()
    if db.engine.dialect.name != "sqlite" or not session.in_transaction():
        return False
    return bool(session.connection().connection.dbapi_connection.in_transaction)


def _claim(job_id: int) -> int | None:
    """queued -> running, in the database: a job runs once even if delivered twice."""
    now = clock.utcnow()
    with db.engine.begin() as conn:
        row = conn.execute(select(JOB_TABLE.c.attempts).where(JOB_TABLE.c.id == job_id)).first()
        if row is None:
            return None
        attempt = row.attempts + 1
        claimed = conn.execute(
            update(JOB_TABLE)
            .where(JOB_TABLE.c.id == job_id, JOB_TABLE.c.state == "queued", JOB_TABLE.c.attempts == row.attempts)
            .values(state="running", attempts=attempt, started_at=now, heartbeat_at=now, worker=worker_id(),
                    error=None, error_params=None, finished_at=None, done=0)
        ).rowcount
    return attempt if claimed else None


def run_job(job_id: int) -> str:
    """Run a queued job in the current app context; returns its final state."""
    from .service import registry

    attempt = _claim(job_id)
    if attempt is None:
        log.info("job %s is not queued (taken by another consumer, or gone): skipped", job_id)
        return "skipped"
    row = db.session.get(Job, job_id)
    handle = JobHandle(row, attempt)
    task = registry().tasks.get(row.task)
    user = handle.user
    locale = (user.locale if user is not None and user.locale else None) or current_app.config["BABEL_DEFAULT_LOCALE"]
    db.session.rollback()  # the task starts with a fresh transaction
    error, params = None, None
    # The task acts as its starter: core.access, core.security and url_for
    # work in it as in the view that started it (a request of its own).
    # (No client address: the audit log must not record one it never saw.)
    with current_app.test_request_context(f"/jobs/{job_id}", environ_base={"REMOTE_ADDR": ""}), force_locale(locale):
        if user is not None:
            login_user(user)
        try:
            if task is None:
                raise JobFailed(N_("This kind of job (%(task)s) is no longer installed."), task=handle.task)
            value = task.func(handle, **handle.params)
            if isinstance(value, dict):
                handle.result.update(value)
        except JobFailed as exc:
            error, params = exc.msgid, exc.params
        except DomainError as exc:
            error = str(exc)  # already in the starter's language
        except Exception:  # noqa: BLE001 - the job fails, the consumer goes on
            log.exception("job %s (%s) failed", job_id, handle.task)
            error, params = PROGRAM_ERROR, {}
    return _finish(handle, error, params)


def _finish(handle: JobHandle, error: str | None, params: dict | None) -> str:
    if error is not None:
        db.session.rollback()  # nothing half-written
    try:
        return _write_outcome(handle, error, params)
    except Exception:
        # The task's own writes failed at commit (a constraint, a lost
        # connection): the job fails, nothing of it is kept.
        log.exception("job %s (%s): the outcome could not be committed", handle.id, handle.task)
        db.session.rollback()
        if error is not None:
            raise
        handle.result = {k: v for k, v in handle.result.items() if k in ("file", "filename")}
        return _write_outcome(handle, PROGRAM_ERROR, {})


def _write_outcome(handle: JobHandle, error: str | None, params: dict | None) -> str:
    now = clock.utcnow()
    values = {**handle._pending, "finished_at": now, "heartbeat_at": now, "result": handle.result or None}
    if error is None:
        values.update(state="done")
        values["done"] = values.get("total") or func.coalesce(JOB_TABLE.c.total, values.get("done", JOB_TABLE.c.done))
    else:
        values.update(state="failed", error=error, error_params=params)
    stmt = (
        update(JOB_TABLE)
        .where(JOB_TABLE.c.id == handle.id, JOB_TABLE.c.attempts == handle.attempt)
        .values(**values)
    )
    # The outcome commits with the task's writes: both or neither.
    if db.session.execute(stmt).rowcount != 1:
        db.session.rollback()
        log.warning("job %s was retried while attempt %s ran: its writes are dropped", handle.id, handle.attempt)
        return "skipped"
    from .service import job_finished

    job_finished(handle.id)
    db.session.commit()
    return values["state"]


def sweep_stale(user_id: int | None = None) -> int:
    """Mark running jobs whose consumer died as failed ("the worker stopped").

    Dead means: no heartbeat for JOBS_STALE_AFTER seconds, or a consumer on
    this host whose process is gone (kill -9 is seen at once). Returns how
    many jobs were marked."""
    limit = int(current_app.config["JOBS_STALE_AFTER"])
    now = clock.utcnow()
    stmt = select(JOB_TABLE.c.id, JOB_TABLE.c.attempts, JOB_TABLE.c.heartbeat_at, JOB_TABLE.c.worker).where(
        JOB_TABLE.c.state == "running"
    )
    if user_id is not None:
        stmt = stmt.where(JOB_TABLE.c.user_id == user_id)
    host = socket.gethostname()
    dead = []
    for job_id, attempts, beat, worker in db.session.execute(stmt.limit(200)):
        stale = beat is None or (now - beat).total_seconds() > limit
        if not stale and worker:
            whost, _, pid = worker.rpartition(":")
            stale = whost == host and pid.isdigit() and not _alive(int(pid))
        if stale:
            dead.append((job_id, attempts))
    marked = 0
    for job_id, attempts in dead:
        marked += db.session.execute(
            update(JOB_TABLE)
            .where(JOB_TABLE.c.id == job_id, JOB_TABLE.c.attempts == attempts, JOB_TABLE.c.state == "running")
            .values(state="failed", error=WORKER_STOPPED, error_params={}, finished_at=now)
        ).rowcount
    if marked:
        db.session.commit()
    return marked


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
