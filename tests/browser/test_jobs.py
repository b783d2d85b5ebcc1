"""My jobs and the inbox in a real browser (a phone): a job's page follows
its progress without reloading, and the unread count in the header refreshes
when told and after marking a notification read."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core import clock
from core.extensions import db
from core.jobs import Job
from core.notify import notify
from core.reminders import LEAVE_STARTS
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def worker(live_server):
    t = factories.build_tree()
    return factories.make_user("gw", "grid_worker", t.estates[0], display_name="网格员")


def test_a_job_page_follows_progress_until_done(live_server, phone, worker):
    job = Job(task="core.grid_import", title="导入测试", state="running", user_id=worker.id, attempts=1, done=3,
              total=10, started_at=clock.utcnow(), heartbeat_at=clock.utcnow())
    db.session.add(job)
    db.session.commit()
    sign_in(phone, live_server.base_url, "gw", factories.PASSWORD)
    phone.goto(f"{live_server.base_url}/jobs/{job.id}")
    assert phone.locator("#job-status progress").get_attribute("value") == "3"
    job.done = 7
    db.session.commit()
    expect(phone.locator("#job-status progress")).to_have_attribute("value", "7", timeout=8000)
    job.state, job.done, job.finished_at = "done", 10, clock.utcnow()
    db.session.commit()
    phone.wait_for_selector('#job-status[data-state="done"]', timeout=8000)
    assert phone.url.endswith(f"/jobs/{job.id}")  # no navigation: the fragment was swapped in
    assert phone.console_errors == []


def test_the_unread_count_refreshes_without_reloading(live_server, phone, worker):
    sign_in(phone, live_server.base_url, "gw", factories.PASSWORD)
    assert phone.locator("#inbox-badge .inbox-count").count() == 0
    notify("core.leave_cover", LEAVE_STARTS, {"worker": "王甲", "start": "3月2日", "end": "3月4日", "grid": "一号"},
           users=[worker])
    db.session.commit()
    # What a response with HX-Trigger: wangge-inbox (or the 60 s timer) sets off:
    phone.evaluate("htmx.trigger(document.body, 'wangge-inbox')")
    phone.wait_for_selector('#inbox-badge .inbox-count[data-unread="1"]', timeout=8000)
    phone.click("a.inbox-link")
    phone.wait_for_selector(".note.unread")
    assert "王甲 于 3月2日 至 3月4日 请假" in phone.inner_text(".note.unread .note-text")
    phone.click(".note.unread .note-actions button:has-text('标为已读')")
    phone.wait_for_selector(".note.read", timeout=8000)
    expect(phone.locator("#inbox-badge .inbox-count")).to_have_count(0, timeout=8000)
    assert phone.console_errors == []
