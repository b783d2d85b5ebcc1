"""A plugin for the tests that run real consumer processes
(tests/core/test_jobs_consumer.py): a slow task that reads, then writes in
one transaction, and a periodic task that notifies a user every minute."""

from __future__ import annotations

import time

from sqlalchemy import select

from core.extensions import db
from core.hookspecs import hookimpl
from core.models import Organisation, User
from core.plugins import Module, NotificationKind, Periodic, Task


@hookimpl
def wangge_module():
    return Module("jobtest", "Job test")


def slow(job, steps=3, writes=3, pause=0.05):
    total = steps + writes
    for i in range(steps):
        job.progress(i + 1, total, message="reading")
        time.sleep(pause)
    job.progress(steps, total, message="writing")
    for i in range(writes):
        db.session.add(Organisation(name=f"jobtest-{i}", kind="department"))
        db.session.flush()
        job.progress(steps + i + 1, total)
        time.sleep(pause)
    return {"written": writes}


def ping():
    user_id = db.session.scalar(select(User.id).where(User.username == "pinged"))
    if user_id is not None:
        from core.notify import notify

        # No key on purpose: only the claim of the minute keeps it single.
        notify("jobtest.ping", "ping", users=[user_id])


@hookimpl
def wangge_tasks():
    return [Task("jobtest.slow", slow, "Slow job")]


@hookimpl
def wangge_periodic_tasks():
    return [Periodic("jobtest.ping", ping, schedule={}, per_community=False)]


@hookimpl
def wangge_notification_kinds():
    return [NotificationKind("jobtest.ping", "Ping")]
