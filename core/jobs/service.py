"""Starting and retrying jobs (the web side of the queue)."""

from __future__ import annotations

import json

from flask import current_app, has_request_context
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..i18n import N_
from .models import Job


def registry():
    return current_app.extensions["wangge"].registry


def _enqueue(job_id: int) -> None:
    # Only after the commit: a consumer must find the row it is sent.
    current_app.extensions["wangge_jobs"].run_job(job_id)


def start(task_name: str, params: dict | None = None, title=None, community_id: int | None = None,
          user_id: int | None = None) -> Job:
    """Queue the declared task `task_name` to run `func(job, **params)` in a consumer.

    Commits the session (the new job row and whatever the caller added
    before), then sends the job to the queue. `params` must be JSON (ids,
    text, stored file names — not model objects). `user_id` defaults to the
    signed-in user, who sees the job under "My jobs". With JOBS_IMMEDIATE
    (tests) the task has run when this returns. Returns the job row.
    """
    task = registry().tasks.get(task_name)
    if task is None:
        raise KeyError(f"No task {task_name!r} is declared (wangge_tasks)")
    params = dict(params or {})
    json.dumps(params)  # a TypeError here, not in the consumer
    if user_id is None and has_request_context() and current_user.is_authenticated:
        user_id = current_user.id
    job = Job(
        task=task_name,
        title=str(title or task.title or task_name)[:200],
        module=task.module or "core",
        state="queued",
        params=params,
        user_id=user_id,
        community_id=community_id,
    )
    db.session.add(job)
    db.session.flush()
    job_id = job.id
    db.session.commit()  # expires `job`: read again below, after the run in immediate mode
    _enqueue(job_id)
    return db.session.get(Job, job_id)


def retry(job: Job) -> Job:
    """Queue a failed job again (same task and params); returns it."""
    if job.state != "failed":
        raise ValueError("Only a failed job can be retried")
    job.state = "queued"
    job.error = job.error_params = job.result = job.finished_at = job.message = None
    job.done = 0
    job_id = job.id
    db.session.commit()
    _enqueue(job_id)
    return db.session.get(Job, job_id)


def job_finished(job_id: int) -> None:
    """Tell the starter that their job ended (in the job's own transaction)."""
    from ..notify import notify

    row = db.session.execute(
        select(Job.user_id, Job.title, Job.state, Job.attempts).where(Job.id == job_id)
    ).first()
    if row is None or row.user_id is None:
        return
    done = row.state == "done"
    message = N_("Finished: %(title)s") if done else N_("Failed: %(title)s")
    notify(
        "core.job_finished",
        message,
        {"title": row.title},
        users=[row.user_id],
        link=("jobs.detail", {"job_id": job_id}),
        about=("job", job_id),
        key=f"job:{job_id}:{row.attempts}",
    )


def clean_old_files() -> int:
    """Delete the files of jobs that ended more than JOBS_KEEP_DAYS ago (their
    uploads and result files; the job rows stay). Returns how many files."""
    import datetime as dt

    from .. import clock
    from ..uploads import upload_root

    cutoff = clock.utcnow() - dt.timedelta(days=int(current_app.config["JOBS_KEEP_DAYS"]))
    root = upload_root().resolve()
    removed, last_id = 0, 0
    while True:
        batch = list(db.session.scalars(
            select(Job).where(Job.finished_at < cutoff, Job.id > last_id).order_by(Job.id).limit(200)))
        if not batch:
            return removed
        for job in batch:
            last_id = job.id
            names = [n for n in ((job.result or {}).get("file"), (job.params or {}).get("file")) if isinstance(n, str)]
            for name in names:
                path = (root / name).resolve()
                if root in path.parents and path.is_file():
                    path.unlink()
                    removed += 1
            if job.result and job.result.get("file"):
                job.result = {k: v for k, v in job.result.items() if k not in ("file", "filename")}
        db.session.commit()
