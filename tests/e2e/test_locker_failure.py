"""A stuck latch on the simulated lock board: the kiosk says in Chinese that the locker did not open (the property
step stands), keeps the next step open to a retry, and the retry opens the compartment once the latch moves again."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import resident_id, sign_on

pytestmark = pytest.mark.slow


def fault(sim: Any, device_id: str, name: str | None, **params: Any) -> None:
    """Switch a hw_sim fault on (name) or every fault off (None), through its control interface."""
    url = f"http://127.0.0.1:{sim.control_port}/devices/{device_id}/faults"
    r = httpx.post(url, json={"name": name, "params": params}, timeout=10) if name else httpx.delete(url, timeout=10)
    assert r.status_code == 200, r.text


def test_a_stuck_latch_is_shown_and_the_retry_opens_it(screens: Any, centre: Any) -> None:
    ctl, sim = centre
    cus = "200001"
    sid = ctl.call("POST", "/stays", cus, {
        "subject": {"name": "钱七", "id_type": "resident_id", "sex": "male", "birth_date": "1985-06-12",
                    "id_number": resident_id("19850612", 777, "male"), "nationality": "CHN"},
        "role": "suspect", "case": {"case_no": "F-2026-777", "case_kind": "criminal"},
        "legal_basis": "criminal_summons", "case_officer_ids": ["off-1", "off-2"],
        "identity_source": "manual", "manual_entry_reason": "未携带身份证"})["id"]
    ctl.call("POST", f"/stays/{sid}/search", cus, {"checker_id": "cus-m", "witness_id": "off-1",
                                                   "gate_result": "not_used"})
    ctl.call("POST", f"/stays/{sid}/collection", cus, {"fingerprints_taken": True, "dna_taken": False})

    kiosk = screens(base=ctl.url)
    page = kiosk.open("kiosk.html")
    kiosk.sign_in(cus)
    page.locator(f"[data-stay={sid}]").click()
    prop = page.locator("#property-form")
    prop.locator(".item-row [name=desc]").fill("手机")
    locker = prop.locator("[data-locker]").first
    locker_id = str(locker.get_attribute("data-locker"))
    board, channel = "abc".index(locker_id[0]), int(locker_id.split("-")[1]) - 1
    fault(sim, "lock-bus-1", "stuck_latch", board=board, channel=channel)
    try:
        locker.click()
        sign_on(page, "#intake-signature")  # the subject signs the property list at intake
        prop.get_by_role("button", name="确认物品并打开储物柜").click()
        expect(page.locator("#stay-head .state")).to_have_text("物品已保管")
        failed = page.locator(".error-box")
        expect(failed).to_contain_text(f"储物柜 {locker_id.upper()} 未能自动打开")
        expect(failed).to_contain_text("设备拒绝执行")
        expect(page.locator("#locker-status")).to_have_count(0)  # never "locker open" when it is not
        expect(page.get_by_role("button", name="柜门已关好，下一步")).to_be_enabled()
        kiosk.shot("locker-stuck-latch")
    finally:
        fault(sim, "lock-bus-1", None)
    page.get_by_role("button", name="重新开柜").click()
    status = page.locator("#locker-status")
    expect(status).to_contain_text(f"储物柜 {locker_id.upper()} 已打开")
    expect(page.get_by_role("button", name="柜门已关好，下一步")).to_be_disabled()  # the board now watches the door
    sim.act("lock-bus-1", "put_item", board=board, channel=channel)
    sim.act("lock-bus-1", "close_door", board=board, channel=channel)
    expect(status).to_contain_text(f"储物柜 {locker_id.upper()} 柜门已关闭")
    timeline = ctl.call("GET", f"/stays/{sid}", cus)["timeline"]
    actions = [e["action"] for e in timeline]
    assert actions.count("locker_open_failed") == 1 and actions.count("locker_opened") == 1
