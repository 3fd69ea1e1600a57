"""Case property in a real browser: an officer registers an item with a photo, hands it to the custodian who proves
herself by step-up at the officer's screen, and the chain of custody is shown (screenshot under tests/artifacts)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import PASSWORD


def test_case_property_registered_handed_over_by_step_up_and_trail_shown(screens, tmp_path: Path) -> None:
    import cv2
    import numpy as np
    from playwright.sync_api import expect

    img = np.full((240, 320, 3), 200, np.uint8)
    cv2.rectangle(img, (60, 80), (260, 160), (40, 40, 40), -1)  # a dark "phone" on a light table
    photo = tmp_path / "phone.jpg"
    assert cv2.imwrite(str(photo), img)

    s = screens(1280, 900)
    p = s.open("case-property.html")
    s.sign_in("100001")  # 王建国, case officer
    form = p.locator("#cp-register")
    form.locator("[name=case_no]").fill("E-2026-077")
    form.locator("[name=description]").fill("黑色华为手机一部，屏幕碎裂")
    form.locator("[name=category]").select_option("phone")
    form.locator("[name=seal_no]").fill("F-2026-0001")
    form.locator("[name=photo]").set_input_files(str(photo))
    form.locator("[data-action=cp-save]").click()
    expect(p.locator("#cp-status")).to_have_text("已登记（办案民警持有）")
    expect(p.locator("#cp-photo")).to_have_attribute("src", re.compile(r"^blob:"))

    ho = p.locator("#cp-handover")
    ho.locator("[name=purpose]").select_option("storage")
    ho.locator("[name=giver_id]").select_option("off-1")
    ho.locator("[name=receiver_id]").select_option("cus-f")
    ho.locator("[name=location_id]").select_option("evidence-1")
    ho.locator("[name=police_no]").fill("200001")  # 陈静 proves herself on the officer's screen
    ho.locator("[name=password]").fill("wrong-password")
    ho.locator("[data-action=cp-handover]").click()
    expect(ho.locator(".error-box")).to_contain_text("警号或密码错误")
    expect(p.locator("#cp-status")).to_have_text("已登记（办案民警持有）")
    ho.locator("[name=password]").fill(PASSWORD)
    ho.locator("[data-action=cp-handover]").click()
    expect(p.locator("#cp-status")).to_have_text("在库")
    items = p.locator("#cp-trail-list li")
    expect(items).to_have_count(2)
    expect(items.nth(1)).to_contain_text("入库保管")
    expect(items.nth(1)).to_contain_text("王建国（本机登录）")
    expect(items.nth(1)).to_contain_text("陈静（密码验证）")
    expect(items.nth(1)).to_contain_text("涉案财物暂存柜1")
    expect(p.locator("#cp-trail")).to_contain_text("流转记录完整，无断档")
    s.shot("case_property_trail")
