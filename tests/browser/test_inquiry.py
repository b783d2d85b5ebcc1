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


def test_problem_page_and_node_panel_on_a_phone_and_a_desktop(live_server, browser, tmp_path):
    """The problem page fits a 390 px phone and a desktop without console
    errors; the node page loads the inquiry panel through HTMX."""
    import os

    from plugins.inquiry import services as svc

    tree = factories.build_tree()
    power = factories.make_org("国网湾沚供电公司", "department")
    admin = factories.make_user("comm1", "community_admin", tree.communities[0], display_name="社区书记")
    p = svc.create_problem(node=tree.zones[2], description="2栋楼道灯全部不亮，老人晚上上下楼不安全" * 3, channel="staff",
                           address="2栋1单元", reporter_name="张三", reporter_phone="13912345678", user=admin)
    cat = {c.code: c for c in svc.ensure_categories()}["power"]
    svc.verify(p, admin, category=cat, unit=power, priority="urgent", deadline_days=5)
    sheet = svc.create_sheet(admin, tree.communities[0])
    svc.add_to_sheet(sheet, p, admin)
    svc.issue_sheet(sheet, admin)
    db.session.commit()
    shots = os.environ.get("WANGGE_SCREENSHOTS") or str(tmp_path)
    base = live_server.base_url
    for phone in (True, False):
        ctx = _context(browser, phone=phone)
        pg = _page(ctx)
        sign_in(pg, base, "comm1", factories.PASSWORD)
        pg.goto(f"{base}/inquiry/p/{p.id}")
        assert p.ref in pg.inner_text("h1")
        assert "139****5678" in pg.content() and "13912345678" not in pg.content()
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= (390 if phone else 1280), width
        pg.screenshot(path=f"{shots}/inquiry-problem-{'phone' if phone else 'desktop'}.png", full_page=True)
        pg.goto(f"{base}/grid/node/{tree.estates[0].id}")
        expect(pg.get_by_text(p.ref)).to_be_visible()
        assert not pg.console_errors, pg.console_errors
        ctx.close()
