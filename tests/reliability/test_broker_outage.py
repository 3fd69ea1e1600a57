"""Broker restart and broker outage, with the real controller (devicebus attached), hw_sim and Mosquitto.

What the MQTT layer guarantees, and so what is tested:
- An event a device publishes while its link is up reaches the controller once (QoS 1, dedup by ``event_id``),
  before and after a broker restart: every panic press is exactly one panic alarm.
- Both sides reconnect by themselves with backoff and renew their subscriptions; availability goes offline on the
  controller's side during an outage (with a ``device_offline`` alarm after the grace period) and back online
  after, with those alarms resolved.
- A command is never executed after its ``expires_at``: a command stalled inside a frozen broker (SIGSTOP) past its
  timeout is dropped by the device when the broker thaws and delivers it.

Lost by design (said here and in the README): an event a device publishes while *its own* link is down is dropped
(``MqttLink.publish`` has no offline queue and the simulated devices, like the real ones modelled, do not retry);
the controller's session is clean, so the broker does not keep messages for it across its own disconnection. The
outage test asserts exactly that one press made during the outage is not delivered later either (no late replay).
"""

from __future__ import annotations

import os
import signal

import httpx
import pytest

from tests.reliability.conftest import LiveCentre

pytestmark = pytest.mark.slow

MQTT_KINDS = {"wristband_reader", "door_lock", "panic_button", "alarm_beacon", "recorder"}


def mqtt_devices(live: LiveCentre) -> dict[str, str]:
    return {i: d["availability"] for i, d in live.devices().items() if d["kind"] in MQTT_KINDS}


def press(live: LiveCentre, n: int, device: str = "panic-wait-1") -> None:
    for _ in range(n):
        r = httpx.post(f"{live.sim.url}/devices/{device}/actions/press", json={"params": {}}, timeout=10)
        r.raise_for_status()


def panics(live: LiveCentre) -> int:
    return len(live.alarms("panic", state=""))


def test_broker_restart_loses_no_event_and_recovers(live: LiveCentre) -> None:
    base = panics(live)
    press(live, 3)
    live.until(lambda: panics(live) == base + 3, what="three panic alarms")
    live.broker.stop()
    live.broker.start()
    live.until(lambda: all(a == "online" for a in mqtt_devices(live).values()), what="devices online again")
    press(live, 3)
    live.until(lambda: panics(live) == base + 6, what="three more panic alarms after the restart")
    live.until(lambda: not live.alarms("device_offline"), what="no device left alarmed offline")
    assert panics(live) == base + 6  # none lost, none twice


def test_broker_outage_offline_alarm_then_recovery(live: LiveCentre) -> None:
    base = panics(live)
    live.broker.stop()
    try:
        live.until(lambda: all(a == "offline" for a in mqtt_devices(live).values()),
                   what="the controller seeing its MQTT devices offline")
        alarmed = live.until(lambda: {a["device_id"] for a in live.alarms("device_offline")}
                             >= {"door-int-1", "rec-int-1"} and live.alarms("device_offline"),
                             what="device_offline alarms after the grace period")
        press(live, 1)  # the button's own link is down: this press is dropped at the device (by design)
    finally:
        live.broker.start()
    live.until(lambda: all(a == "online" for a in mqtt_devices(live).values()), what="devices online again")
    live.until(lambda: not live.alarms("device_offline"), what="offline alarms resolved")
    resolved = {a["id"] for a in live.alarms("device_offline", state="resolved")}
    assert {a["id"] for a in alarmed} <= resolved
    press(live, 2)
    live.until(lambda: panics(live) >= base + 2, what="presses after recovery")
    assert panics(live) == base + 2, "the press made during the outage must not be replayed late"


def test_command_stalled_in_broker_is_not_executed_after_expiry(live: LiveCentre) -> None:
    """Every beacon command the controller gave up on while the broker was frozen reaches the device after the
    thaw and is dropped there as expired; commands still within their time when delivered run normally."""
    beacon = f"{live.sim.url}/devices/beacon-duty"
    press(live, 1, "panic-wait-2")  # a critical alarm: the controller switches the duty beacon on
    live.until(lambda: httpx.get(beacon, timeout=10).json()["executed"].get("on", 0) >= 1, what="beacon on")
    before = httpx.get(beacon, timeout=10).json()
    log_mark = live.ctl.log.stat().st_size

    def timeouts() -> int:
        return live.ctl.log.read_bytes()[log_mark:].decode(errors="replace").count("not switched")

    assert live.broker.proc is not None
    pid = live.broker.proc.pid
    os.kill(pid, signal.SIGSTOP)  # the broker freezes with its sockets open: commands queue inside it
    try:
        for a in live.alarms("panic"):
            assert live.api("POST", f"/api/v1/alarms/{a['id']}/ack", {}).status_code == 200
        # the controller switches the beacon; no reply comes, and its request times out (logged)
        live.until(timeouts, timeout=30, what="a beacon command to time out")
        gave_up = timeouts()
    finally:
        os.kill(pid, signal.SIGCONT)
    live.until(lambda: httpx.get(beacon, timeout=10).json()["expired_dropped"] - before["expired_dropped"] >= gave_up,
               what="every stale command dropped by the beacon")
