"""A user's own objects (notifications, background jobs) hang on no grid node:
their routes are gated by owner, not by core.access (see the exemptions in
tests/contract/test_routes_anchored.py). For each such route, another user —
even one with a wider scope — gets a 404 and nothing changes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import jobs
from core.extensions import db
from core.i18n import N_
from core.jobs import Job, JobFailed
from core.models import AuditLog
from core.notify import Notification, notify
from core.plugins import Task
from core.reminders import LEAVE_STARTS
from tests import factories
from tests.core.conftest import sign_in
from tests.core.fakes import module_plugin

PARAMS = {"worker": "王甲", "start": "2026-03-02", "end": "2026-03-04", "grid": "一号小区"}


def _refuse(job):
    raise JobFailed(N_("Failed: %(title)s"), title="X")


def _with_file(job):
    job.save_file(b"col\n1\n", "result.csv")
    return {"rows": 1}


def _audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditLog))


@pytest.fixture
def people(fake_app):
    app = fake_app(module_plugin("ownbench", wangge_tasks=lambda: [
        Task("ownbench.refuse", _refuse, "Refuse"),
        Task("ownbench.file", _with_file, "File"),
    ]))
    t = factories.build_tree()
    me = factories.make_user("me", "grid_worker", t.estates[0])
    # A stranger with a scope over the owner's node: scope does not open owned objects.
    factories.make_user("boss", "community_admin", t.communities[0])
    return app, me


def test_someone_else_s_notification_is_a_404_and_stays_unread(people):
    app, me = people
    notify("core.leave_cover", LEAVE_STARTS, PARAMS, users=[me])
    db.session.commit()
    note_id = db.session.scalar(select(Notification.id).where(Notification.user_id == me.id))
    stranger = sign_in(app.test_client(), "boss")
    for url in (f"/inbox/{note_id}/read", f"/inbox/{note_id}/open"):
        assert stranger.post(url).status_code == 404, url
    db.session.expire_all()
    assert db.session.get(Notification, note_id).read_at is None


def test_someone_else_s_job_is_a_404_and_stays_as_it_was(people):
    app, me = people
    failed = jobs.start("ownbench.refuse", user_id=me.id)
    done = jobs.start("ownbench.file", user_id=me.id)
    assert (failed.state, done.state) == ("failed", "done")
    stranger = sign_in(app.test_client(), "boss")
    before = (failed.attempts, _audit_count())  # after the sign-in (which is audited)
    assert stranger.get(f"/jobs/{failed.id}").status_code == 404
    assert stranger.post(f"/jobs/{failed.id}/retry").status_code == 404
    assert stranger.get(f"/jobs/{done.id}/file").status_code == 404
    db.session.expire_all()
    job = db.session.get(Job, failed.id)
    assert (job.state, job.attempts, _audit_count()) == ("failed", *before)
    # The owner still can (the 404 above is not a broken route).
    assert sign_in(app.test_client(), "me").get(f"/jobs/{done.id}/file").status_code == 200
