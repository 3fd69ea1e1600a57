"""Welfare (issue 13): meal and night-rest timers and their alarms on the fake clock, welfare-check intervals by
risk with their reasons, and a welfare check accepted only from a checker shown to be in the room (refusals write
nothing)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from controller import auth
from controller.domain.actor import Actor
from controller.settings import parse_site
from devices.wristband_reader.adapter import TagPresent
from tests.api.test_approvals import later
from tests.api.test_rules import refused
from tests.conftest import PASSWORD, registration, walk


def bus_of(container: Any) -> Any:
    """The production devicebus, without its devices started: tests feed it the wristband readers' events (the
    edge we do not own); tests/integration runs it over the simulated readers and a real broker."""
    from controller.devicebus import DeviceBus

    if container.devices is None:
        container.devices = DeviceBus(container)
    return container.devices


async def staff_in_room(api: Any, container: Any, staff_id: str, room_id: str) -> str:
    """Binds the staff member's own tag (as an admin would) and has the room's reader report it there now."""
    tag = f"tag-{staff_id}"
    signed_in = "9001" in api.tokens
    status, body = await api.post(f"/api/v1/staff/{staff_id}/tag", {"tag_id": tag}, as_="9001")
    assert status == 200, body
    if not signed_in:  # leave no admin session behind for the caller's clock to expire
        api.tokens.pop("9001")
    bus = bus_of(container)
    await bus.presence.refresh_tags()
    bus.on_device_event(TagPresent(f"band-{room_id}", "wristband_reader", tag_id=tag, zone=room_id, rssi=-48.0,
                                   event_id=str(uuid.uuid4())))
    return tag


async def open_kinds(api: Any, sid: str) -> list[str]:
    status, alarms = await api.get(f"/api/v1/alarms?state=open&stay_id={sid}", as_="2001")
    assert status == 200, alarms
    return [a["kind"] for a in alarms]


CHECK = {"observation": "ok", "note": "情绪稳定"}


# --- a check counts only when the checker is there ---------------------------------------------------------

async def test_a_welfare_check_needs_the_checkers_own_tag_in_the_room(api, container):
    stay = await walk(api, room="wait-2")
    sid, path = stay["id"], "/api/v1/rooms/wait-2/welfare-checks"
    # no tag bound to the guard: refused, nothing written
    err = await refused(api, path, CHECK, "WELFARE_CHECK_NOT_PRESENT", stay_id=sid)
    assert err["details"]["reason"] == "no_staff_tag" and "巡查" in err["message"]
    # the guard's tag is reported in another room
    await staff_in_room(api, container, "cus-f", "wait-1")
    err = await refused(api, path, CHECK, "WELFARE_CHECK_NOT_PRESENT", stay_id=sid)
    assert err["details"]["reason"] == "tag_not_in_room"
    # a colleague in the room does not make the signed-in guard present (the checker is who signed in)
    await staff_in_room(api, container, "cus-m", "wait-2")
    await refused(api, path, CHECK, "WELFARE_CHECK_NOT_PRESENT", stay_id=sid)
    # the reader reports her own tag in the room: accepted, recorded as hers
    await staff_in_room(api, container, "cus-f", "wait-2")
    status, wc = await api.post(path, CHECK, as_="2001")
    assert status == 201, wc
    assert wc["occupant_stay_ids"] == [sid]
    # a report older than the window is not presence now: a check cannot be filled in afterwards
    await later(api, container, (container.site.welfare.presence_window_s + 1) / 60)
    await refused(api, path, CHECK, "WELFARE_CHECK_NOT_PRESENT", stay_id=sid)


async def test_the_accepted_check_names_the_signed_in_checker_and_how_presence_was_shown(api, container):
    await walk(api, room="wait-2")
    await staff_in_room(api, container, "cus-m", "wait-2")
    status, wc = await api.post("/api/v1/rooms/wait-2/welfare-checks", CHECK, as_="2002")
    assert status == 201, wc
    from sqlmodel import select

    from controller.store.tables import AuditEntry, WelfareCheck

    row = container.db.read_sync(lambda s: s.get(WelfareCheck, wc["id"]))
    assert row.staff_id == "cus-m"
    entry = container.db.read_sync(lambda s: s.exec(select(AuditEntry).where(
        AuditEntry.action == "welfare_checked")).one())
    assert entry.actor_id == "cus-m" and entry.after["presence_shown_by"] == "tag"


def without_reader(container: Any, room_id: str) -> None:
    """The site with no wristband reader in ``room_id``."""
    raw = container.site.model_dump(mode="json")
    raw["devices"] = [d for d in raw["devices"] if not (d["kind"] == "wristband_reader" and d["room_id"] == room_id)]
    container.site = parse_site(raw)
    container.ctx.config = container.site


async def kiosk_login(api: Any, kiosk_id: str, token: str | None) -> str:
    body = {"police_no": "2001", "password": PASSWORD, "kiosk_id": kiosk_id}
    if token:
        body["kiosk_token"] = token
    r = await api.client.post("/api/v1/auth/login", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


async def test_where_no_reader_covers_the_room_only_its_enrolled_kiosk_may_record_a_check(api, container):
    without_reader(container, "wait-5")
    stay = await walk(api, room="wait-5")
    sid, path = stay["id"], "/api/v1/rooms/wait-5/welfare-checks"
    # from the duty room's PC (no kiosk): refused
    err = await refused(api, path, CHECK, "WELFARE_CHECK_NOT_PRESENT", stay_id=sid)
    assert err["details"]["reason"] == "not_room_kiosk"
    # a tag somewhere does not stand in for a reader the room does not have
    await staff_in_room(api, container, "cus-f", "wait-1")
    await refused(api, path, CHECK, "WELFARE_CHECK_NOT_PRESENT", stay_id=sid)
    enrol = container.db.write_sync
    other = enrol(Actor.system("cli"), lambda uow: auth.enrol_kiosk(uow, "kiosk-wait-1", "候问室1终端", "wait-1"))
    here = enrol(Actor.system("cli"), lambda uow: auth.enrol_kiosk(uow, "kiosk-wait-5", "候问室5终端", "wait-5"))
    # a kiosk id merely named, not enrolled, proves nothing (the demo site admits unenrolled kiosk ids)
    api.tokens["2001"] = await kiosk_login(api, "kiosk-made-up", None)
    await refused(api, path, CHECK, "WELFARE_CHECK_NOT_PRESENT", stay_id=sid)
    # the kiosk of another room
    api.tokens["2001"] = await kiosk_login(api, "kiosk-wait-1", other)
    await refused(api, path, CHECK, "WELFARE_CHECK_NOT_PRESENT", stay_id=sid)
    # the room's own enrolled kiosk
    api.tokens["2001"] = await kiosk_login(api, "kiosk-wait-5", here)
    status, wc = await api.post(path, CHECK, as_="2001")
    assert status == 201, wc
    # revoked, it proves nothing any more (and its sessions end)
    enrol(Actor.system("cli"), lambda uow: auth.revoke_kiosk(uow, "kiosk-wait-5"))
    api.tokens.pop("2001")
    await refused(api, path, CHECK, "WELFARE_CHECK_NOT_PRESENT", stay_id=sid)


# --- intervals by risk, with their reasons -------------------------------------------------------------------

async def test_the_shortest_risk_interval_applies_and_its_reasons_are_shown(api, container):
    minor = await walk(api, body=registration(birth="2010-05-01"), room="wait-6")
    sid = minor["id"]
    _, w = await api.get(f"/api/v1/stays/{sid}/welfare")
    assert w["welfare_check"]["minutes"] == 15
    assert [r["name"] for r in w["welfare_check"]["reasons"]] == ["未成年人"]
    status, rec = await api.post(f"/api/v1/stays/{sid}/health/entry-check",
                                 {"self_harm_risk": True, "illnesses": ["哮喘"]}, as_="2001")
    assert status == 201, rec
    _, w = await api.get(f"/api/v1/stays/{sid}/welfare")
    assert w["welfare_check"]["minutes"] == 10
    assert [r["name"] for r in w["welfare_check"]["reasons"]] == ["有自伤自残风险"]
    assert [r["name"] for r in w["welfare_check"]["all_reasons"]] == ["有自伤自残风险", "未成年人", "患病"]
    _, rooms = await api.get("/api/v1/rooms")
    room = next(r for r in rooms if r["id"] == "wait-6")
    assert room["welfare_interval"]["minutes"] == 10
    due = datetime.fromisoformat(room["next_welfare_check_due"])
    await later(api, container, 9)
    assert "welfare_check_late" not in [a["kind"] for a in (await api.get("/api/v1/alarms?state=open"))[1]]
    await later(api, container, 2)
    late = [a for a in (await api.get("/api/v1/alarms?state=open"))[1] if a["kind"] == "welfare_check_late"]
    assert [a["room_id"] for a in late] == ["wait-6"]
    assert late[0]["details"]["interval_minutes"] == 10 and late[0]["details"]["due_at"] == due.isoformat()
    assert [r["name"] for r in late[0]["details"]["reasons"]] == ["有自伤自残风险"]


async def test_a_room_without_risks_keeps_the_site_default(api):
    stay = await walk(api, room="wait-3")
    _, w = await api.get(f"/api/v1/stays/{stay['id']}/welfare")
    assert w["welfare_check"] == {"minutes": 30, "reasons": [], "all_reasons": [], "room_id": "wait-3",
                                  "room_next_due": w["welfare_check"]["room_next_due"]}


# --- meals and the night's rest ------------------------------------------------------------------------------

async def test_meal_due_is_raised_by_the_clock_and_resolved_by_the_meal(api, container):
    # arrival 09:00 Beijing time (01:00 UTC); a meal every 6 h by day (site policy)
    stay = await walk(api, body=registration(basis="continued_questioning"), room="wait-2")
    sid = stay["id"]
    _, w = await api.get(f"/api/v1/stays/{sid}/welfare")
    entered = datetime.fromisoformat(stay["entered_at"])
    assert datetime.fromisoformat(w["meal"]["due_at"]) == entered + timedelta(hours=6)
    await later(api, container, 6 * 60 - 1)
    assert "meal_due" not in await open_kinds(api, sid)
    await later(api, container, 2)
    assert (await open_kinds(api, sid)).count("meal_due") == 1
    await later(api, container, 30)  # later sweeps do not pile up alarms: one open per stay and kind
    assert (await open_kinds(api, sid)).count("meal_due") == 1
    status, rec = await api.post(f"/api/v1/stays/{sid}/care", {"kind": "meal", "note": "午餐"}, as_="2001")
    assert status == 201, rec
    assert "meal_due" not in await open_kinds(api, sid)
    _, w = await api.get(f"/api/v1/stays/{sid}/welfare")
    assert w["meal"]["last_at"] == rec["at"]
    assert datetime.fromisoformat(w["meal"]["due_at"]) == datetime.fromisoformat(rec["at"]) + timedelta(hours=6)
    # the next meal falls due at 21:31 local, before the night window: a new alarm then
    await later(api, container, 6 * 60 + 1)
    assert (await open_kinds(api, sid)).count("meal_due") == 1


async def test_no_meal_falls_due_in_the_night_window(api, container):
    stay = await walk(api, body=registration(basis="continued_questioning"), room="wait-2")
    sid = stay["id"]
    await later(api, container, 10 * 60)  # 19:00 local
    await api.post(f"/api/v1/stays/{sid}/care", {"kind": "meal"}, as_="2001")
    _, w = await api.get(f"/api/v1/stays/{sid}/welfare")
    # 19:00 + 6 h = 01:00, inside 22:00-06:00: due when the window closes (06:00 local = 22:00 UTC)
    assert w["meal"]["due_at"] == "2026-11-22T22:00:00+00:00"


async def test_rest_due_in_the_night_window_and_resolved_when_rest_is_recorded(api, container):
    stay = await walk(api, body=registration(basis="continued_questioning"), room="wait-2")
    sid = stay["id"]
    _, w = await api.get(f"/api/v1/stays/{sid}/welfare")
    assert w["rest"]["in_window"] is False and w["rest"]["due_at"] is None
    assert w["rest"]["next_window_at"] == "2026-11-22T14:00:00+00:00"  # 22:00 Beijing time
    # 22:00-06:00 with 6 h continuous rest: the rest must start by 00:00 local (16:00 UTC)
    await later(api, container, 14 * 60 + 59)
    _, w = await api.get(f"/api/v1/stays/{sid}/welfare")
    assert w["rest"]["in_window"] is True and w["rest"]["due_at"] == "2026-11-22T16:00:00+00:00"
    assert "rest_due" not in await open_kinds(api, sid)
    await later(api, container, 2)
    assert (await open_kinds(api, sid)).count("rest_due") == 1
    status, rec = await api.post(f"/api/v1/stays/{sid}/care", {"kind": "rest"}, as_="2001")
    assert status == 201, rec
    assert "rest_due" not in await open_kinds(api, sid)
    _, w = await api.get(f"/api/v1/stays/{sid}/welfare")
    assert w["rest"]["due_at"] is None and w["rest"]["last_at"] == rec["at"]


async def test_care_for_a_closed_stay_is_refused_and_writes_nothing(api):
    stay = await walk(api, room="wait-2")
    sid = stay["id"]
    status, s = await api.post(f"/api/v1/stays/{sid}/exit", {"disposition": "released"}, as_="2001")
    assert status == 200, s
    items = s["property"]["items"]
    status, s = await api.post(f"/api/v1/stays/{sid}/exit/complete", {
        "exit_search": {"checker_id": "cus-m", "findings": {}},
        "items": [{"item_id": i["id"], "disposition": "returned"} for i in items]}, as_="2001")
    assert status == 200 and s["state"] == "exited", s
    await refused(api, f"/api/v1/stays/{sid}/care", {"kind": "meal"}, "STAY_CLOSED", stay_id=sid)


async def test_the_checker_is_never_named_in_the_body(api, container):
    stay = await walk(api, room="wait-2")
    await staff_in_room(api, container, "cus-m", "wait-2")
    # 陈静 (2001) is not in the room; naming 刘强, who is, does not make the check hers or his
    await refused(api, "/api/v1/rooms/wait-2/welfare-checks", {**CHECK, "staff_id": "cus-m"}, "VALIDATION_ERROR",
                  status=422, stay_id=stay["id"])
