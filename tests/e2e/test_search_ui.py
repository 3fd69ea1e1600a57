"""Search on the kiosk in a real browser: find a stay by name and open it; at registration, typing the identity
number of someone who has been here before shows their earlier stays."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow


def test_search_by_name_opens_the_stay_and_registration_shows_past_stays(screens: Any, controller: Any) -> None:
    stay = controller.walk("钱十一", room=None, case_no="S-2026-401")
    s = screens()
    page = s.open("kiosk.html")
    s.sign_in("200001")
    box = page.locator("#stay-search")
    box.locator("[name=q]").fill("钱十")
    box.get_by_role("button", name="查询").click()
    hits = page.locator("#search-results .search-hit")
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text("S-2026-401")
    # a prefix of the identity number finds nothing: numbers match only whole
    box.locator("[name=by]").select_option("id_number")
    box.locator("[name=q]").fill(stay["subject"]["id_number"][:17])
    box.get_by_role("button", name="查询").click()
    expect(page.locator("#search-results")).to_contain_text("未找到符合条件的记录")
    box.locator("[name=q]").fill(stay["subject"]["id_number"])
    box.get_by_role("button", name="查询").click()
    expect(hits).to_have_count(1)
    hits.first.click()
    expect(page.locator(".subject-name")).to_have_text("钱十一")
    s.shot("kiosk-search")

    page.get_by_role("button", name="新入区登记").first.click()
    form = page.locator("#reg-form")
    form.locator("[name=id_number]").fill(stay["subject"]["id_number"])
    form.locator("[name=id_number]").press("Tab")
    past = form.locator("#past-stays")
    expect(past).to_contain_text("该人员曾 1 次进入本中心")
    expect(past).to_contain_text("目前仍有未出区记录")
    expect(past).to_contain_text("S-2026-401")
    s.shot("kiosk-registration-past-stays")
