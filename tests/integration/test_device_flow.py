"""The devices drive the stay: each behaviour of the device-driven flow over real ptys and a real broker,
driven the way the world would drive the simulators, asserted as staff would see it."""

from __future__ import annotations

import dataclasses

import pytest

from tests.api.test_rules import refused
from tests.conftest import registration, walk

pytestmark = pytest.mark.slow

CARD_NO = "110101199003070038"  # the simulator's demo card (张三)


def card_registration(**extra):
    body = registration(birth="1990-03-07")
    body["subject"].update(name="张三", id_number=CARD_NO)
    body.update(identity_source="id_card", id_reader_id="idr-reg", **extra)
    return body


async def test_id_card_read_fills_and_checks_registration(centre):
    centre.sim("idr-reg").place_card()
    card = await centre.until(lambda: centre.bus.cards.get("idr-reg"), what="card read")
    assert card["name"] == "张三" and card["valid"] is True and card["sex"] == "male"
    wrong = card_registration()
    wrong["subject"]["name"] = "李四"
    await refused(centre.api, "/api/v1/stays", wrong, "ID_CARD_MISMATCH")
    status, stay = await centre.api.post("/api/v1/stays", card_registration())
    assert status == 201 and stay["identity_source"] == "id_card"


async def test_expired_card_is_shown_not_silently_accepted(centre):
    from hw_sim.id_reader import DEMO_CARD

    centre.sim("idr-reg").place_card(dataclasses.replace(DEMO_CARD, valid_to="20200601"))
    card = await centre.until(lambda: (centre.bus.cards.get("idr-reg") or {}).get("problems"), what="problem card")
    assert card
    err = await refused(centre.api, "/api/v1/stays", card_registration(), "ID_CARD_PROBLEM")
    assert err["details"]["problems"]
    status, stay = await centre.api.post("/api/v1/stays", card_registration(card_problem_reason="证件过期，已核对人像"))
    assert status == 201
    reg = stay["timeline"][0]["after"]
    assert reg["card_problems"] and reg["card_problem_reason"] == "证件过期，已核对人像"


async def test_gate_alarm_attaches_and_demands_handheld(centre):
    stay = await walk(centre.api, "registered")
    centre.sim("gate-1").walk_through([3])
    transit = await centre.until(lambda: list(centre.bus.transits.get("gate-1", [])), what="gate transit")
    counter = transit[-1]["counter"]
    path = f"/api/v1/stays/{stay['id']}/search"
    base = {"checker_id": "cus-m", "witness_id": "off-1", "gate_device_id": "gate-1", "gate_counter": counter}
    await refused(centre.api, path, {**base, "gate_result": "pass"}, "GATE_RESULT_MISMATCH", stay_id=stay["id"])
    await refused(centre.api, path, {**base, "gate_result": "alarm", "gate_zones": [3]}, "HANDHELD_REQUIRED",
                  status=422)
    status, got = await centre.api.post(path, {**base, "gate_result": "alarm", "gate_zones": [3],
                                               "handheld_result": "found", "findings": {"contraband": "钥匙"}})
    assert status == 200
    assert got["search"]["gate_transit"]["zones"] == [3] and got["search"]["gate_transit"]["alarm"] is True


async def test_locker_opens_and_placement_waits_for_the_door(centre):
    stay = await walk(centre.api, "property_stored", locker="a-03")
    board = centre.sim("lock-bus-1")
    assert board.is_open(0, 2)  # the compartment opened on the board itself
    await centre.until(lambda: centre.api.get("/api/v1/lockers"), what="lockers")
    async def door(open_: bool):
        _, lockers = await centre.api.get("/api/v1/lockers")
        return next(lk for lk in lockers if lk["id"] == "a-03")["door_open"] is open_
    await centre.until(lambda: door(True), what="door reported open")
    await refused(centre.api, f"/api/v1/stays/{stay['id']}/placement", {"room_id": "wait-1"}, "LOCKER_NOT_CLOSED")
    board.put_item(0, 2)
    board.close_door(0, 2)
    await centre.until(lambda: door(False), what="door reported closed")
    status, got = await centre.api.post(f"/api/v1/stays/{stay['id']}/placement", {"room_id": "wait-1"})
    assert status == 200
    # the unlock is in the audit trail with its operator; the board's report follows
    actions = [e["action"] for e in got["timeline"]]
    assert "locker_state_changed" in actions
    assert not await centre.alarms("locker_forced")


async def test_locker_opened_by_hand_raises_alarm(centre):
    centre.sim("lock-bus-1").open_by_hand(1, 4)
    alarm = await centre.until(lambda: centre.alarms("locker_forced"), what="forced alarm")
    assert alarm[0]["details"]["locker_id"] == "b-05" and alarm[0]["severity"] == "critical"


async def test_interview_runs_on_the_real_recorder_and_pauses_on_failure(centre):
    stay = await centre.walk()
    status, iv = await centre.api.post(f"/api/v1/stays/{stay['id']}/interviews",
                                       {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}, as_="1001")
    assert status == 201, iv
    rec = centre.sim("rec-int-1")
    assert rec.state_info()["recording_id"] == iv["recording_id"]
    door = centre.sim("door-int-1")
    await centre.until(lambda: door.state_info()["lock"] == "locked", what="door locked")
    rec.fail("DISK_FULL", "disk full")
    alarm = await centre.until(lambda: centre.alarms("recording_failed"), what="recording alarm")
    assert alarm[0]["stay_id"] == stay["id"]
    _, s = await centre.api.get(f"/api/v1/stays/{stay['id']}")
    assert s["interviews"][0]["state"] == "paused"
    assert s["interviews"][0]["gaps"][0]["reason"].startswith("recording_failed")
    status, resumed = await centre.api.post(f"/api/v1/interviews/{iv['interview_id']}/resume", {}, as_="1001")
    assert status == 200 and resumed["recording_id"] != iv["recording_id"]
    status, ended = await centre.api.post(f"/api/v1/interviews/{iv['interview_id']}/end", {}, as_="1001")
    assert status == 200 and ended["recording_span"]["stop_confirmed"] is True
    await centre.until(lambda: door.state_info()["lock"] == "unlocked", what="door unlocked")


async def test_interview_refused_when_recorder_is_offline(centre):
    stay = await centre.walk()
    centre.sim("rec-int-2").set_fault("silent")
    await refused(centre.api, f"/api/v1/stays/{stay['id']}/interviews",
                  {"room_id": "int-2", "officer_ids": ["off-1", "off-2"]}, "RECORDING_NOT_CONFIRMED", as_="1001",
                  stay_id=stay["id"])


async def test_wristband_rules_watched_live(centre):
    clock = centre.container.clock
    a = await centre.walk(body=registration(case_no="SAME", wristband_id="band-0001"), room="wait-1")
    b = await centre.walk(body=registration(case_no="SAME", wristband_id="band-0002"), room="wait-2")
    await centre.until(lambda: centre.bus.tag_owner.get("band-0002"), what="tags bound")
    reader_wait1, reader_int1 = centre.sim("band-wait-1"), centre.sim("band-int-1")
    reader_wait1.tag_move("band-0001")
    # an unknown tag in the area
    reader_wait1.tag_move("band-9999")
    await centre.until(lambda: centre.alarms("unknown_tag"), what="unknown tag alarm")
    # co-case subjects in one room
    reader_wait1.tag_move("band-0002")
    co = await centre.until(lambda: centre.alarms("co_case_contact"), what="co-case alarm")
    assert sorted(co[0]["details"]["stay_ids"]) == sorted([a["id"], b["id"]])
    # a subject alone in an interview room: unattended, and not where the stay allows, after the grace period
    reader_int1.tag_move("band-0001")
    await centre.until(lambda: centre.bus.tags.get("band-0001") and centre.bus.tags["band-0001"].zone == "int-1")
    await clock.advance_async(30)
    assert not await centre.alarms("unattended")
    await clock.advance_async(150)
    await centre.until(lambda: centre.alarms("unattended"), what="unattended alarm")
    await centre.until(lambda: centre.alarms("location_not_allowed"), what="location alarm")
    # the strap is cut
    reader_wait1.tag_remove("band-0002", "cut")
    removed = await centre.until(lambda: centre.alarms("tag_removed"), what="tag removed alarm")
    assert removed[0]["stay_id"] == b["id"]


async def test_lone_officer_in_interview(centre):
    stay = await centre.walk(body=registration(wristband_id="band-0100"))
    for sid, tag in (("off-1", "tag-off-1"), ("off-2", "tag-off-2")):
        status, _ = await centre.api.post(f"/api/v1/staff/{sid}/tag", {"tag_id": tag}, as_="3001")
        assert status == 200
    status, iv = await centre.api.post(f"/api/v1/stays/{stay['id']}/interviews",
                                       {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}, as_="1001")
    assert status == 201
    await centre.until(lambda: centre.bus.tag_owner.get("tag-off-2"), what="staff tags known")
    reader = centre.sim("band-int-1")
    for tag in ("band-0100", "tag-off-1", "tag-off-2"):
        reader.tag_move(tag)
    await centre.until(lambda: len([t for t in centre.bus.tags.values() if t.zone == "int-1"]) == 3)
    await centre.container.clock.advance_async(120)
    assert not await centre.alarms("lone_officer")
    centre.sim("band-wait-2").tag_move("tag-off-2")  # one officer walks out
    await centre.until(lambda: centre.bus.tags["tag-off-2"].zone == "wait-2")
    # the room check the move scheduled runs now, at this time (not after the clock has moved): the grace starts here
    await centre.bus.presence.check_rooms({"int-1", "wait-2"})
    await centre.container.clock.advance_async(61)
    lone = await centre.until(lambda: centre.alarms("lone_officer"), what="lone officer alarm")
    assert lone[0]["stay_id"] == stay["id"] and lone[0]["details"]["officers_present"] == ["off-1"]


async def test_panic_button_lights_the_beacon(centre):
    centre.sim("panic-wait-3").press()
    panic = await centre.until(lambda: centre.alarms("panic"), what="panic alarm")
    assert panic[0]["room_id"] == "wait-3" and panic[0]["severity"] == "critical"
    beacon = centre.sim("beacon-duty")
    await centre.until(lambda: beacon.state_info()["on"], what="beacon on")
    status, _ = await centre.api.post(f"/api/v1/alarms/{panic[0]['id']}/ack", {})
    assert status == 200
    await centre.until(lambda: not beacon.state_info()["on"], what="beacon off")


async def test_device_offline_raises_and_recovers(centre):
    centre.sim("door-int-3").set_fault("offline")
    alarm = await centre.until(lambda: centre.alarms("device_offline"), timeout=10, what="offline alarm")
    assert alarm[0]["device_id"] == "door-int-3"
    centre.sim("door-int-3").clear_fault("offline")

    async def resolved() -> bool:
        return not await centre.alarms("device_offline")

    await centre.until(resolved, timeout=10, what="alarm resolved")


async def test_serial_device_availability_is_published_on_mqtt(centre):
    """The lock bus has no MQTT client: the controller announces its availability under its topic (retained)."""
    import asyncio

    import paho.mqtt.client as mqtt

    got: dict[str, bytes] = {}
    port = int(centre.container.site.mqtt.url.rsplit(":", 1)[1])
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.username_pw_set("controller", centre.mqtt_clients["controller"]["password"])  # no anonymous reads
    client.on_message = lambda _c, _u, m: got.__setitem__(m.topic, m.payload)
    client.connect("127.0.0.1", port)
    client.subscribe("hcc/demo-centre/lock_board/lock-bus-1/#")
    client.loop_start()
    try:
        await centre.until(lambda: got.get("hcc/demo-centre/lock_board/lock-bus-1/availability") == b"online",
                           what="retained availability")
        centre.sim("lock-bus-1").set_fault("offline")
        await centre.until(lambda: got.get("hcc/demo-centre/lock_board/lock-bus-1/availability") == b"offline",
                           what="offline announced")
        centre.sim("lock-bus-1").clear_fault("offline")
        await centre.until(lambda: got.get("hcc/demo-centre/lock_board/lock-bus-1/availability") == b"online",
                           timeout=10, what="back online announced")
    finally:
        client.loop_stop()
        client.disconnect()
        await asyncio.sleep(0)
