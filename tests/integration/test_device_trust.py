"""Devices prove who they are, and floods cannot stall the centre (issue 16), on the production-like broker of the
``centre`` fixture: every client with its own account, the generated ACL, recorders signing their confirmations.

The forger is a real MQTT client holding another device's account (a compromised panic button on the centre's
network); it learns the request id the way an attacker with broker access would (here: the test reads it with the
controller's account) and answers for the recorder every way the topic grammar allows.
"""

from __future__ import annotations

import asyncio
import json
import queue
from typing import Any

import paho.mqtt.client as mqtt
import pytest

pytestmark = pytest.mark.slow
ROOT = "hcc/demo-centre"


class Client:
    """A paho client on its own network thread with a device's (or the controller's) broker account."""

    def __init__(self, centre: Any, user: str) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        port = int(centre.container.site.mqtt.url.rsplit(":", 1)[1])
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{user}", protocol=mqtt.MQTTv311)
        self.c.username_pw_set(user, centre.mqtt_clients[user]["password"])
        self.c.on_message = lambda _c, _u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()

    def subscribe(self, topic: str) -> None:
        self.c.subscribe(topic, qos=1)

    def publish(self, topic: str, payload: dict[str, Any] | bytes) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.c.publish(topic, data, qos=1).wait_for_publish(timeout=10)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


async def start_interview(centre: Any, stay_id: str, room: str) -> asyncio.Task[tuple[int, Any]]:
    return asyncio.get_running_loop().create_task(centre.api.post(
        f"/api/v1/stays/{stay_id}/interviews", {"room_id": room, "officer_ids": ["off-1", "off-2"]}, as_="1001"))


async def assert_not_started(centre: Any, task: asyncio.Task[tuple[int, Any]], stay_id: str) -> None:
    status, body = await task
    assert status == 409 and body["code"] == "RECORDING_NOT_CONFIRMED", body
    _, stay = await centre.api.get(f"/api/v1/stays/{stay_id}")
    assert stay["interviews"] == [] and stay["state"] == "waiting", stay


async def test_a_reply_from_another_client_is_refused_alarmed_and_the_interview_not_started(centre):
    stay = await centre.walk()
    rec = centre.sim("rec-int-1")
    rec.set_fault("silent")  # the real recorder says nothing: only the forger answers
    spy, forger = Client(centre, "controller"), Client(centre, "panic-wait-3")
    try:
        spy.subscribe(f"{ROOT}/recorder/rec-int-1/cmd/#")
        await asyncio.sleep(0)
        task = await start_interview(centre, stay["id"], "int-1")
        topic, payload = await asyncio.to_thread(spy.messages.get, True, 10)
        cmd = json.loads(payload)
        rid = cmd["request_id"]
        ok = {"v": 1, "request_id": rid, "ok": True,
              "data": {"recording_id": "forged-rec", "room_id": "int-1", "started_at": 1.0}}
        forger.publish(cmd["reply_to"], ok)  # the recorder's own reply topic: the ACL drops it
        forger.publish(f"{ROOT}/controller/reply/{rid}", ok)  # the old shared reply topic: dropped too
        forger.publish(f"{ROOT}/panic_button/panic-wait-3/reply/{rid}", ok)  # its own topic: refused, alarmed
        await assert_not_started(centre, task, stay["id"])
        forged = await centre.until(lambda: centre.alarms("device_forged"), what="forgery alarm")
        assert [a["device_id"] for a in forged] == ["panic-wait-3"]
        assert rec.state_info()["recording_id"] is None
    finally:
        spy.close()
        forger.close()


@pytest.mark.parametrize("key", [b"\x01" * 32, None], ids=["wrong-key", "unsigned"])
async def test_a_confirmation_without_the_recorders_signature_is_refused_and_alarmed(centre, key):
    stay = await centre.walk()
    rec = centre.sim("rec-int-1")
    rec.key = key  # the recorder's account, but not its key: a cloned or tampered recorder
    task = await start_interview(centre, stay["id"], "int-1")
    await assert_not_started(centre, task, stay["id"])
    forged = await centre.until(lambda: centre.alarms("device_forged"), what="forgery alarm")
    assert [(a["device_id"], a["details"]["reason"]) for a in forged] == [("rec-int-1", "bad_signature")]


async def test_the_signed_confirmation_of_the_asked_recorder_starts_the_interview(centre):
    stay = await centre.walk()
    status, iv = await centre.api.post(f"/api/v1/stays/{stay['id']}/interviews",
                                       {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}, as_="1001")
    assert status == 201, iv
    assert centre.sim("rec-int-1").state_info()["recording_id"] == iv["recording_id"]
    assert await centre.alarms("device_forged") == []


async def test_a_panic_flood_is_one_alarm_with_a_counter_and_the_centre_keeps_answering(centre):
    n = 5000
    button = Client(centre, "panic-wait-3")  # the button's own account, as a forger holding it would send
    try:
        for i in range(n):
            button.c.publish(f"{ROOT}/panic_button/panic-wait-3/event/pressed",
                             json.dumps({"v": 1, "event_id": f"flood-{i}", "ts": 1.0}), qos=1)
        status, health = await centre.api.get("/healthz")
        assert status == 200 and health["ok"]  # answered while the flood is being taken in

        async def counted() -> list[dict[str, Any]]:
            rows = await centre.alarms("panic")
            return rows if rows and rows[0]["occurrences"] == n else []

        alarms = await centre.until(counted, timeout=60, what="5,000 presses counted")
        assert len(alarms) == 1 and alarms[0]["device_id"] == "panic-wait-3"
        assert centre.bus.alarm_gate.writes < 200  # folded, not one write per press
    finally:
        button.close()


async def test_messages_from_unlisted_devices_are_counted_and_alarmed_once(centre):
    # Only the controller's account may write outside the devices' own topics (commands), so it plays the source.
    ghost = Client(centre, "controller")
    try:
        for i in range(25):
            ghost.publish(f"{ROOT}/panic_button/ghost-1/cmd/x", {"v": 1, "i": i})
        watch = centre.bus.registry.watch
        await centre.until(lambda: watch.counts.get("panic_button/ghost-1") == 25, what="ghost counted")

        async def counted() -> list[dict[str, Any]]:
            rows = await centre.alarms("device_unknown")
            return rows if rows and rows[0]["occurrences"] == 20 else []

        # reported at every 10th message (the threshold): one alarm whose counter says 20
        alarms = await centre.until(counted, what="unknown-device alarm with its counter")
        assert len(alarms) == 1 and alarms[0]["details"]["source"] == "panic_button/ghost-1"
    finally:
        ghost.close()
