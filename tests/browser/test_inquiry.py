"""The whole Square Inquiry loop in a real browser:
report → triage → issue a sheet → claim → report result → return visit → closed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.extensions import db
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def _context(browser, phone=False):
    if phone:
        return browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    return browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")


def _page(ctx):
    pg = ctx.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("dialog", lambda d: d.accept())
    return pg


def test_the_whole_loop(live_server, browser):
    tree = factories.build_tree()
    power = factories.make_org("国网湾沚供电公司", "department")
    factories.make_user("worker1", "grid_worker", tree.communities[0], display_name="网格员小王")
    factories.make_user("comm1", "community_admin", tree.communities[0], display_name="社区书记")
    factories.make_user("gd1", "handler", tree.district, organisation=power, display_name="供电经办人")
    db.session.commit()
    base = live_server.base_url
    building = tree.buildings[1]

    # 1. A grid worker reports on a phone, choosing the place through the cascading selects.
    ctx = _context(browser, phone=True)
    pg = _page(ctx)
    sign_in(pg, base, "worker1", factories.PASSWORD)
    pg.goto(f"{base}/inquiry/new")
    pg.select_option("#community", str(tree.communities[0].id))
    pg.wait_for_selector(f"#estate option[value='{tree.estates[0].id}']", state="attached")
    pg.select_option("#estate", str(tree.estates[0].id))
    pg.wait_for_selector(f"#building option[value='{building.id}']", state="attached")
    pg.select_option("#building", str(building.id))
    pg.fill("#description", "2栋楼道灯全部不亮，老人晚上上下楼不安全")
    pg.fill("#address", "2栋1单元")
    pg.fill("#reporter_phone", "13912345678")
    pg.click("form.report-form button[type=submit]")
    pg.wait_for_url(re.compile(r"/inquiry/p/\d+$"))
    problem_url = pg.url
    assert "待分拣" in pg.inner_text(".head-tags")
    assert not pg.console_errors, pg.console_errors
    ctx.close()

    # 2. Community staff triage it, put it on a new sheet and issue the sheet.
    ctx = _context(browser)
    pg = _page(ctx)
    sign_in(pg, base, "comm1", factories.PASSWORD)
    pg.goto(problem_url)
    power_cat = pg.locator("#category_id option", has_text="供电照明").get_attribute("value")
    pg.select_option("#category_id", power_cat)
    pg.select_option("#unit_id", str(power.id))
    pg.fill("#deadline_days", "5")
    pg.click("form[action$='/verify'] button[type=submit]")
    expect(pg.locator(".head-tags")).to_contain_text("已分拣")
    pg.select_option("#sheet_id", "new")
    pg.click("form[action$='/sheet'] button[type=submit]")
    expect(pg.locator("a:has-text('打开交办单')")).to_be_visible()
    pg.click("a:has-text('打开交办单')")
    pg.wait_for_url(re.compile(r"/inquiry/sheets/\d+$"))
    assert "第 1 期 问题交办单" in pg.inner_text("h1")
    pg.click("form[action$='/issue'] button[type=submit]")
    expect(pg.locator(".head-tags")).to_contain_text("下发")
    assert not pg.console_errors, pg.console_errors
    ctx.close()

    # 3. The power company's handler signs for it and reports the result.
    ctx = _context(browser, phone=True)
    pg = _page(ctx)
    sign_in(pg, base, "gd1", factories.PASSWORD)
    pg.goto(f"{base}/inquiry/unit")
    pg.click(".problem-card a")
    pg.wait_for_url(re.compile(r"/inquiry/p/\d+$"))
    assert "139****5678" in pg.inner_text(".facts")
    pg.click("form[action$='/claim'] button[type=submit]")
    expect(pg.locator(".head-tags")).to_contain_text("办理中")
    pg.fill("#result_text", "已更换 2 栋全部楼道灯 6 盏")
    pg.click("form[action$='/result'] button[type=submit]")
    expect(pg.locator(".head-tags")).to_contain_text("待回访")
    assert not pg.console_errors, pg.console_errors
    ctx.close()

    # 4. The grid worker visits the reporter again: satisfied, the problem is closed out.
    ctx = _context(browser)
    pg = _page(ctx)
    sign_in(pg, base, "worker1", factories.PASSWORD)
    pg.goto(problem_url)
    pg.check("input[name=outcome][value=satisfied]")
    pg.fill("#note", "居民表示满意")
    pg.click("form[action$='/visit'] button[type=submit]")
    expect(pg.locator(".head-tags")).to_contain_text("已销号")
    timeline = pg.inner_text(".timeline")
    for step in ("上报", "核实分拣", "单位签收", "反馈办理结果", "回访后销号"):
        assert step in timeline
    assert not pg.console_errors, pg.console_errors
    ctx.close()
