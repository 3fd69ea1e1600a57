"""Case files (卷宗) in a real browser: a custodian registers a folder and puts it in the file cabinet (her colleague
proves himself by step-up at her screen), checks it out to an officer who proves himself the same way, the folder
shows as overdue once its return time has passed, and it is checked back in; the trail lists every handover with
who gave, who received and how each proved it (screenshots under tests/artifacts)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_screens import visible_text_problems


def local_input(controller: Any, hours: float) -> str:
    """A datetime-local value on the kiosk (Asia/Shanghai) ``hours`` after the controller's (test) clock."""
    now = datetime.fromisoformat(controller.call("GET", "/dev/clock")["now"])
    return (now + timedelta(hours=hours)).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")


def test_case_file_checked_out_by_step_up_and_checked_back_in_with_its_trail(screens: Any, controller: Any) -> None:
    from playwright.sync_api import expect

    s = screens(1280, 900)
    p = s.open("case-files.html")
    s.sign_in("200001")  # 陈静, custody staff
    form = p.locator("#cf-register")
    form.locator("[name=case_no]").fill("F-2026-301")
    form.locator("[name=description]").fill("张某盗窃案 卷宗第1卷")
    form.locator("[name=quantity]").fill("2")
    form.locator("[data-action=cf-save]").click()
    expect(p.locator("#cf-status")).to_have_text("已登记（登记人持有）")

    # into the cabinet: she gives it to 刘强, who proves himself here
    act = p.locator("#cf-action")
    expect(act).to_have_attribute("data-purpose", "storage")
    act.locator("[name=receiver_id]").select_option("cus-m")
    act.locator("[name=police_no]").fill("200002")
    act.locator("[name=password]").fill(PASSWORD)
    act.locator("[data-action=cf-confirm]").click()
    expect(p.locator("#cf-status")).to_have_text("在柜")
    expect(p.locator("#cf-trail")).to_contain_text("卷宗柜1")

    # check-out to 李明: a wrong password is refused in words and nothing moves
    act = p.locator("#cf-action")
    expect(act).to_have_attribute("data-purpose", "check_out")
    act.locator("[name=giver_id]").select_option("cus-f")
    act.locator("[name=receiver_id]").select_option("off-2")
    act.locator("[name=expected_return_at]").fill(local_input(controller, 1))
    act.locator("[name=police_no]").fill("100002")
    act.locator("[name=password]").fill("wrong-password-1")
    act.locator("[data-action=cf-confirm]").click()
    expect(act.locator(".error-box")).to_contain_text("警号或密码错误")
    expect(p.locator("#cf-status")).to_have_text("在柜")
    act.locator("[name=password]").fill(PASSWORD)
    act.locator("[data-action=cf-confirm]").click()
    expect(p.locator("#cf-status")).to_have_text("已借出")
    expect(p.locator("#cf-trail")).to_contain_text("持有人 李明")

    # past its return time the folder reads as overdue, in the list and on its page
    controller.advance(2 * 3600)
    p.reload()
    s.sign_in("200001")  # two hours on, she signs in again
    p.locator("#cf-list .cf-item", has_text="张某盗窃案 卷宗第1卷").click()
    expect(p.locator("#cf-list .cf-item", has_text="张某盗窃案 卷宗第1卷")).to_contain_text("已逾期未归还")
    expect(p.locator("#cf-due")).to_contain_text("已逾期未归还")
    s.shot("case_files_overdue")

    # check-in: 李明 hands it back to her, proving himself at her screen
    act = p.locator("#cf-action")
    expect(act).to_have_attribute("data-purpose", "check_in")
    expect(act.locator("[data-party=off-2]")).to_have_text("李明")
    act.locator("[name=receiver_id]").select_option("cus-f")
    act.locator("[name=police_no]").fill("100002")
    act.locator("[name=password]").fill(PASSWORD)
    act.locator("[data-action=cf-confirm]").click()
    expect(p.locator("#cf-status")).to_have_text("在柜")
    rows = p.locator("#cf-trail-list li")
    expect(rows).to_have_count(4)
    expect(rows.nth(1)).to_contain_text("入柜保管")
    expect(rows.nth(1)).to_contain_text("陈静（本机登录）→ 刘强（密码验证）")
    expect(rows.nth(2)).to_contain_text("借出")
    expect(rows.nth(2)).to_contain_text("陈静（本机登录）→ 李明（密码验证）")
    expect(rows.nth(3)).to_contain_text("归还入柜")
    expect(rows.nth(3)).to_contain_text("李明（密码验证）→ 陈静（本机登录）")
    expect(rows.nth(3)).to_contain_text("卷宗柜1")
    expect(p.locator("#cf-trail")).to_contain_text("流转记录完整，无断档")
    expect(p.locator("#cf-list .cf-item", has_text="张某盗窃案 卷宗第1卷")).not_to_contain_text("已逾期")
    assert not visible_text_problems(p), visible_text_problems(p)
    s.shot("case_files_trail")

    p.locator("header.top [data-action=lang]").click()  # the same page in English
    expect(p.locator("#cf-status")).to_have_text("In the cabinet")
    expect(rows.nth(2)).to_contain_text("Checked out")
    assert not visible_text_problems(p), visible_text_problems(p)


def test_the_kiosk_links_to_the_other_desks_and_each_links_back(screens: Any) -> None:
    """The case-property, case-file and health screens are reached from the kiosk's header, not by a typed address;
    each leads back to the kiosk."""
    from playwright.sync_api import expect

    s = screens(1280, 800)
    p = s.open("kiosk.html")
    s.sign_in("200001")
    for name, heading in (("涉案财物", "涉案财物管理"), ("卷宗管理", "卷宗管理"), ("健康检查", "体检与检测")):
        p.locator("header.top nav.desks a", has_text=name).click()
        expect(p.locator("header.top h1")).to_contain_text(heading)
        p.locator("header.top a.nav-link", has_text="返回登记终端").click()
        expect(p.locator("header.top h1")).to_contain_text("登记终端")
    s.shot("kiosk_desk_links")
