"""Screens as a first-time officer and a duty supervisor read them: no code or internal id on any screen, the
compliant choice as the easy one, the countdown that stops at exit, a half-filled form kept across an idle lock, and
a dashboard readable from three metres on the wall and still useful at 1280x800."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.slow

# what a person must never read: stable error codes, internal ids (stay-…, rec-int-1, panic-wait-5, cap-…),
# the names of the controller's own parts
FORBIDDEN_TEXT = [
    re.compile(r"\b[A-Z][A-Z0-9]+_[A-Z0-9_]+\b"),
    re.compile(r"\b[a-z]{2,}(-[a-z0-9]+)+\b"),
    re.compile(r"\b(devicebus|scheduler|bridge|undefined|null|NaN)\b"),
]
WALL_MIN_PX = 28  # the dashboard's smallest text in wall mode (see kiosk_ui/css/dashboard.css for the reasoning)


@pytest.fixture(autouse=True)
def _fresh_sign_in_window(controller: Any) -> None:
    """The per-address sign-in limit counts on the controller's (test) clock, which stands still between
    advances: each test here signs in several times, so each starts a minute later."""
    controller.advance(61)


def visible_text_problems(page: Page) -> list[str]:
    text = page.evaluate("() => document.body.innerText")
    return [m.group(0) for pat in FORBIDDEN_TEXT for m in pat.finditer(text)]


def test_the_check_over_visible_text_would_catch_a_code_or_an_id(screens: Any) -> None:
    s = screens()
    page = s.open("kiosk.html")
    page.evaluate("""() => { const d = document.createElement('div');
        d.textContent = 'ROOM_MIXED_SEX stay-1a2b panic-wait-5 devicebus'; document.body.append(d); }""")
    assert set(visible_text_problems(page)) >= {"ROOM_MIXED_SEX", "stay-1a2b", "panic-wait-5", "devicebus"}


def test_a_whole_stay_shows_no_code_or_internal_id_and_the_clock_stops_at_exit(screens: Any,
                                                                              controller: Any) -> None:
    stay = controller.walk("欧阳十五", room="wait-4", case_no="G-2026-701")  # exits below: the room is free again
    sid = stay["id"]
    for _ in range(4):  # past the 12-hour summons (in steps the server's session idle limit allows)
        controller.advance(3 * 3600 + 600)
    s = screens()
    page = s.open("kiosk.html")
    s.sign_in("200002")  # 刘强, custody staff
    page.locator(f"[data-stay={sid}]").click()
    expect(page.locator(f".ledger-row[data-stay={sid}]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#stay-head .state")).to_have_text("候问中")
    expect(page.locator("#stay-head .cd")).to_contain_text("已超时")
    # placed: the exit is not the step to do now
    expect(page.locator(".stepper li[data-step=placement]")).to_have_class("done")
    expect(page.locator(".stepper li.now")).to_have_count(0)
    page.locator("[data-tab=exit]").click()
    page.locator("#exit-start [name=disposition]").select_option("released")
    page.get_by_role("button", name="开始出区").click()
    expect(page.locator("#stay-head .state")).to_have_text("出区中")
    expect(page.locator(".stepper li.now")).to_have_attribute("data-step", "exit")
    form = page.locator("#exit-form")
    form.get_by_role("button", name="完成出区").click()  # nothing chosen yet: said in Chinese
    expect(form.locator(".error-box")).to_be_visible()
    form.get_by_role("button", name="全部发还本人").click()
    expect(form.locator(".exit-item [name=disposition]").first).to_have_value("returned")
    form.locator("[name=checker_id]").select_option("cus-m")
    box = form.locator("canvas")
    b = box.bounding_box()
    assert b
    page.mouse.move(b["x"] + 20, b["y"] + 20)
    page.mouse.down()
    for i in range(12):
        page.mouse.move(b["x"] + 30 + i * 20, b["y"] + 40 + (i % 3) * 15)
    page.mouse.up()
    assert not visible_text_problems(page), visible_text_problems(page)
    form.get_by_role("button", name="完成出区").click()
    expect(page.locator("#exited")).to_contain_text("已出区")
    # the overdue countdown stops at exit: the closed stay no longer reads "overdue" and no longer ticks
    expect(page.locator("#stay-head .cd")).to_have_text("已出区，计时停止")
    expect(page.locator("#stay-head")).not_to_contain_text("已超时")
    expect(page.locator("#stay-head .cd[data-deadline]")).to_have_count(0)
    assert not visible_text_problems(page), visible_text_problems(page)

    duty = screens(width=1920, height=1080)
    dash = duty.open("dashboard.html")
    duty.sign_in("300001")
    dash.locator("#replay-stay").select_option(sid)
    replay = dash.locator("#replay-body")
    expect(replay.locator("ol.timeline li[data-action-name=stay_exited]")).to_contain_text("出区")
    expect(replay.locator(".cd")).to_have_text("已出区，计时停止")
    expect(replay).not_to_contain_text("devicebus")
    assert not visible_text_problems(dash), visible_text_problems(dash)
    duty.shot("dashboard-replay-exited-1920")


def test_an_idle_lock_keeps_the_half_filled_form_for_the_same_officer_only(screens: Any, controller: Any) -> None:
    s = screens()
    s.page.clock.install()
    page = s.open("kiosk.html")
    s.sign_in("200001")
    page.get_by_role("button", name="新入区登记").first.click()
    form = page.locator("#reg-form")
    form.locator("[name=name]").fill("半填写")
    form.locator(".officer-search").fill("王")
    expect(form.locator("label.check", has_text="王建国")).to_be_visible()
    expect(form.locator("label.check", has_text="李明")).to_be_hidden()  # the officer search narrows the list
    form.get_by_label("王建国").check()
    page.clock.fast_forward("05:01")
    expect(page.locator("#lock")).to_be_visible()
    expect(page.locator("#work")).to_be_empty()  # nothing of the form is visible behind the lock
    s.sign_in("200001")  # the same person: the form is back as she left it
    expect(page.locator("#reg-form [name=name]")).to_have_value("半填写")
    expect(page.locator("#reg-form").get_by_label("王建国")).to_be_checked()
    page.clock.fast_forward("05:01")
    expect(page.locator("#lock")).to_be_visible()
    s.sign_in("200002")  # someone else: the kept form is dropped
    expect(page.locator("#reg-form")).to_have_count(0)
    expect(page.locator(".welcome")).to_be_visible()


def test_dashboard_wall_mode_shows_every_room_without_scrolling_in_large_text(screens: Any, controller: Any) -> None:
    # someone out of the rooms (temporary leave): the "outside" group takes its share of the bottom row, where the
    # intake rooms' names are the longest (信息采集室 was cut to "信息采…" then)
    stay = controller.walk("门外甲", room=controller.empty_room(), case_no="B-2026-090")
    ask = controller.call("POST", "/approvals", "200001", {"kind": "temporary_leave", "stay_id": stay["id"],
                                                           "leave_reason": "other", "reason": "辨认现场"})
    controller.call("POST", f"/approvals/{ask['id']}/grant", "300001", {})
    controller.call("POST", f"/stays/{stay['id']}/leave", "200001",
                    {"reason": "other", "approval_id": ask["id"], "escort_ids": ["off-1"]})
    s = screens(width=1920, height=1080)
    page = s.open("dashboard.html?wall=1")
    s.sign_in("300001")
    rooms = page.locator("#floor .room[data-room]")
    expect(rooms).to_have_count(20)  # every room of the sample site (with its two witness waiting rooms)
    fit = page.evaluate("""() => {
        const se = document.scrollingElement;
        const panel = document.querySelector('.floor-panel').getBoundingClientRect();
        const inside = (b) => b.top >= panel.top - 0.5 && b.left >= panel.left - 0.5 && b.bottom <= panel.bottom + 0.5
            && b.right <= panel.right + 0.5 && b.bottom <= innerHeight;
        // every room card and every occupant's name and countdown lies wholly inside the visible floor panel
        const out = [...document.querySelectorAll('#floor .room, #floor .occupant .cd, #floor .occupant button')]
          .filter((r) => !inside(r.getBoundingClientRect())).map((r) => r.dataset.room || r.textContent);
        // and every room's name is whole, not cut to "信息采…" (its count beside it)
        const cut = [...document.querySelectorAll('#floor .room strong')]
          .filter((e) => e.scrollWidth > e.clientWidth + 0.5).map((e) => e.textContent);
        return { scroll: se.scrollHeight - innerHeight, out, cut };
    }""")
    s.shot("dashboard-wall-1920")
    assert fit["scroll"] <= 0 and not fit["out"] and not fit["cut"], fit
    smallest = page.evaluate("""() => {
        let min = 1e9, where = '';
        const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walk.nextNode()) {
            const n = walk.currentNode; if (!n.textContent.trim()) continue;
            const el = n.parentElement; const cs = getComputedStyle(el);
            if (el.closest('.hidden, [hidden], #lock, audio') || cs.display === 'none' || cs.visibility === 'hidden') continue;
            const r = el.getBoundingClientRect(); if (!r.width || !r.height) continue;
            const px = parseFloat(cs.fontSize); if (px < min) { min = px; where = n.textContent.trim().slice(0, 20); }
        }
        return { min, where };
    }""")
    assert smallest["min"] >= WALL_MIN_PX, smallest
    s.shot("dashboard-wall-1920")


def test_dashboard_at_1280x800_keeps_the_interview_rooms_in_view(screens: Any, controller: Any) -> None:
    s = screens(width=1280, height=800)
    page = s.open("dashboard.html")
    s.sign_in("300001")
    group = page.locator("#floor [data-group=interview]")
    expect(group).to_be_visible()
    b = group.bounding_box()
    assert b and b["y"] + b["height"] <= 800, b
    s.shot("dashboard-1280")


def test_every_forbidden_room_says_why_and_a_lawful_one_is_suggested(screens: Any, controller: Any) -> None:
    s = screens()
    page = s.open("kiosk.html")
    s.sign_in("200001")
    stay = controller.walk("丁十六", room=None, case_no="G-2026-703")
    page.locator(f"[data-stay={stay['id']}]").click()
    form = page.locator("#placement-form")
    expect(form.locator("#room-grid .room-pick").first).to_contain_text("推荐")
    forbidden = form.locator("#forbidden-grid .room-pick")
    expect(forbidden.first).to_be_attached()
    for i in range(forbidden.count()):
        expect(forbidden.nth(i).locator(".reasons li").first).to_be_attached()  # each says why
    assert not visible_text_problems(page), visible_text_problems(page)
    s.shot("kiosk-placement-suggested")


def test_the_case_is_picked_from_the_known_cases_so_co_case_separation_holds(screens: Any, controller: Any) -> None:
    controller.walk("同案甲", room=None, case_no="H-2026-801")
    s = screens()
    page = s.open("kiosk.html")
    s.sign_in("200001")
    page.get_by_role("button", name="新入区登记").first.click()
    form = page.locator("#reg-form")
    case = form.locator("[name=case_no]")
    case.fill("h-2026-80")
    expect(form.locator("#case-list option[value='H-2026-801']")).to_be_attached()
    case.fill("H-2026-801")
    expect(form.locator("#case-hint")).to_contain_text("已有案件，本案在区 1 人")
    case.fill("H-2026-999")
    expect(form.locator("#case-hint")).to_contain_text("新案件")


@pytest.mark.parametrize("width,height", [(1280, 800), (1920, 1080)])
def test_every_screen_at_both_sizes_reads_without_codes(screens: Any, controller: Any, width: int, height: int) -> None:
    """Screenshots of each screen at the kiosk's and the duty room's sizes (tests/artifacts/screenshots/), each
    checked for codes and internal ids in its visible text."""
    for path, who, name in [("kiosk.html", "200001", "kiosk"), ("interview.html?room=int-2", "100001", "interview"),
                            ("dashboard.html", "300001", "dashboard")]:
        s = screens(width=width, height=height)
        page = s.open(path)
        s.sign_in(who)
        expect(page.locator("#who")).not_to_be_empty()
        if name == "kiosk":
            page.get_by_role("button", name="新入区登记").first.click()
            expect(page.locator("#reg-form")).to_be_visible()
        assert not visible_text_problems(page), (name, visible_text_problems(page))
        s.shot(f"{name}-{width}x{height}")
