"""The duty dashboard in a real browser: the floor, an alarm arriving live and being acknowledged, welfare checks."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow


def test_late_welfare_check_alarm_appears_live_and_is_acknowledged(screens: Any, controller: Any) -> None:
    stay = controller.walk("孙七", room="wait-3", case_no="B-2026-301")
    s = screens()
    page = s.open("dashboard.html")
    s.sign_in("300001")  # 张伟, supervisor
    room = page.locator("#floor [data-room=wait-3]")
    expect(room).to_contain_text("孙七")
    expect(room.locator(".cd")).to_have_class("cd u-ok")  # 12 h left on a criminal summons
    expect(page.locator("#welfare [data-room=wait-3]")).to_be_visible()
    expect(page.locator("#devices")).to_contain_text("离线")  # no simulator in this run: devices are not connected
    expect(page.locator("#alarms [data-kind=welfare_check_late]")).to_have_count(0)
    s.shot("dashboard-floor")

    controller.advance(31 * 60)  # the 30-minute welfare interval passes without a check
    alarm = page.locator("#alarms [data-kind=welfare_check_late]").filter(has_text="候问室3")
    expect(alarm).to_contain_text("巡查超时")
    expect(alarm).to_contain_text("未确认")
    expect(room).to_have_class("room alarmed occupied")
    s.shot("dashboard-alarm")

    alarm.get_by_role("button", name="确认").click()
    expect(alarm).to_contain_text("已确认")
    expect(alarm).to_contain_text("确认人 张伟")

    page.locator("#welfare [data-room=wait-3]").get_by_role("button", name="巡查正常").click()
    expect(alarm).to_have_count(0)  # the check resolves the late-check alarm

    room.get_by_role("button", name="孙七").click()
    replay = page.locator("#replay-body")
    expect(replay.locator("ol.timeline li")).to_contain_text(["入区登记", "人身安全检查", "信息采集", "物品入柜",
                                                               "候问安置"])
    expect(page.locator("#replay-stay")).to_have_value(stay["id"])
    page.locator("#replay-slider").fill("0")
    expect(replay.locator("li.now")).to_contain_text("入区登记")
    s.shot("dashboard-replay")
    page.set_viewport_size({"width": 1920, "height": 1080})  # the duty room's big screen
    expect(room).to_contain_text("孙七")
    s.shot("dashboard-1920")


def test_sync_panel_shows_the_backlog_to_a_supervisor_and_not_to_custody_staff(screens: Any, controller: Any) -> None:
    controller.walk("周九", room="wait-5", case_no="B-2026-302")  # changes waiting for a platform
    s = screens()
    page = s.open("dashboard.html")
    s.sign_in("300001")  # 张伟, supervisor
    panel = page.locator("#sync-panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("平台同步")
    expect(panel).to_contain_text("未配置管控平台")  # this run's site names no platform
    expect(panel).to_contain_text("最早一条已等待")
    expect(panel).to_contain_text("尚未成功")
    page.locator("header [data-action=lang]").click()
    expect(panel).to_contain_text("No central platform configured")
    page.locator("header [data-action=lang]").click()
    s.shot("dashboard-sync")

    custody = screens()
    other = custody.open("dashboard.html")
    custody.sign_in("200001")  # 陈静, custody staff: may not read the sync status
    expect(other.locator("#floor")).to_contain_text("周九")
    expect(other.locator("#sync-panel")).to_be_hidden()
