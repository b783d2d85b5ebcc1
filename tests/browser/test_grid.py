"""The grid tree in a real browser: expand district → zone, and B covering A."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from core.extensions import db
from core.models import Leave
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, assign_post, build_tree, make_user


@pytest.fixture
def district(live_server):
    tree = build_tree()
    make_user("boss", "district_admin", tree.district, display_name="区管理员")
    a = make_user("wa", "grid_worker", tree.estates[0], display_name="王甲")
    b = make_user("wb", "grid_worker", tree.estates[1], display_name="李乙")
    assign_post(tree.estates[0], a, b)
    assign_post(tree.estates[1], b, a)
    return tree, a, b


def expand(page, code):
    """Open a branch by its arrow (not its link) and wait for HTMX to fill it."""
    summary = page.locator(f'li[data-code="{code}"] > details > summary')
    summary.click(position={"x": 6, "y": 12})
    page.wait_for_selector(f'li[data-code="{code}"] > details[open] > ul > li.tree-item')


def test_expand_the_tree_from_the_district_down_to_a_zone(live_server, page, district):
    tree, _a, _b = district
    sign_in(page, live_server.base_url, "boss", PASSWORD)
    page.goto(f"{live_server.base_url}/grid/")
    # The district is open with its communities.
    assert page.locator(f'li[data-code="{tree.communities[0].code}"]').is_visible()
    expand(page, tree.communities[0].code)
    expand(page, tree.estates[0].code)
    expand(page, tree.buildings[0].code)
    zone = page.locator(f'li[data-code="{tree.zones[0].code}"] a')
    assert zone.is_visible() and zone.inner_text() == tree.zones[0].name
    zone.click()
    page.wait_for_url(f"**/grid/node/{tree.zones[0].id}")
    crumbs = page.locator("nav.crumbs").inner_text()
    for n in (tree.district, tree.communities[0], tree.estates[0], tree.buildings[0]):
        assert n.name in crumbs
    assert page.console_errors == []


def test_search_as_you_type_finds_an_estate(live_server, page, district):
    tree, _a, _b = district
    sign_in(page, live_server.base_url, "boss", PASSWORD)
    page.goto(f"{live_server.base_url}/grid/")
    page.fill("#tree-q", "2号小区")
    page.wait_for_selector("#search-results li a")
    assert tree.estates[1].name in page.locator("#search-results").inner_text()


def test_b_covers_as_grid_during_as_leave(live_server, browser, district):
    tree, a, b = district
    today = clock.today()
    db.session.add(Leave(user_id=a.id, start_date=today - dt.timedelta(days=1), end_date=today + dt.timedelta(days=3), reason="年休假"))
    db.session.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    phone = context.new_page()
    try:
        # The community's page says who covers today: B, for A's estate.
        sign_in(phone, live_server.base_url, "boss", PASSWORD)
        phone.goto(f"{live_server.base_url}/grid/node/{tree.communities[0].id}/coverage")
        row = phone.locator(f'tr[data-code="{tree.estates[0].code}"]')
        assert "state-b" in row.get_attribute("class")
        assert "李乙" in row.locator("td.covering").inner_text()
        # B, signed in on a phone, sees A's estate among their grids and can open it.
        context.clear_cookies()
        sign_in(phone, live_server.base_url, "wb", PASSWORD)
        phone.goto(f"{live_server.base_url}/grid/coverage")
        assert tree.estates[0].name in phone.locator("table.coverage").inner_text()
        phone.goto(f"{live_server.base_url}/grid/node/{tree.estates[0].id}")
        assert "李乙" in phone.locator("section.staff .covering").inner_text()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    finally:
        context.close()
