"""The interview-room terminal in a real browser: no interview starts without the recorder's confirmation."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.slow


def test_interview_is_refused_while_the_recorder_is_not_connected(screens: Any, controller: Any) -> None:
    stay = controller.walk("吴九", room="wait-2", case_no="D-2026-401")
    s = screens()
    page = s.open("interview.html?room=int-1")
    s.sign_in("100001")  # 王建国, case officer
    expect(page.locator("#room-name")).to_have_text("讯问室1")
    expect(page.locator("#rec-status")).to_contain_text("设备未连接")
    form = page.locator("#start-form")
    form.locator("[name=stay_id]").select_option(stay["id"])
    expect(form.get_by_label("王建国")).to_be_checked()  # the stay's own officers are preselected
    expect(form.get_by_label("李明")).to_be_checked()
    form.get_by_role("button", name="开始讯问").click()
    expect(form.locator(".error-box")).to_contain_text("同步录音录像未确认开始")
    s.shot("interview-refused")
