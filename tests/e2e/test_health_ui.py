"""Health records in a real browser: the entry health check with an injury marked on the body diagram (described,
with a photo) sets the welfare flags, the kiosk then refuses the waiting room until a doctor's check is recorded,
and after it the placement goes through; a drug test taken by two collectors (the second by step-up) shows its
re-test deadline (screenshots under tests/artifacts)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_screens import visible_text_problems


def jpeg(path: Path) -> Path:
    import cv2
    import numpy as np

    img = np.full((240, 320, 3), 180, np.uint8)
    cv2.ellipse(img, (160, 120), (70, 25), 20, 0, 360, (60, 60, 170), -1)  # a reddish graze
    assert cv2.imwrite(str(path), img)
    return path


def test_injury_on_the_body_diagram_sets_the_flags_and_placement_waits_for_the_doctor(screens: Any, controller: Any,
                                                                                      tmp_path: Path) -> None:
    stay = controller.walk("孟十一", room=None, case_no="K-2026-901")
    try:
        check_and_place(screens, controller, stay, tmp_path)
    finally:  # the waiting room he took is free again for the tests after this one
        controller.release(stay["id"])


def check_and_place(screens: Any, controller: Any, stay: dict[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    s = screens(1280, 900)
    p = s.open("health.html")
    s.sign_in("200002")  # 刘强, custody staff
    p.locator(f"#hl-stays [data-stay={stay['id']}]").click()
    expect(p.locator("#hl-head")).to_contain_text("孟十一（男）")
    expect(p.locator("#hl-flags")).to_contain_text("无风险标记")

    # tap the left forearm on the front figure: the region is marked on both views and a row asks for details
    p.locator("#hl-entry svg[data-view=front] [data-region=left_arm]").click()
    row = p.locator("#injury-list .injury-row[data-region=left_arm]")
    expect(row).to_contain_text("左臂")
    expect(p.locator("svg[data-view=front] [data-region=left_arm]")).to_have_attribute("aria-pressed", "true")
    expect(p.locator("svg[data-view=back] [data-region=left_arm]")).to_have_attribute("aria-pressed", "true")
    expect(p.locator("svg[data-view=front] [data-region=right_arm]")).to_have_attribute("aria-pressed", "false")
    row.locator("[name=injury_desc]").fill("左前臂擦伤约3厘米，已结痂")
    row.locator("[name=injury_photo]").set_input_files(str(jpeg(tmp_path / "graze.jpg")))
    expect(row).to_contain_text("已附照片")
    expect(row.locator("img.injury-thumb")).to_have_attribute("src", re.compile(r"^blob:"))
    # the back of the head, marked then taken off again
    p.locator("#hl-entry svg[data-view=back] [data-region=head]").click()
    p.locator("#injury-list .injury-row[data-region=head] [data-action=injury-remove]").click()
    expect(p.locator("#injury-list .injury-row")).to_have_count(1)
    expect(p.locator("svg[data-view=back] [data-region=head]")).to_have_attribute("aria-pressed", "false")
    p.locator("#hl-entry [name=medications]").fill("降压药（每日一次）")
    s.shot("health_body_diagram")
    p.locator("[data-action=hl-entry-save]").click()
    expect(p.locator("#hl-flags [data-flag=injured]")).to_have_text("受伤")
    expect(p.locator("#hl-flags [data-flag=on_medication]")).to_have_text("服药")
    expect(p.locator("#hl-needs-medical")).to_contain_text("安置前须经医生检查")
    assert not visible_text_problems(p), visible_text_problems(p)
    p.evaluate("() => window.scrollTo(0, 0)")
    s.shot("health_flags_set")

    rec = controller.call("GET", f"/stays/{stay['id']}/health", "200002")
    injuries = rec[0]["data"]["injuries"]
    assert [(i["region"], i["description"]) for i in injuries] == [("left_arm", "左前臂擦伤约3厘米，已结痂")]
    assert injuries[0]["photo_id"]  # the uploaded photo is on the record

    # the kiosk refuses the waiting room: the rule in words, nothing placed
    k = screens(1280, 800)
    kp = k.open("kiosk.html")
    k.sign_in("200002")
    kp.locator(f"[data-stay={stay['id']}]").click()
    expect(kp.locator("#stay-head .state")).to_have_text("物品已保管")
    form = kp.locator("#placement-form")
    form.locator("[data-action='place.submit']").click()
    expect(form.locator(".error-box")).to_contain_text("受伤或患病人员须先经医生检查")
    expect(kp.locator("#stay-head .state")).to_have_text("物品已保管")
    # the other lawful way, a duty supervisor's approval to place him now, is offered beside the refusal
    expect(form.locator("#override .approval-panel")).to_contain_text("未经医生检查先行安置")
    assert not visible_text_problems(kp), visible_text_problems(kp)
    k.shot("health_placement_needs_doctor")

    # the doctor's check, then the placement goes through
    p.locator("[data-tab=medical]").click()
    med = p.locator("#hl-medical")
    med.locator("[name=doctor_name]").fill("周医生")
    med.locator("[name=institution]").fill("区人民医院")
    med.locator("[name=findings]").fill("左前臂浅表擦伤，无需处置，可以羁押")
    med.locator("[data-action=hl-medical-save]").click()
    expect(p.locator("#hl-medical-done")).to_be_visible()
    expect(p.locator("#hl-needs-medical")).to_have_count(0)
    form.locator("[data-action='place.submit']").click()
    expect(kp.locator("#stay-head .state")).to_have_text("候问中")

    # a drug test by two collectors, the second proving himself here; the re-test deadline is shown
    p.locator("[data-tab=drug]").click()
    drug = p.locator("#hl-drug")
    drug.locator("[name=sample_kind]").select_option("urine")
    drug.locator("[name=method]").fill("胶体金试剂板")
    drug.locator("[name=second]").select_option("off-1")
    drug.locator("[name=police_no]").fill("100001")
    drug.locator("[name=password]").fill(PASSWORD)
    drug.locator("[name=res_methamphetamine]").select_option("negative")
    drug.locator("[name=res_ketamine]").select_option("negative")
    drug.locator("[data-action=hl-drug-save]").click()
    expect(p.locator("#drug-result")).to_contain_text("现场检测未见阳性")
    expect(p.locator("#drug-retest")).to_contain_text("可申请复检截止")
    p.locator("[data-tab=records]").click()
    records = p.locator("#hl-records li")
    expect(records).to_have_count(3)
    expect(p.locator("#hl-records [data-kind=drug_test]")).to_contain_text("刘强、王建国")
    expect(p.locator("#hl-records [data-kind=entry_check]")).to_contain_text("左臂：左前臂擦伤约3厘米，已结痂（已附照片）")
    assert not visible_text_problems(p), visible_text_problems(p)
    s.shot("health_records")
