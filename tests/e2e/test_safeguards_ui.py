"""The subject's protections on the screens (issue 13), in a real browser: the interview terminal lists a minor's
safeguards and keeps the start closed until the appropriate adult is recorded and their visitor tag is seen in the
room (a simulated wristband reader over MQTT); the kiosk's notification form with its legal countdown; the exit's
item_return approval for a dangerous item."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, _seq, resident_id, sign_on

pytestmark = pytest.mark.slow


KEYS = {"description": "钥匙", "quantity": 1, "category": "personal"}


def minor_waiting(ctl: Any, name: str, case_no: str, room: str = "wait-6", sex: str = "male",
                  birth: str = "2010-05-01", items: tuple[dict[str, Any], ...] = (KEYS,),
                  sim: Any = None) -> dict[str, Any]:
    """A subject (a minor unless ``birth`` says otherwise) registered and taken to a waiting room through the API,
    as custody staff 陈静."""
    cus = "200001"
    stay = ctl.call("POST", "/stays", cus, {
        "subject": {"name": name, "id_type": "resident_id", "sex": sex, "birth_date": birth,
                    "id_number": resident_id(birth.replace("-", ""), next(_seq), sex), "nationality": "CHN"},
        "role": "suspect", "case": {"case_no": case_no, "case_kind": "criminal"},
        "legal_basis": "criminal_summons", "case_officer_ids": ["off-1", "off-2"],
        "identity_source": "manual", "manual_entry_reason": "未携带身份证"})
    sid = stay["id"]
    ctl.call("POST", f"/stays/{sid}/search", cus, {"checker_id": "cus-f" if sex == "female" else "cus-m",
                                                   "witness_id": "off-1", "gate_result": "not_used"})
    ctl.call("POST", f"/stays/{sid}/collection", cus, {"fingerprints_taken": True, "dna_taken": False})
    locker = next(lk["id"] for lk in ctl.call("GET", "/lockers", cus) if lk["state"] == "free")
    ctl.call("POST", f"/stays/{sid}/property", cus, {"custodian_id": "cus-f", "locker_id": locker,
                                                     "items": list(items)})
    if sim is not None:  # the simulated lock board: the locker opened for the property is closed again
        prefix, number = locker.split("-")
        sim.act("lock-bus-1", "put_item", board="abc".index(prefix), channel=int(number) - 1)
        sim.act("lock-bus-1", "close_door", board="abc".index(prefix), channel=int(number) - 1)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # bounded poll for the board's report, not a wait for time
            r = raw_post(ctl, f"/stays/{sid}/placement", cus, {"room_id": room})
            if r.status_code < 400:
                return dict(r.json())
            assert r.json()["code"] == "LOCKER_NOT_CLOSED", r.text
            time.sleep(0.2)
    return dict(ctl.call("POST", f"/stays/{sid}/placement", cus, {"room_id": room}))


def raw_post(ctl: Any, path: str, police_no: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{ctl.url}/api/v1{path}", json=body, headers={"Authorization": f"Bearer {ctl.token(police_no)}"})


def test_a_minors_interview_waits_for_the_appropriate_adult_recorded_and_present(screens: Any, centre: Any) -> None:
    ctl, sim = centre
    stay = minor_waiting(ctl, "小明", "M-2026-701", sim=sim)
    officer = screens(base=ctl.url)
    room = officer.open("interview.html?room=int-1")
    officer.sign_in("100001")  # 王建国
    form = room.locator("#start-form")
    form.locator("[name=stay_id]").select_option(stay["id"])
    reqs = form.locator("#iv-requirements")
    expect(reqs.locator("[data-req=adult_identified]")).to_have_attribute("data-met", "false")
    expect(reqs.locator("[data-req=adult_present]")).to_have_attribute("data-met", "false")
    expect(reqs).to_contain_text("已登记法定代理人或合适成年人")
    expect(reqs).to_contain_text("未满足")
    start = form.get_by_role("button", name="开始讯问")
    expect(start).to_be_disabled()
    # the server refuses on its own too: the button is only a guide
    r = raw_post(ctl, f"/stays/{stay['id']}/interviews", "100001", {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]})
    assert r.status_code == 409 and r.json()["code"] == "MINOR_NEEDS_APPROPRIATE_ADULT", r.text
    officer.shot("interview-safeguards-unmet")

    def record_adult(name: str) -> None:
        adult = form.locator("#sg-adult")
        adult.locator("[name=sg_adult_name]").fill(name)
        adult.locator("[name=sg_adult_relation]").select_option("parent")
        adult.locator("[name=sg_adult_id_number]").fill("110101197501011234")
        adult.locator("[name=sg_adult_contact]").fill("13800000000")
        adult.locator("[name=sg_adult_tag]").fill("tag-visitor-e2e")
        adult.get_by_role("button", name="登记合适成年人").click()
        expect(form.locator("#sg-adult-recorded")).to_contain_text(f"{name}（父母）")

    # recorded, then gone (she hands the visitor tag back at the desk): the terminal asks for an adult again
    record_adult("李娟")
    expect(reqs.locator("[data-req=adult_identified]")).to_have_attribute("data-met", "true")
    form.get_by_role("button", name="合适成年人已离开（收回访客手环）").click()
    expect(form.locator("#sg-adult-form")).to_be_visible()
    expect(reqs.locator("[data-req=adult_identified]")).to_have_attribute("data-met", "false")
    record_adult("王芳")
    expect(reqs.locator("[data-req=adult_identified]")).to_have_attribute("data-met", "true")
    expect(reqs.locator("[data-req=adult_present]")).to_have_attribute("data-met", "false")
    expect(form.locator("#sg-adult-wait")).to_contain_text("等待感应到合适成年人的访客手环")
    expect(start).to_be_disabled()
    r = raw_post(ctl, f"/stays/{stay['id']}/interviews", "100001", {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]})
    assert r.status_code == 409 and r.json()["code"] == "APPROPRIATE_ADULT_NOT_PRESENT", r.text

    # the adult walks into the interview room wearing the visitor tag: the room's reader reports it
    sim.act("band-int-1", "tag_move", tag_id="tag-visitor-e2e")
    expect(reqs.locator("[data-req=adult_present]")).to_have_attribute("data-met", "true")
    expect(start).to_be_enabled()
    officer.shot("interview-safeguards-met")
    start.click()
    expect(room.locator("#rec-status")).to_contain_text("同步录音录像中")
    expect(room.locator(".subject-name")).to_have_text("小明")
    started = [e for e in ctl.call("GET", f"/stays/{stay['id']}", "100001")["timeline"]
               if e["action"] == "interview_started"][-1]
    assert started["after"]["safeguards"]["appropriate_adult"]["presence"] == "tag"
    assert started["after"]["appropriate_adult"]["name"] == "王芳"


def test_the_notification_form_counts_down_to_the_legal_deadline(screens: Any, controller: Any) -> None:
    stay = minor_waiting(controller, "小红", "M-2026-702", sex="female", room=controller.empty_room())
    try:
        s = screens()
        page = s.open("kiosk.html")
        s.sign_in("200001")  # 陈静
        page.locator(f"[data-stay={stay['id']}]").click()
        page.locator("[data-tab=notify]").click()
        form = page.locator("#notify-form")
        due = form.locator("[data-purpose=guardian]")
        expect(due).to_contain_text("通知未成年人的监护人")
        expect(due).to_have_attribute("data-done", "false")
        expect(due.locator(".cd")).to_have_text(re.compile(r"^(1:[0-5]\d:\d\d|2:00:00)$"))  # promptly: 2 h by default
        expect(form).to_contain_text("尚无通知记录")
        s.shot("kiosk-notification-countdown")
        expect(form.locator("[name=party]")).to_have_value("guardian")
        form.locator("[name=name]").fill("李秀兰")
        form.locator("[name=relation]").select_option("parent")
        form.locator("[name=method]").select_option("phone")
        form.locator("[name=contact]").fill("13900000000")
        form.get_by_role("button", name="记录通知").click()
        expect(form.locator("[data-purpose=guardian]")).to_have_attribute("data-done", "true")
        expect(form.locator("[data-purpose=guardian]")).to_contain_text("已通知")
        expect(form.locator(".ntf-made")).to_contain_text("李秀兰（父母） · 电话")
        expect(form.locator(".ntf-made")).to_contain_text("记录人 陈静")
        s.shot("kiosk-notification-recorded")
        text = form.inner_text()
        assert stay["id"] not in text and "ntf-" not in text and "cus-f" not in text
        recorded = controller.call("GET", f"/stays/{stay['id']}/notifications", "200001")
        assert recorded["notifications"][0]["recorded_by"] == "cus-f" and recorded["due"][0]["done"] is True
    finally:  # the room is free again for the tests after this one
        controller.release(stay["id"])


def test_a_dangerous_item_is_returned_at_exit_with_a_supervisors_approval(screens: Any, controller: Any) -> None:
    knife = {"description": "折叠刀", "quantity": 1, "category": "dangerous"}
    stay = minor_waiting(controller, "钱七", "M-2026-703", room="wait-4", birth="1985-06-12", items=(KEYS, knife))
    s = screens()
    page = s.open("kiosk.html")
    s.sign_in("200001")  # 陈静
    page.locator(f"[data-stay={stay['id']}]").click()
    page.locator("[data-tab=exit]").click()
    page.locator("#exit-start [name=disposition]").select_option("released")
    page.get_by_role("button", name="开始出区").click()
    expect(page.locator("#stay-head .state")).to_have_text("出区中")
    form = page.locator("#exit-form")
    keys_row = form.locator(".exit-item", has_text="钥匙")
    knife_row = form.locator(".exit-item", has_text="折叠刀")
    keys_row.locator("[name=disposition]").select_option("returned")
    knife_row.locator("[name=disposition]").select_option("returned")
    panel = knife_row.locator(".approval-panel")
    expect(panel).to_contain_text("危险/涉案物品发还")
    form.locator("[name=checker_id]").select_option("cus-m")
    sign_on(page, "#signature")
    # without the approval the server refuses the return, and nothing is written
    form.get_by_role("button", name="完成出区").click()
    expect(form.locator(".error-box").first).to_be_visible()
    expect(page.locator("#stay-head .state")).to_have_text("出区中")
    # the duty supervisor approves here with his own police number and password
    panel.locator("[name=approval_reason]").fill("非管制刀具，经审查与案件无关")
    panel.locator("[name=su_police_no]").fill("300001")
    panel.locator("[name=su_password]").fill(PASSWORD)
    panel.get_by_role("button", name="领导验证并批准").click()
    expect(knife_row.locator(".item-approved")).to_contain_text("值班领导已批准发还该物品")
    s.shot("kiosk-exit-item-approved")
    form.get_by_role("button", name="完成出区").click()
    expect(page.locator("#exited")).to_contain_text("已出区")
    exited = [e for e in controller.call("GET", f"/stays/{stay['id']}", "200001")["timeline"]
              if e["action"] == "stay_exited"][-1]
    returned = [i for i in exited["after"]["items"] if i.get("approval")]
    assert len(returned) == 1 and returned[0]["approval"]["granted_by"] == "sup-1", exited["after"]["items"]
