"""Notifications: recipients by user and by role on a node, de-duplication in
the database (also under a race), the reader's language, the inbox pages,
the unread count in the header, and the leave reminders of A/B posts."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from core import clock
from core.extensions import db
from core.jobs import run_periodic
from core.models import Leave
from core.notify import Notification, notify, unread_count
from core.reminders import LEAVE_ENDS, LEAVE_STARTS
from tests.core.conftest import sign_in
from tests.factories import assign_post, make_user

MSG = LEAVE_STARTS
PARAMS = {"worker": "王甲", "start": "2026-03-02", "end": "2026-03-04", "grid": "一号小区"}


def count(**where) -> int:
    stmt = select(func.count()).select_from(Notification)
    for k, v in where.items():
        stmt = stmt.where(getattr(Notification, k) == v)
    return db.session.scalar(stmt)


def test_role_holders_on_the_node_and_its_ancestors_receive_it(app, tree):
    ca = make_user("ca", "community_admin", tree.communities[0])
    other_ca = make_user("ca2", "community_admin", tree.communities[1])
    gw = make_user("gw", "grid_worker", tree.estates[0])
    assert notify("core.leave_cover", MSG, PARAMS, role=("community_admin", "grid_worker"), node=tree.zones[0]) == 2
    db.session.commit()
    assert {n.user_id for n in db.session.scalars(select(Notification))} == {ca.id, gw.id}
    assert count(user_id=other_ca.id) == 0
    # Users named directly, by id or object, together with a role.
    assert notify("core.leave_cover", MSG, PARAMS, users=[other_ca, gw.id], role="community_admin",
                  node=tree.zones[0].id) == 3


def test_a_key_de_duplicates_per_user_and_kind(app, tree):
    gw = make_user("gw", "grid_worker", tree.estates[0])
    assert notify("core.leave_cover", MSG, PARAMS, users=[gw], key="leave:1") == 1
    assert notify("core.leave_cover", MSG, PARAMS, users=[gw], key="leave:1") == 0
    assert notify("core.leave_cover", MSG, PARAMS, users=[gw], key="leave:2") == 1
    assert notify("core.job_finished", MSG, PARAMS, users=[gw], key="leave:1") == 1  # another kind
    assert notify("core.leave_cover", MSG, PARAMS, users=[gw]) == 1  # no key: always
    db.session.commit()
    assert count(user_id=gw.id) == 4


def test_the_same_event_sent_at_once_by_two_processes_is_stored_once(app, tree):
    gw_id = make_user("gw", "grid_worker", tree.estates[0]).id  # read here: the threads have sessions of their own
    barrier = threading.Barrier(4)
    results, errors = [], []

    def send():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(notify("core.leave_cover", MSG, PARAMS, users=[gw_id], key="race"))
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    assert errors == [] and sorted(results) == [0, 0, 0, 1]
    db.session.rollback()
    assert count(user_id=gw_id, key="race") == 1


def test_the_text_is_rendered_in_each_reader_s_language(app, tree):
    zh = make_user("zh", "grid_worker", tree.estates[0])
    en = make_user("en", "grid_worker", tree.estates[0])
    notify("core.leave_cover", MSG, PARAMS, users=[zh, en])
    db.session.commit()
    zh_client = sign_in(app.test_client(), "zh")
    assert "王甲 于 2026-03-02 至 2026-03-04 请假:由您作为B岗顶岗网格 一号小区。" in zh_client.get("/inbox/").get_data(as_text=True)
    en_client = sign_in(app.test_client(), "en")
    en_client.post("/locale", data={"locale": "en"})
    page = en_client.get("/inbox/").get_data(as_text=True)
    assert "王甲 is on leave from 2026-03-02 to 2026-03-04: you cover the grid 一号小区 as B-post." in page


def test_a_message_whose_params_do_not_fit_shows_rather_than_fails(app, tree):
    gw = make_user("gw", "grid_worker", tree.estates[0])
    notify("core.leave_cover", MSG, {"worker": "王甲"}, users=[gw])
    db.session.commit()
    assert sign_in(app.test_client(), "gw").get("/inbox/").status_code == 200


def test_inbox_mark_read_mark_all_read_and_the_unread_count(app, tree):
    gw = make_user("gw", "grid_worker", tree.estates[0])
    other = make_user("other", "grid_worker", tree.estates[1])
    for i in range(3):
        notify("core.leave_cover", MSG, PARAMS, users=[gw], link=("grid.node", {"node_id": tree.estates[0].id}),
               key=f"k{i}")
    notify("core.leave_cover", MSG, PARAMS, users=[other])
    db.session.commit()
    client = sign_in(app.test_client(), "gw")
    page = client.get("/").get_data(as_text=True)
    assert 'class="inbox-count" data-unread="3"' in page  # in the header of every page
    assert 'hx-get="/inbox/count"' in page and "every 60s" in page
    badge = client.get("/inbox/count", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert badge.startswith('<span class="inbox-count" data-unread="3"')
    first = db.session.scalars(select(Notification).where(Notification.user_id == gw.id).order_by(Notification.id)).first()
    mine = client.post(f"/inbox/{first.id}/read", headers={"HX-Request": "true"})
    assert mine.headers["HX-Trigger"] == "wangge-inbox" and 'class="note read level-info"' in mine.get_data(as_text=True)
    assert unread_count(gw.id) == 2
    # Open: marked read, and off to what it is about.
    second = db.session.scalars(select(Notification).where(Notification.user_id == gw.id).order_by(Notification.id)).all()[1]
    resp = client.post(f"/inbox/{second.id}/open")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/grid/node/{tree.estates[0].id}")
    # Someone else's notification is a 404.
    theirs = db.session.scalar(select(Notification.id).where(Notification.user_id == other.id))
    assert client.post(f"/inbox/{theirs}/read").status_code == 404
    client.post("/inbox/read-all")
    assert unread_count(gw.id) == 0 and unread_count(other.id) == 1
    assert "inbox-count" not in client.get("/").get_data(as_text=True).split('id="inbox-badge"', 1)[1].split("</span></a>", 1)[0]


def test_a_kind_of_a_module_off_in_the_node_s_community_sends_nothing(fake_app):
    from core.modules import set_enabled
    from core.plugins import NotificationKind
    from tests import factories
    from tests.core.fakes import module_plugin

    fake_app(module_plugin("alerts", wangge_notification_kinds=lambda: [NotificationKind("alerts.x", "X")]))
    t = factories.build_tree()
    make_user("ca", "community_admin", t.communities[0])
    set_enabled(t.communities[0].id, "alerts", False, None)
    db.session.commit()
    assert notify("alerts.x", "x", role="community_admin", node=t.zones[0]) == 0
    set_enabled(t.communities[0].id, "alerts", True, None)
    db.session.commit()
    assert notify("alerts.x", "x", role="community_admin", node=t.zones[0]) == 1


def test_role_without_a_node_is_a_programming_error(app, tree):
    with pytest.raises(ValueError):
        notify("core.leave_cover", MSG, role="community_admin")


# --- the leave reminders of A/B posts -------------------------------------------------


@pytest.fixture
def posts(tree):
    a = make_user("wa", "grid_worker", tree.estates[0], display_name="王甲")
    b = make_user("wb", "grid_worker", tree.estates[1], display_name="李乙")
    assign_post(tree.estates[0], a, b)
    db.session.add(Leave(user_id=a.id, start_date=dt.date(2026, 3, 2), end_date=dt.date(2026, 3, 4), reason="年休假"))
    db.session.commit()
    return a, b


def run_day(day_utc: str) -> None:
    with clock.frozen(day_utc):
        run_periodic("core.leave_cover", clock.utcnow())


def test_the_b_post_is_told_when_the_leave_starts_and_when_it_ends_once_each(app, tree, posts):
    a, b = posts
    run_day("2026-03-01 12:00")  # 1 March in Beijing: not yet
    assert count(user_id=b.id) == 0
    run_day("2026-03-01 23:00")  # 07:00 on 2 March in Beijing: the leave starts
    run_day("2026-03-02 23:00")  # 3 March: under way, told already
    assert [n.message for n in db.session.scalars(select(Notification).where(Notification.user_id == b.id))] == [LEAVE_STARTS]
    run_day("2026-03-03 23:00")  # 4 March: the last day
    run_day("2026-03-03 23:30")  # a second run that day (another slot) sends nothing more
    msgs = [n.message for n in db.session.scalars(select(Notification).where(Notification.user_id == b.id).order_by(Notification.id))]
    assert msgs == [LEAVE_STARTS, LEAVE_ENDS]
    assert count(user_id=a.id) == 0


def test_the_leave_reminder_skips_a_leave_that_ended(app, tree, posts):
    a, b = posts
    run_day("2026-03-05 23:00")
    assert count(user_id=b.id) == 0


def test_a_leave_entered_on_its_first_day_tells_the_b_post_at_once(app, tree, client, login):
    a = make_user("wa", "grid_worker", tree.estates[0], display_name="王甲")
    b = make_user("wb", "grid_worker", tree.estates[1], display_name="李乙")
    assign_post(tree.estates[0], a, b)
    make_user("cadmin", "community_admin", tree.communities[0])
    login("cadmin")
    today = clock.today().isoformat()
    resp = client.post(f"/grid/node/{tree.communities[0].id}/leave",
                       data={"user_id": a.id, "start_date": today, "end_date": today, "reason": "病假"})
    assert resp.status_code == 302
    assert [n.message for n in db.session.scalars(select(Notification).where(Notification.user_id == b.id))] == [
        LEAVE_STARTS, LEAVE_ENDS]
    run_periodic("core.leave_cover")  # the morning run: nothing twice
    assert count(user_id=b.id) == 2
