"""Background jobs and periodic tasks: the core's task queue.

Built on huey (https://huey.readthedocs.io): maintained, small, and it has
what Wangge needs without extra services — an SQLite store (a file under
instance/, the embedded default: `make run` needs nothing else), a Redis
store when `WANGGE_REDIS_URL` is set (consumers on several hosts share it),
periodic tasks on crontab schedules, and an immediate mode for tests. Celery
would need a broker even on one machine; RQ has no embedded store and no
scheduler of its own.

Huey carries messages only. What users see lives in the database: a `Job`
row per run (queued → running → done | failed, progress, result, the reason
of a failure in the reader's language, who started it, for which community).
The web process never runs a task itself (no threads in it): `start()`
commits the row, then puts the job id on the queue; a consumer
(`flask --app wsgi worker`) claims the row with a conditional UPDATE, runs
the task inside an app context made by `create_app()` (and a request signed
in as the starter, so the access layer applies their scope), and commits the
task's writes together with the outcome — all or nothing. A consumer that
dies (kill -9, a machine restart) leaves a job whose heartbeat stops; it is
then shown and stored as failed ("the worker stopped") and can be retried.

Periodic tasks run on every consumer's scheduler; each run claims its
(task, minute) with an INSERT into a unique-keyed table, so with two
consumers on two hosts it is sent once.

The API for plugins::

    from core import jobs
    job = jobs.start("affairs.import_residents", params={"file": stored},
                     title=_("Import residents"), community_id=cid)
    return redirect(url_for("jobs.detail", job_id=job.id))

Tasks and periodic tasks are declared with the hooks `wangge_tasks` and
`wangge_periodic_tasks` (core.plugins.Task, core.plugins.Periodic).
"""

from __future__ import annotations

from .models import STATES, Job, PeriodicRun
from .queue import build_queue, claim_slot, run_periodic, worker_command
from .runner import JobFailed, JobHandle, run_job, sweep_stale
from .service import retry, start

__all__ = [
    "STATES",
    "Job",
    "JobFailed",
    "JobHandle",
    "PeriodicRun",
    "build_queue",
    "claim_slot",
    "init_app",
    "retry",
    "run_job",
    "run_periodic",
    "start",
    "sweep_stale",
    "worker_command",
]


def init_app(app) -> None:
    """Build the app's queue (after the registry: it registers the periodic tasks)."""
    registry = app.extensions["wangge"].registry
    app.extensions["wangge_jobs"] = build_queue(app, registry)
    app.cli.add_command(worker_command)
