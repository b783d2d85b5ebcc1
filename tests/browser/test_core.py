"""The core in a real browser: a community admin of two communities switches
the language and back, then switches a module off for one community and sees
its navigation item gone there and still present in the other."""

from __future__ import annotations

import re

import pytest

from core.extensions import db
from core.models import RoleGrant
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

NOTICEBOARD_NAV = 'nav.mainnav a[data-module="noticeboard"]'


@pytest.fixture
def two_communities(live_server):
    if "noticeboard" not in live_server.extensions["wangge"].registry.modules:
        pytest.skip("the example plugin is not installed (pip install -e examples/wangge-noticeboard)")
    t = factories.build_tree()
    user = factories.make_user("ca-both", "community_admin", t.communities[0], display_name="两社区管理员")
    db.session.add(RoleGrant(user_id=user.id, role="community_admin", node_id=t.communities[1].id))
    db.session.commit()
    return t


def choose_in_header(page, community):
    with page.expect_navigation():
        page.select_option("#community-select", str(community.id))
    assert page.locator("#community-select").input_value() == str(community.id)


def test_language_switch_and_module_switch_per_community(live_server, page, two_communities):
    from playwright.sync_api import expect

    base = live_server.base_url
    c1, c2 = two_communities.communities
    sign_in(page, base, "ca-both", factories.PASSWORD)

    # Chinese by default; English on request; and back.
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("nav.mainnav")).to_contain_text("工作台")
    page.click("form.locale-switch button")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("nav.mainnav")).to_contain_text("Dashboard")
    expect(page.locator(NOTICEBOARD_NAV)).to_have_text("Notice board")
    page.click("form.locale-switch button")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator(NOTICEBOARD_NAV)).to_have_text("公告栏")

    # Both communities show the notice board.
    choose_in_header(page, c1)
    expect(page.locator(NOTICEBOARD_NAV)).to_have_count(1)

    # Administration → Modules, for community 1: switch the notice board off (an HTMX toggle).
    page.goto(f"{base}/admin/modules")
    with page.expect_navigation():
        page.select_option("#community", str(c1.id))
    row = page.locator('tr[data-module="noticeboard"]')
    row.locator('button[name="enabled"][value="0"]').click()
    expect(row.locator('button[name="enabled"][value="1"]')).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin/modules"))

    # Gone in community 1 …
    page.goto(f"{base}/")
    choose_in_header(page, c1)
    expect(page.locator(NOTICEBOARD_NAV)).to_have_count(0)
    expect(page.locator('[data-widget="noticeboard.latest"]')).to_have_count(0)
    page.goto(f"{base}/noticeboard/")
    expect(page.locator("main h1")).to_have_text("模块已关闭")
    expect(page.locator("main")).to_contain_text(c1.name)

    # … still there in community 2.
    page.goto(f"{base}/")
    choose_in_header(page, c2)
    expect(page.locator(NOTICEBOARD_NAV)).to_have_count(1)
    page.locator(NOTICEBOARD_NAV).click()
    expect(page.locator("main h1")).to_have_text("公告栏")

    # No Content-Security-Policy violation or script error; the one 404 is the module-off page.
    assert [e for e in page.console_errors if "status of 404" not in e] == []
    assert len(page.console_errors) == 1
