"""A witness in a real browser (issue 13): registered at the kiosk as a witness, given the light check, offered only
the witness waiting rooms (the holding rooms shown forbidden, with no exception), and inquired at the inquiry room's
terminal with the recorder confirming, without ever passing a holding room or information collection."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import resident_id

pytestmark = pytest.mark.slow

CASE = "W-2026-901"


def test_a_witness_is_registered_and_inquired_without_passing_a_holding_room(screens: Any, centre: Any) -> None:
    ctl, _sim = centre
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # bounded poll: the inquiry room's recorder connects (not a wait for time)
        if any(d["id"] == "rec-inq-1" and d["availability"] in ("online", "degraded") for d in ctl.call("GET", "/devices")):
            break
        time.sleep(0.2)
    kiosk = screens(base=ctl.url)
    page = kiosk.open("kiosk.html")
    kiosk.sign_in("200001")  # 陈静, custody staff

    page.get_by_role("button", name="新入区登记").first.click()
    form = page.locator("#reg-form")
    form.locator("[name=name]").fill("林小雨")
    form.locator("[name=sex]").select_option("female")
    form.locator("[name=birth_date]").fill("1992-08-15")
    form.locator("[name=id_number]").fill(resident_id("19920815", 41, "female"))
    form.locator("[name=manual_reason]").select_option("no_card")
    form.locator("[name=role]").select_option("witness")
    expect(form.locator("[name=legal_basis]")).to_have_value("witness_inquiry")  # the role picks the basis
    form.locator("[name=case_no]").fill(CASE)
    form.get_by_label("王建国").check()
    form.get_by_label("李明").check()
    kiosk.shot("witness-registration")
    form.get_by_role("button", name="登记入区").click()
    expect(page.locator(".subject-name")).to_have_text("林小雨")
    expect(page.locator("#stay-head .state")).to_have_text("已登记")

    # the stepper shows the light path: no information collection, no holding-room placement
    stepper = page.locator("#stay-head .stepper")
    expect(stepper).to_have_attribute("data-path", "light")
    expect(stepper.locator("li")).to_have_text(["入区登记", "安全检查（简易）", "等候 / 询问", "出区"])
    expect(stepper.locator("li.now")).to_have_text("安全检查（简易）")

    search = page.locator("#search-form")
    expect(search.locator("h2")).to_have_text("安全检查（简易）：证人、被害人")
    search.locator("[name=gate_result]").select_option("pass")
    search.locator("[name=checker_id]").select_option("cus-f")
    search.locator("[name=witness_id]").select_option("off-3")
    search.get_by_role("button", name="提交安检记录").click()
    expect(page.locator("#stay-head .state")).to_have_text("已安检")
    expect(stepper.locator("li.now")).to_have_text("等候 / 询问")

    # next: a witness waiting room, an inquiry straight away, or the exit; the holding rooms are forbidden outright
    expect(page.locator("#witness-next")).to_contain_text("可直接带至询问室")
    place = page.locator("#placement-form")
    expect(place.locator("h2")).to_have_text("证人等候室")
    expect(place.locator("#room-grid .room-pick").first).to_contain_text("证人等候室")
    expect(place.locator("#room-grid")).not_to_contain_text("候问室1")
    place.locator(".forbidden-rooms summary").click()
    holding = place.locator("#forbidden-grid [data-room=wait-1]")
    expect(holding).to_contain_text("证人、被害人不得安置在候问室或醒酒室")
    expect(place.locator("#forbidden-grid").get_by_role("button", name="申请例外审批")).to_have_count(0)
    kiosk.shot("witness-next-step")

    officer = screens(base=ctl.url)
    room = officer.open("interview.html?room=inq-1")
    officer.sign_in("100001")  # 王建国, case officer
    expect(room.locator("#room-name")).to_have_text("询问室1")
    expect(room.locator("#rec-status")).to_have_text("未在录像（无进行中的讯问）")
    start = room.locator("#start-form")
    start.locator("[name=stay_id]").select_option(label=f"林小雨 · 证人 · {CASE}")
    expect(start.get_by_label("王建国")).to_be_checked()
    start.get_by_role("button", name="开始询问").click()
    expect(room.locator("#rec-status")).to_contain_text("同步录音录像中")
    expect(room.locator(".subject-name")).to_have_text("林小雨")
    expect(page.locator("#stay-head .state")).to_have_text("讯问/询问中")  # the kiosk follows live
    officer.shot("witness-inquiry")
    room.get_by_role("button", name="结束讯问").click()
    room.locator("#end-confirm").get_by_role("button", name="确认结束").click()
    expect(room.locator("#start-form")).to_be_visible()

    stays = [s for s in ctl.call("GET", "/stays?state=open", "200001") if s["case"]["case_no"] == CASE]
    assert len(stays) == 1
    view = ctl.call("GET", f"/stays/{stays[0]['id']}", "200001")
    actions = [e["action"] for e in view["timeline"]]
    assert {"stay_placed", "stay_collected", "face_captured"}.isdisjoint(actions), actions
    assert actions.index("stay_searched") < actions.index("interview_started") < actions.index("interview_ended")
    kinds = {r["id"]: r["kind"] for r in ctl.call("GET", "/rooms", "200001")}
    rooms = {e["after"].get("room_id") for e in view["timeline"]} - {None}
    assert not {kinds[r] for r in rooms} & {"waiting", "sobering"}, rooms  # never a holding room
    assert view["search"]["scope"] == "light" and view["collection"] is None
