"""Sign-in, idle lock, server-side session expiry, role-gated screens and the live connection's recovery."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import WebSocketRoute, expect

pytestmark = pytest.mark.slow


def test_kiosk_locks_itself_after_the_idle_timeout(screens: Any, controller: Any) -> None:
    s = screens()
    s.page.clock.install()  # the browser's clock, moved by the test instead of waited for
    page = s.open("kiosk.html")
    s.sign_in("200001")
    expect(page.locator("#ledger-title")).to_be_visible()
    page.clock.fast_forward("04:30")  # the server's kiosk idle limit is 5 minutes
    expect(page.locator("#lock")).to_be_hidden()
    page.locator("#ledger-title").click()  # a touch restarts the idle time
    page.clock.fast_forward("04:30")
    expect(page.locator("#lock")).to_be_hidden()
    page.clock.fast_forward("00:31")
    expect(page.locator("#lock")).to_be_visible()
    expect(page.locator("#lock-reason")).to_have_text("长时间未操作，终端已锁定，请重新登录")
    expect(page.locator("#ledger-list")).to_be_empty()  # nothing of the last person's work stays on screen
    s.shot("kiosk-idle-lock")
    s.sign_in("200001")
    expect(page.locator("#who")).to_contain_text("陈静")


def test_an_expired_server_session_locks_the_kiosk(screens: Any, controller: Any) -> None:
    stay = controller.walk("钱十", room=None, case_no="E-2026-501")
    s = screens()
    page = s.open("kiosk.html")
    s.sign_in("200002")
    expect(page.locator(f"[data-stay={stay['id']}]")).to_be_visible()
    controller.advance(6 * 60)  # past the kiosk session's idle limit on the server's clock
    # the live socket ends with the session (4401): the kiosk locks without waiting for the next request
    expect(page.locator("#lock")).to_be_visible()
    expect(page.locator("#lock-reason")).to_have_text("登录已超时，请重新登录")


def test_each_role_sees_only_what_it_may_do(screens: Any, controller: Any) -> None:
    stay = controller.walk("孔十一", room="wait-4", case_no="E-2026-502")
    admin = screens()
    page = admin.open("kiosk.html")
    admin.sign_in("900001")
    expect(page.locator(f"[data-stay={stay['id']}]")).to_be_visible()
    expect(page.get_by_role("button", name="新入区登记")).to_have_count(0)
    page.locator(f"[data-stay={stay['id']}]").click()
    expect(page.locator("#step")).to_have_text("当前角色只能查看")

    officer = screens()
    dash = officer.open("dashboard.html")
    officer.sign_in("100002")  # 李明, case officer: may acknowledge alarms, not record welfare checks
    row = dash.locator("#welfare [data-room=wait-4]")
    expect(row).to_be_visible()
    expect(row.get_by_role("button")).to_have_count(0)


def test_a_lost_connection_is_shown_and_recovers_by_itself(screens: Any, controller: Any) -> None:
    s = screens()
    page = s.page
    sockets: list[WebSocketRoute] = []
    controller_up = {"yes": True}

    def route(ws: WebSocketRoute) -> None:
        sockets.append(ws)
        if controller_up["yes"]:
            ws.connect_to_server()
        else:
            ws.close(code=1013, reason="try again later")  # as if the controller were still down

    page.route_web_socket("**/api/v1/live*", route)
    s.open("dashboard.html")
    s.sign_in("300001")
    expect(page.locator("body")).to_have_attribute("data-live", "up")
    banner = page.locator("#conn-banner")
    expect(banner).to_be_hidden()
    controller_up["yes"] = False
    sockets[-1].close(code=1011, reason="controller restarting")
    expect(banner).to_be_visible()
    expect(banner).to_have_text("连接已断开，正在重连…")
    s.shot("dashboard-connection-lost")
    controller.walk("曹十二", room=None, case_no="E-2026-503")  # a change made while disconnected
    expect(banner).to_be_visible()
    controller_up["yes"] = True
    expect(banner).to_be_hidden(timeout=20_000)  # the next retry of the backoff gets through
    expect(page.locator("#floor [data-room=collect]")).to_contain_text("曹十二")  # reloaded after reconnecting


def test_the_english_switch_changes_every_visible_word(screens: Any, controller: Any) -> None:
    s = screens()
    page = s.open("kiosk.html")
    s.sign_in("200001")
    page.get_by_role("button", name="English").first.click()
    expect(page.locator("header h1")).to_have_text("Handling centre · Registration kiosk")
    expect(page.locator("#ledger-title")).to_contain_text("Ledger")
    page.get_by_role("button", name="New registration").first.click()
    expect(page.locator("#reg-form h2")).to_have_text("Registration")
    expect(page.locator("#card-status")).to_contain_text("device not connected")
    s.shot("kiosk-english")
    page.get_by_role("button", name="中文").first.click()
    expect(page.locator("#reg-form h2")).to_have_text("入区登记")
