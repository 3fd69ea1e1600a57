"""The password screens in Chromium (issue 16: "no one can change a password"): a staff member changes his own
password (the policy in Chinese, the two new entries compared, the server's refusal shown as its sentence), the
session ends and the sign-in screen says why; an admin resets someone's password from the dashboard."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD

pytestmark = pytest.mark.slow
NEW = "river-lamp-stone-8"


def new_staff(controller: Any, police_no: str, name: str) -> None:
    """A person of his own: the e2e controller is shared, and these tests change passwords."""
    controller.call("POST", "/staff", json={"police_no": police_no, "name": name, "sex": "male",
                                            "roles": ["custody_staff"], "password": PASSWORD})


def fill(page: Any, current: str, new: str, again: str) -> None:
    page.fill("#pw-current_password", current)
    page.fill("#pw-new_password", new)
    page.fill("#pw-again", again)
    page.click("#pw-submit")


def test_a_staff_member_changes_his_password_and_signs_in_again(screens: Any, controller: Any) -> None:
    new_staff(controller, "500101", "孙七")
    s = screens()
    page = s.open("kiosk.html")
    s.sign_in("500101")
    page.click("#pw-open")
    dialog = page.locator("#pw-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("pw-policy")).to_contain_text("至少10位")
    expect(dialog.get_by_test_id("pw-policy")).to_contain_text("不能包含本人警号")
    error = page.locator("#pw-error")

    fill(page, PASSWORD, NEW, NEW + "x")  # the two new entries differ: caught before anything is sent
    expect(error).to_have_text("两次输入的新密码不一致，请重新输入")
    fill(page, PASSWORD, "12345678901", "12345678901")  # the server's policy refuses it
    expect(error).to_have_text("密码过于常见或简单，请换一个")
    fill(page, PASSWORD, "x500101-long-one", "x500101-long-one")
    expect(error).to_have_text("密码不能包含警号")
    fill(page, "not-my-password", NEW, NEW)
    expect(error).to_have_text("当前密码错误")
    expect(error).not_to_contain_text("CURRENT_PASSWORD_WRONG")
    s.shot("password-change-refused")

    fill(page, PASSWORD, NEW, NEW)
    expect(page.locator("#lock")).to_be_visible()
    expect(page.locator("#lock-reason")).to_have_text("密码已修改，所有登录已结束，请用新密码重新登录")
    expect(dialog).to_have_count(0)
    s.shot("password-changed-sign-in-again")
    page.fill("#police-no", "500101")
    page.fill("#password", PASSWORD)  # the old password no longer works
    page.click("#signin-btn")
    expect(page.locator("#lock-reason")).to_have_text("警号或密码错误")
    page.fill("#password", NEW)
    page.click("#signin-btn")
    expect(page.locator("#lock")).to_be_hidden()
    expect(page.locator("#who")).to_contain_text("孙七")


def test_an_admin_resets_a_password_from_the_dashboard(screens: Any, controller: Any) -> None:
    new_staff(controller, "500102", "周八")
    staff_screen = screens()
    kiosk = staff_screen.open("kiosk.html")
    staff_screen.sign_in("500102")
    admin = screens()
    page = admin.open("dashboard.html")
    admin.sign_in("900001")
    page.click("#pw-reset-open")
    page.select_option("#pw-staff", label="周八（500102）")
    page.fill("#pw-new_password", "otter-cloud-maple-3")
    page.fill("#pw-again", "otter-cloud-maple-3")
    page.click("#pw-submit")
    expect(page.locator("#toast")).to_have_text("密码已重置，该人员的所有登录已结束")
    expect(page.locator("#pw-dialog")).to_have_count(0)
    admin.shot("password-reset-by-admin")
    expect(kiosk.locator("#lock")).to_be_visible()  # his open kiosk session ended with the reset
    kiosk.fill("#police-no", "500102")
    kiosk.fill("#password", "otter-cloud-maple-3")
    kiosk.click("#signin-btn")
    expect(kiosk.locator("#lock")).to_be_hidden()


def test_the_reset_entry_is_for_admins_only(screens: Any, controller: Any) -> None:
    s = screens()
    page = s.open("dashboard.html")
    s.sign_in("300001")
    expect(page.locator("#pw-open")).to_be_visible()
    expect(page.locator("#pw-reset-open")).to_be_hidden()
