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
