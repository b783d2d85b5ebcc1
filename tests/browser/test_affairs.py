"""A grid worker on a phone records a visit in a few taps and sees the count rise."""

from __future__ import annotations

import pytest

from core.extensions import db
from tests import factories
from tests.browser.conftest import sign_in
from tests.conftest import served


@pytest.fixture
def affairs_server(app_factory):
    """The app with the grid affairs module only (other modules may be half-built)."""
    app = app_factory(SERVER_NAME=None, WTF_CSRF_ENABLED=True, PLUGINS=["affairs"], LOAD_ENTRY_POINTS=False)
    with served(app):
        yield app


def test_grid_worker_records_a_visit_on_a_phone(affairs_server, phone):
    from tests.plugins.affairs.conftest import add_house, add_resident

    t = factories.build_tree()
    worker = factories.make_user("wk", "grid_worker", t.estates[0], display_name="网格员小王")
    factories.assign_post(t.estates[0], a_user=worker)
    add_resident(add_house(t.zones[0], "101"), "周阿婆", 21, birth="19400303")
    add_resident(add_house(t.zones[1], "102"), "吴大爷", 23, birth="19420404")
    db.session.commit()
    base = affairs_server.base_url

    sign_in(phone, base, "wk", factories.PASSWORD)
    phone.goto(f"{base}/affairs/visits/new")
    assert phone.get_by_test_id("my-week").inner_text().replace(" ", "") == "本周：0/3"
    phone.fill("#target-q", "周阿")
    phone.get_by_text("周阿婆").wait_for()
    phone.get_by_text("周阿婆").click()
    phone.get_by_text("意见", exact=True).click()
    phone.fill("#notes", "希望楼下加装扶手")
    phone.get_by_role("button", name="保存走访").click()
    phone.get_by_text("走访已保存。").wait_for()
    assert phone.get_by_test_id("my-week").inner_text().replace(" ", "") == "本周：1/3"
    # The compliance page counts it too.
    phone.goto(f"{base}/affairs/compliance")
    assert phone.get_by_test_id("visits-wk").inner_text() == "1"
    # Nothing overflows the phone's width.
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert not phone.console_errors


def test_two_people_edit_one_resident_on_phones_the_second_sees_what_changed(affairs_server, phone, browser, tmp_path):
    """The community office and the grid worker open the same resident; the
    office saves first; the worker's save is refused with the change named,
    and what the worker typed is still in the form."""
    import os

    from tests.plugins.affairs.conftest import add_house, add_resident

    t = factories.build_tree()
    factories.make_user("office", "community_admin", t.communities[0], display_name="社区办")
    worker = factories.make_user("wk", "grid_worker", t.estates[0], display_name="网格员小王")
    factories.assign_post(t.estates[0], a_user=worker)
    r = add_resident(add_house(t.zones[0], "101"), "周阿婆", 21, birth="19400303")
    db.session.commit()
    base, url = affairs_server.base_url, f"{affairs_server.base_url}/affairs/residents/{r.id}"

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    office = context.new_page()
    try:
        sign_in(office, base, "office", factories.PASSWORD)
        sign_in(phone, base, "wk", factories.PASSWORD)
        office.goto(url)
        phone.goto(url)
        office.locator("details.card summary").first.click()
        office.fill("#name", "周阿婆婆")
        office.get_by_role("button", name="保存").first.click()
        office.get_by_text("修改已保存。").wait_for()
        phone.locator("details.card summary").first.click()
        phone.fill("#notes", "独居，腿脚不便")
        phone.get_by_role("button", name="保存").first.click()
        message = phone.get_by_text("其他人已保存了这条记录", exact=False)
        message.wait_for()
        assert "周阿婆 → 周阿婆婆" in message.inner_text()
        assert phone.input_value("#notes") == "独居，腿脚不便"  # what the worker typed stays
        assert phone.input_value("#name") == "周阿婆婆"  # the office's change is shown, not overwritten
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        shot = os.environ.get("AFFAIRS_SCREENSHOT") or str(tmp_path / "edit-conflict.png")
        phone.screenshot(path=shot, full_page=False)
    finally:
        context.close()
