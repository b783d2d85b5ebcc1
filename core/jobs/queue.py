"""The huey queue of one app: its store, the job task, the periodic tasks
with their once-only claims, and the consumer command."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..extensions import db
from ..plugins import PluginError
from .models import PeriodicRun
from .runner import run_job, sweep_stale, worker_id

log = logging.getLogger("wangge.jobs")
RUN_JOB = "wangge.run_job"


class _DistrictTime:
    """Periodic schedules are read in the district's time zone (huey reads
    them in UTC), and each periodic task is told the minute it is for, so
    that every consumer names the same slot when it claims the run."""

    tz: ZoneInfo

    def read_periodic(self, timestamp):
        if timestamp is None:
            timestamp = self._get_timestamp()
        slot = timestamp.replace(second=0, microsecond=0)
        local = slot.replace(tzinfo=dt.UTC).astimezone(self.tz).replace(tzinfo=None)
        tasks = super().read_periodic(local)
        for task in tasks:
            task.kwargs = {"slot": slot.isoformat()}
        return tasks


class _SqliteQueue(_DistrictTime, SqliteHuey):
    pass


class _RedisQueue(_DistrictTime, RedisHuey):
    pass


class _MemoryQueue(_DistrictTime, MemoryHuey):
    pass


@dataclass
class QueueState:
    huey: Any
    run_job: Any  # the huey task wrapper
    backend: str


def build_queue(app, registry) -> QueueState:
    cfg = app.config
    name = cfg["JOBS_QUEUE_NAME"]
    backend = cfg.get("JOBS_BACKEND") or ("redis" if cfg.get("REDIS_URL") else "sqlite")
    if cfg["JOBS_IMMEDIATE"]:
        huey, backend = _MemoryQueue(name, results=False, immediate=True), "immediate"
    elif backend == "redis":
        huey = _RedisQueue(name, results=False, url=cfg["REDIS_URL"])
    elif backend == "sqlite":
        path = cfg.get("JOBS_SQLITE_PATH") or str(Path(app.instance_path) / "jobs-queue.sqlite")
        huey = _SqliteQueue(name, results=False, filename=path)
    else:
        raise RuntimeError(f"JOBS_BACKEND must be 'sqlite' or 'redis', not {backend!r}")
    huey.tz = ZoneInfo(cfg["TIMEZONE"])

    @huey.task(name=RUN_JOB)
    def run_job_task(job_id: int):
        # A fresh app context per run: its own session, `g` and locale.
        with app.app_context():
            return run_job(job_id)

    for periodic in registry.periodic:
        try:
            validate = crontab(strict=True, **periodic.schedule)
        except (TypeError, ValueError) as exc:
            raise PluginError(f"Periodic task {periodic.name!r} ({periodic.module}) has a bad schedule: {exc}") from exc
        huey.periodic_task(validate, name=f"periodic:{periodic.name}")(_periodic_runner(app, periodic.name))
    return QueueState(huey=huey, run_job=run_job_task, backend=backend)


def _periodic_runner(app, name: str):
    def run(slot: str | None = None):
        with app.app_context():
            return run_periodic(name, slot)

    run.__name__ = f"periodic_{name}"
    return run


def claim_slot(name: str, slot: dt.datetime) -> bool:
    """Insert (task, slot): True for the one consumer whose insert succeeds."""
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(PeriodicRun.__table__).values(
                task=name, slot=slot, worker=worker_id(), claimed_at=clock.utcnow()))
    except IntegrityError:
        return False
    return True


def run_periodic(name: str, slot: str | dt.datetime | None = None) -> str:
    """Run a declared periodic task for one slot (a minute, naive UTC; now by
    default) unless another consumer claimed that slot first."""
    from ..models import GridNode
    from ..modules import is_enabled

    registry = current_app.extensions["wangge"].registry
    periodic = next((p for p in registry.periodic if p.name == name), None)
    if periodic is None:
        raise KeyError(f"No periodic task {name!r} is declared")
    if slot is None:
        slot = clock.utcnow()
    if isinstance(slot, str):
        slot = dt.datetime.fromisoformat(slot)
    slot = slot.replace(second=0, microsecond=0, tzinfo=None)
    if not claim_slot(name, slot):
        log.info("periodic %s at %s: claimed by another consumer, skipped", name, slot)
        return "skipped"
    failures = 0
    if periodic.per_community:
        roots = select(GridNode.id).where(GridNode.parent_id.is_(None))
        ids = list(db.session.scalars(select(GridNode.id).where(GridNode.parent_id.in_(roots)).order_by(GridNode.id)))
        calls = [(cid,) for cid in ids if is_enabled(periodic.module, cid)]
    else:
        calls = [()]
    for args in calls:
        try:
            periodic.func(*args)
            db.session.commit()
        except Exception:  # noqa: BLE001 - one community's failure does not stop the others
            db.session.rollback()
            failures += 1
            log.exception("periodic %s failed for %s", name, args or "the district")
    with db.engine.begin() as conn:
        conn.execute(update(PeriodicRun.__table__)
                     .where(PeriodicRun.task == name, PeriodicRun.slot == slot)
                     .values(finished_at=clock.utcnow()))
    return "failed" if failures else "done"


@click.command("worker")
@click.option("--workers", type=int, default=None, help="Threads running jobs (JOBS_WORKERS, 2).")
@click.option("--periodic/--no-periodic", default=True, show_default=True,
              help="Also send the periodic tasks (safe on every host: each run is claimed once).")
@with_appcontext
def worker_command(workers, periodic):
    """Run a job consumer: background jobs and periodic tasks."""
    state = current_app.extensions["wangge_jobs"]
    if state.backend == "immediate":
        raise click.ClickException("JOBS_IMMEDIATE is set: jobs run in the web process, there is nothing to consume.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    swept = sweep_stale()
    if swept:
        log.warning("%s job(s) of a consumer that stopped were marked failed", swept)
    click.echo(f"Consumer {worker_id()} on the {state.backend} queue {current_app.config['JOBS_QUEUE_NAME']!r}")
    consumer = state.huey.create_consumer(
        workers=workers or int(current_app.config["JOBS_WORKERS"]),
        worker_type="thread",
        periodic=periodic,
        check_worker_health=True,
        # How long an idle worker waits before looking at the queue again.
        max_delay=float(current_app.config["JOBS_MAX_DELAY"]),
    )
    consumer.run()
