"""A Party member's duty on a 390×844 phone: sign up for a shift at a station
near their grid, check in by opening the station's QR link, the organiser
marks the shift worked, the member's hours appear in their records."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from core import clock
from core.extensions import db
from plugins.stations.services import shifts as svc
from plugins.stations.services import stations as station_svc
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def _page(browser, phone):
    if phone:
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    else:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = ctx.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("dialog", lambda d: d.accept())
    return ctx, pg


def test_member_signs_up_checks_in_by_qr_and_sees_the_hours(live_server, browser):
    tree = factories.build_tree()
    factories.make_user("pm1", "member", tree.estates[0], display_name="党员小李")
    factories.make_user("comm1", "community_admin", tree.communities[0], display_name="社区书记")
    dept = factories.make_org("区住建局", "department")
    station = station_svc.create_station(tree.estates[0], name="锦绣先锋驿站", cutoff_hours=0)
    station_svc.add_claim(station, dept, liaison_name="张联络")
    start = (clock.now() + dt.timedelta(minutes=10)).replace(second=0, microsecond=0)
    end = start + dt.timedelta(hours=2)
    svc.add_shift(station, start.date(), start.time(), end.time(), role="便民服务", needed=2)
    db.session.commit()
    base = live_server.base_url

    phone_ctx, phone = _page(browser, phone=True)
    desk_ctx, desk = _page(browser, phone=False)
    try:
        # 1. On the phone: open shifts near the member's grid, sign up.
        sign_in(phone, base, "pm1", factories.PASSWORD)
        phone.goto(f"{base}/stations/my")
        card = phone.locator("#open-shifts .shift-card", has_text="锦绣先锋驿站")
        expect(card).to_contain_text("已报 0 / 需 2")
        card.get_by_role("button", name="报名").click()
        expect(phone.locator(".flash-success")).to_contain_text("报名成功")
        expect(phone.locator(".shift-card").first).to_contain_text("锦绣先锋驿站")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390

        # 2. The organiser's printable QR page gives the check-in link; the member opens it.
        sign_in(desk, base, "comm1", factories.PASSWORD)
        desk.goto(f"{base}/stations/{station.id}/qr")
        expect(desk.locator("img.qr-code")).to_be_visible()
        link = desk.locator(".qr-url small").inner_text()
        phone.goto(link)
        expect(phone.locator(".flash-success")).to_contain_text("签到成功")

        # 3. Twenty minutes later the shift has started: the organiser marks it worked.
        clock.freeze(clock.utcnow() + dt.timedelta(minutes=20))
        desk.goto(f"{base}/stations/{station.id}/checkins")
        row = desk.locator("tr", has_text="党员小李")
        expect(row).not_to_contain_text("未签到")
        row.get_by_role("button", name="已值班").click()
        expect(desk.locator(".flash-success")).to_contain_text("党员小李")

        # 4. The member's hours appear in their records.
        phone.goto(f"{base}/stations/my/records")
        expect(phone.locator(".records-total")).to_contain_text("2.0")
        expect(phone.locator("table")).to_contain_text("由社区书记标记已值班")
        assert phone.console_errors == [] and desk.console_errors == []
    finally:
        clock.unfreeze()
        phone_ctx.close()
        desk_ctx.close()
