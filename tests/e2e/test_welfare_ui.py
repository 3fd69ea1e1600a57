"""The kiosk's welfare panel in a real browser (issue 13): the meal and night-rest timers with their record buttons,
and the welfare-check interval with the risk behind it; the dashboard refuses a welfare check from a guard who is
not shown to be in the room. Each test takes an empty waiting room of the shared test controller and releases its
subject after."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow


def test_meal_and_rest_timers_and_the_check_interval_with_its_reason(screens: Any, controller: Any) -> None:
    stay = controller.walk("钱十五", room=controller.empty_room(), case_no="C-2026-401")
    try:
        _timers(screens, controller, stay)
    finally:
        controller.release(stay["id"])


def _timers(screens: Any, controller: Any, stay: dict[str, Any]) -> None:
    controller.call("POST", f"/stays/{stay['id']}/health/entry-check", "200001", {"self_harm_risk": True})
    s = screens()
    page = s.open("kiosk.html")
    s.sign_in("200001")  # 陈静, custody staff
    page.locator(f"[data-stay={stay['id']}]").click()
    expect(page.locator("#stay-head .state")).to_have_text("候问中")
    page.locator("[data-tab=care]").click()
    panel = page.locator("#welfare-panel")
    expect(panel.locator("h3")).to_have_text("饮食、休息与巡查")
    meal = panel.locator("[data-timer=meal]")
    expect(meal).to_contain_text("下次供餐")
    expect(meal).to_contain_text("白天每 6 小时供餐一次")
    expect(meal.locator(".cd")).to_have_text(re.compile(r"\d"))  # a running countdown
    rest = panel.locator("[data-timer=rest]")
    expect(rest).to_contain_text("22:00–06:00 之间须保证连续休息不少于 6 小时")
    check = panel.locator("[data-timer=check]")
    expect(check).to_contain_text("每 10 分钟")
    expect(check).to_contain_text("原因：有自伤自残风险")
    s.shot("kiosk-welfare")
    # a check of the room from this kiosk: the room has a reader and no tag of hers is reported there
    check.get_by_role("button", name="巡查正常").click()
    expect(panel.locator(".error-box")).to_contain_text("未能确认您在场")
    meal.get_by_role("button", name="记录供餐").click()
    expect(page.locator("#toast")).to_contain_text("已记录：用餐")
    expect(panel.locator("[data-timer=meal]")).not_to_contain_text("上次供餐 —")
    switch = page.locator("header [data-action=lang]")
    switch.click()  # the stay is redrawn in English: open the tab again
    page.locator("[data-tab=care]").click()
    expect(page.locator("#welfare-panel [data-timer=check]")).to_contain_text("every 10 min · Because: self-harm risk")
    switch.click()


def test_the_dashboard_refuses_a_check_from_a_guard_not_in_the_room(screens: Any, controller: Any) -> None:
    room = controller.empty_room()
    stay = controller.walk("孙十六", room=room, case_no="C-2026-402")
    try:
        _refused(screens, room)
    finally:
        controller.release(stay["id"])


def _refused(screens: Any, room: str) -> None:
    s = screens()
    page = s.open("dashboard.html")
    s.sign_in("200001")  # 陈静 at the duty-room PC: no tag of hers is reported in the room
    row = page.locator(f"#welfare [data-room={room}]")
    expect(row).to_contain_text("每 30 分钟 · 原因：一般人员（本中心默认）")
    row.get_by_role("button", name="巡查正常").click()
    expect(row.locator(".error-box")).to_contain_text("未能确认您在场")
    s.shot("dashboard-welfare-refused")
