"""The UI with every device simulated (hw_sim over ptys, MQTT and HTTP): the ID card fills the registration, the
gate's transit is the search record, the camera's live quality check speaks, the locker's door is watched shut,
and the interview terminal follows the recorder."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_on

pytestmark = pytest.mark.slow

CARD_NO = "110101199003070038"  # hw_sim's demo card: 张三


def locker_position(locker_id: str) -> tuple[int, int]:
    """Demo site: banks a/b/c are boards 0/1/2 on lock-bus-1; a-01 is channel 0."""
    prefix, number = locker_id.split("-")
    return "abc".index(prefix), int(number) - 1


def test_a_stay_driven_by_the_devices(screens: Any, centre: Any) -> None:
    ctl, sim = centre
    kiosk = screens(base=ctl.url)
    page = kiosk.open("kiosk.html")
    kiosk.sign_in("200001")

    page.get_by_role("button", name="新入区登记").first.click()
    form = page.locator("#reg-form")
    expect(form.locator("#card-status")).to_have_text("请将身份证放在阅读器上")
    sim.act("idr-reg", "place_card")
    expect(form.locator("#card-status")).to_contain_text("已读取身份证：张三")
    expect(form.locator("[name=name]")).to_have_value("张三")
    expect(form.locator("[name=id_number]")).to_have_value(CARD_NO)
    expect(form.locator("[name=birth_date]")).to_have_value("1990-03-07")
    expect(form.locator("[name=sex]")).to_have_value("male")
    expect(form.locator("#manual-reason")).to_be_hidden()
    form.locator("[name=case_no]").fill("F-2026-601")
    form.get_by_label("王建国").check()
    form.get_by_label("李明").check()
    kiosk.shot("devices-card-read")
    form.get_by_role("button", name="登记入区").click()
    expect(page.locator("#stay-head .state")).to_have_text("已登记")

    search = page.locator("#search-form")
    expect(search.locator("#gate-status")).to_contain_text("安检门已连接")
    sim.act("gate-1", "walk_through", zones=[3])
    expect(search.locator("#gate-status")).to_contain_text("安检门报警 报警区位 3")
    expect(search.locator("[name=gate_result]")).to_have_value("alarm")
    search.locator("[name=checker_id]").select_option("cus-m")
    search.locator("[name=witness_id]").select_option("off-1")
    search.get_by_role("button", name="提交安检记录").click()
    expect(search.locator(".error-box")).to_contain_text("手持金属探测器")  # a gate alarm needs the handheld check
    search.locator("[name=handheld_result]").select_option("clear")
    search.get_by_role("button", name="提交安检记录").click()
    expect(page.locator("#stay-head .state")).to_have_text("已安检")

    collect = page.locator("#collect-form")
    expect(collect.locator("#quality-live")).to_have_text("画面质量合格，可以采集", timeout=15_000)
    sim.act("cam-collect", "set_scenario", name="dark")
    expect(collect.locator("#quality-live")).to_contain_text("画面未通过：光线过暗或过亮", timeout=15_000)
    kiosk.shot("devices-capture-dark")
    sim.act("cam-collect", "set_scenario", name="good")
    expect(collect.locator("#quality-live")).to_have_text("画面质量合格，可以采集", timeout=15_000)
    collect.get_by_role("button", name="拍照采集").click()
    expect(collect.locator("#capture-ok")).to_contain_text("人像采集合格", timeout=20_000)
    expect(collect.locator("img.capture-thumb")).to_be_visible()
    collect.get_by_label("已采集指纹").check()
    collect.get_by_role("button", name="完成信息采集").click()
    expect(page.locator("#stay-head .state")).to_have_text("已采集")

    prop = page.locator("#property-form")
    prop.locator(".item-row [name=desc]").fill("手机")
    locker = prop.locator("[data-locker]").first
    locker_id = str(locker.get_attribute("data-locker"))
    locker.click()
    sign_on(page, "#intake-signature")  # the subject signs the property list at intake
    prop.get_by_role("button", name="确认物品并打开储物柜").click()
    status = page.locator("#locker-status")
    expect(status).to_contain_text(f"储物柜 {locker_id.upper()} 已打开")
    next_step = page.get_by_role("button", name="柜门已关好，下一步")
    expect(next_step).to_be_disabled()  # the board reports the door; nobody clicks past an open locker
    kiosk.shot("devices-locker-open")
    board, channel = locker_position(locker_id)
    sim.act("lock-bus-1", "put_item", board=board, channel=channel)
    sim.act("lock-bus-1", "close_door", board=board, channel=channel)
    expect(status).to_contain_text(f"储物柜 {locker_id.upper()} 柜门已关闭")
    next_step.click()
    page.locator("[data-room=wait-1]").click()
    page.get_by_role("button", name="安置到所选候问室").click()
    expect(page.locator("#stay-head .state")).to_have_text("候问中")

    officer = screens(base=ctl.url)
    room = officer.open("interview.html?room=int-1")
    officer.sign_in("100001")
    expect(room.locator("#rec-status")).to_have_text("未在录像（无进行中的讯问）")
    start = room.locator("#start-form")
    start.locator("[name=stay_id]").select_option(label="张三 · 嫌疑人 · F-2026-601")
    start.get_by_role("button", name="开始讯问").click()
    expect(room.locator("#rec-status")).to_contain_text("同步录音录像中")
    expect(room.locator(".subject-name")).to_have_text("张三")
    expect(room.locator(".officers")).to_contain_text("王建国")
    expect(room.locator("#elapsed")).to_have_text(re.compile(r"^0:00:\d\d$"))
    expect(page.locator("#stay-head .state")).to_have_text("讯问/询问中")  # the kiosk follows live
    officer.shot("interview-recording")
    ctl.advance(4 * 60)  # within the terminal's 5-minute idle limit, on the server's clock
    room.get_by_role("button", name="暂停").click()
    expect(room.locator("#rec-status")).to_contain_text("已暂停")
    expect(room.locator("#elapsed")).to_have_text(re.compile(r"^0:04:\d\d$"))  # the page keeps the server's time
    room.get_by_role("button", name="继续").click()
    expect(room.locator("#rec-status")).to_contain_text("同步录音录像中")

    sim.act("rec-int-1", "fail", code="DISK_FULL", detail="disk full")  # the recorder stops by itself
    expect(room.locator("[data-iv-state]")).to_have_text("已暂停")  # rule 3: the interview pauses at once
    expect(room.locator("#rec-status")).to_contain_text("录像故障，讯问已自动暂停")
    guide = room.locator("#failure-guide")  # what to do now, in Chinese; never the device's own words
    expect(guide).to_contain_text("立即停止问话")
    expect(room.locator("body")).not_to_contain_text("disk full")
    expect(room.locator("body")).not_to_contain_text("rec-int-1")
    officer.shot("interview-recording-failed")
    duty = screens(base=ctl.url)
    dash = duty.open("dashboard.html")
    duty.sign_in("300001")
    alarm = dash.locator("#alarms [data-kind=recording_failed]")
    expect(alarm).to_contain_text("同步录音录像故障")
    expect(alarm).to_contain_text("讯问室1")
    expect(dash.locator("#devices")).to_contain_text("在线")
    room.get_by_role("button", name="继续").click()  # resuming asks the recorder to confirm again
    expect(room.locator("#rec-status")).to_contain_text("同步录音录像中")
    room.get_by_role("button", name="结束讯问").click()
    confirm = room.locator("#end-confirm")  # ending is not one tap: a summary first
    expect(confirm).to_contain_text("确认结束本次讯问/询问")
    expect(confirm.locator("#sum-gaps")).to_contain_text("2")  # the officer's pause and the recorder failure
    expect(confirm).to_contain_text("录像故障")
    officer.shot("interview-end-summary")
    confirm.get_by_role("button", name="返回").click()
    expect(room.locator("#end-confirm")).to_have_count(0)
    expect(room.locator("[data-iv-state]")).to_have_text("进行中")  # nothing ended
    room.get_by_role("button", name="结束讯问").click()
    room.locator("#end-confirm").get_by_role("button", name="确认结束").click()
    expect(room.locator("#start-form")).to_be_visible()
    expect(page.locator("#stay-head .state")).to_have_text("候问中")

    # a panic press in the subject's room: a full-width banner on the dashboard and the chime until acknowledged
    sim.act("panic-wait-1", "press")
    banner = dash.locator("#crit-banner")
    expect(banner).to_contain_text("紧急报警")
    expect(banner).to_contain_text("候问室1")
    expect(banner).not_to_contain_text("panic-wait-1")
    dash.wait_for_function("() => !document.getElementById('alarm-sound').paused")
    duty.shot("dashboard-panic-banner")
    banner.locator("[data-kind=panic]").get_by_role("button", name="确认").click()
    expect(banner.locator("[data-kind=panic]")).to_have_count(0)
    text = dash.evaluate("() => document.body.innerText")
    for bad in ("panic-wait", "rec-int", "stay-", "devicebus", "DISK_FULL"):
        assert bad not in text, bad
