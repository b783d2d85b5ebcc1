"""Five-star evaluation in a real browser, on a phone (390×844): a resident
opens a one-time rating link, rates, and a second attempt is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from core import clock
from core.extensions import db
from plugins.fivestar.services import ratings as ratings_svc
from tests import factories

pytestmark = pytest.mark.browser


def test_a_resident_rates_once_through_a_link_on_a_phone(live_server, browser):
    tree = factories.build_tree()
    member = factories.make_user("m1", "member", tree.zones[0], display_name="张三")
    today = clock.today()
    rnd = ratings_svc.open_round(community_id=tree.communities[0].id, half=f"{today.year}H1",
                                 items=["服务态度", "服务效果"], opens_on=today - dt.timedelta(days=1),
                                 closes_on=today + dt.timedelta(days=10))
    db.session.commit()
    with live_server.test_request_context():
        link = f"{live_server.base_url}/fivestar/rate/{ratings_svc.make_token(rnd, member.id)}"

    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    phone = ctx.new_page()
    errors = []
    phone.on("console", lambda m: errors.append(("phone", m.text, m.location)) if m.type == "error" else None)
    # A second tab holds the same link open, to try again after the first rating.
    other = ctx.new_page()
    other.on("console", lambda m: errors.append(("other", m.text, m.location)) if m.type == "error" else None)
    other.goto(link)

    phone.goto(link)
    expect(phone.locator("h1")).to_contain_text("评价党员的服务")
    expect(phone.locator(".fs-who")).to_contain_text("张三")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    # caret="initial": hiding the caret injects a style, which the CSP (rightly) refuses.
    phone.screenshot(path="/tmp/fivestar-rate-phone.png", full_page=True, caret="initial")
    phone.click("text=提交评价")  # nothing chosen: told next to the items
    expect(phone.locator(".fs-stars .error").first).to_contain_text("请选择1至5颗星")
    phone.locator("fieldset").nth(0).locator("label").nth(0).click()  # 5 stars
    phone.locator("fieldset").nth(1).locator("label").nth(1).click()  # 4 stars
    phone.fill("textarea[name=opinion]", "帮我们修好了楼道灯，谢谢！")
    phone.click("text=提交评价")
    expect(phone.locator(".flash-success")).to_contain_text("谢谢")
    phone.screenshot(path="/tmp/fivestar-rate-thanks-phone.png", full_page=True, caret="initial")

    # Opening the link again is refused …
    phone.goto(link)
    expect(phone.locator(".fs-used")).to_contain_text("此链接已用于评价该党员")
    expect(phone.locator("form.fs-rate")).to_have_count(0)
    # … and so is the form still open in the other tab.
    other.locator("fieldset").nth(0).locator("label").nth(4).click()
    other.locator("fieldset").nth(1).locator("label").nth(4).click()
    other.click("text=提交评价")
    expect(other.locator(".fs-used")).to_contain_text("此链接已用于评价该党员")
    other.screenshot(path="/tmp/fivestar-rate-refused-phone.png", full_page=True, caret="initial")
    # The refused second rating answers 409, which the browser logs; nothing else may.
    assert [e for e in errors if "status of 409" not in e[1]] == [], errors

    responses = list(db.session.scalars(db.select(ratings_svc.RatingResponse)))
    assert [(r.stars, r.opinion) for r in responses] == [([5, 4], "帮我们修好了楼道灯，谢谢！")]
    ctx.close()
