"""The device bridge as its own process (``python -m controller.bridge``) over the real Mosquitto, with hw_sim's
devices (accounts, ACL and signing keys as a site runs them) and the controller's end of the bridge
(:class:`BridgeClient`) in the test:

- commands round trip: a door lock, a recording started and stopped, a compartment opened and the board's report;
- the bridge SIGKILLed while a recording runs and with commands in flight, then restarted: every command runs
  exactly once on its device (the simulators count what they executed), a command repeated with the same request
  id is answered from the journal and not run again, availability turns offline while the bridge is gone and
  online after, a compartment forced open while it was down is reported after (the board's first poll
  re-reads it) and a panic
  press made while it was down is delivered after (the broker kept it for the bridge's persistent session);
- the controller's end killed while the bridge runs: what the bridge published meanwhile is delivered when the
  controller's end is back (its persistent session), and the retained table gives every device's availability.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from controller.bridge.client import BRIDGE_DOWN, BridgeClient
from controller.bridge.messages import Command, CommandResult, PresenceBatch, encode
from controller.settings import SiteConfig, load_site
from devices.base import Availability, AvailabilityChanged, DeviceEvent, DeviceUnavailable
from devices.lock_board.adapter import LockerChanged
from devices.panic_button.adapter import PanicPressed
from hw_sim.broker import MosquittoProcess, find_mosquitto
from tests.procs import ROOT, Child, free_port
from tests.reliability.simproc import SimProcess

pytestmark = pytest.mark.slow


@dataclass
class Rig:
    broker: MosquittoProcess
    sim: SimProcess
    site: SiteConfig
    data_dir: Path
    bridge: Child

    def executed(self, device_id: str) -> dict[str, int]:
        return dict(self.sim.info(device_id)["executed"])  # type: ignore[arg-type]

    def action(self, device_id: str, action: str, **params: Any) -> None:
        r = httpx.post(f"{self.sim.url}/devices/{device_id}/actions/{action}", json={"params": params}, timeout=10)
        r.raise_for_status()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed")
    sim = SimProcess(tmp_path / "sim", grace_s=1.0, broker="none", mqtt_port=free_port())
    broker = MosquittoProcess(sim.mqtt_port, auth_dir=sim.credentials).start()
    data = tmp_path / "data"
    data.mkdir()
    env = {**os.environ, "HCC_SITE_FILE": str(sim.site), "HCC_DATA_DIR": str(data), "HCC_LOG_LEVEL": "WARNING"}
    bridge = Child([sys.executable, "-m", "controller.bridge"], log=data / "bridge.log", what="bridge", env=env,
                   cwd=ROOT, ready_line="bridge ready")
    try:
        sim.start()
        bridge.start()
        yield Rig(broker, sim, load_site(sim.site), data, bridge)
    finally:
        bridge.stop()
        sim.stop()
        broker.close()


class Seen:
    def __init__(self) -> None:
        self.events: list[DeviceEvent] = []
        self.batches: list[PresenceBatch] = []
        self.changed = asyncio.Event()

    def event(self, ev: DeviceEvent) -> None:
        self.events.append(ev)
        self.changed.set()

    def batch(self, b: PresenceBatch) -> None:
        self.batches.append(b)
        self.changed.set()

    async def until(self, pred: Any, timeout_s: float = 20.0, what: str = "condition") -> Any:
        try:
            async with asyncio.timeout(timeout_s):
                while not (found := pred()):
                    self.changed.clear()
                    await self.changed.wait()
                return found
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}") from None


async def _client(rig: Rig, seen: Seen) -> BridgeClient:
    client = BridgeClient(rig.site, rig.data_dir, seen.event, seen.batch, timeout_s=20)
    await client.start()
    assert await client.wait_bridge(30), "the bridge never said it was online"
    return client


def _online(client: BridgeClient, *ids: str) -> bool:
    return all(client.rows.get(i) is not None and client.rows[i].availability == "online" for i in ids)


async def _await_online(client: BridgeClient, seen: Seen, *ids: str) -> None:
    await seen.until(lambda: _online(client, *ids), timeout_s=30, what=f"{ids} online")


async def test_commands_round_trip(rig: Rig) -> None:
    seen = Seen()
    client = await _client(rig, seen)
    try:
        await _await_online(client, seen, "door-int-1", "rec-int-1", "lock-bus-1")
        await client.command("door_lock", "door-int-1")
        assert rig.executed("door-int-1").get("lock") == 1
        started = await client.command("recorder_start", "rec-int-1", {"room_id": "int-1", "stay_id": "s-1"})
        rid = started.data["recording_id"]
        assert rig.sim.info("rec-int-1")["recording_id"] == rid
        stopped = await client.command("recorder_stop", "rec-int-1", {"recording_id": rid})
        assert stopped.data["recording_id"] == rid and stopped.data["ended_at"] >= stopped.data["started_at"]
        await client.command("locker_open", "lock-bus-1", {"board": 1, "channel": 2})
        await seen.until(lambda: any(isinstance(e, LockerChanged) and e.open and (e.board, e.channel) == (1, 2)
                                     for e in seen.events), what="the board's report of the opening")
        with pytest.raises(DeviceUnavailable):
            await client.command("door_lock", "no-such-door")
    finally:
        await client.stop()


async def test_bridge_sigkilled_and_restarted_runs_each_command_once(rig: Rig) -> None:
    seen = Seen()
    client = await _client(rig, seen)
    try:
        await _await_online(client, seen, "door-int-1", "rec-int-1", "lock-bus-1", "panic-wait-1")
        started = await client.command("recorder_start", "rec-int-1", {"room_id": "int-1", "stay_id": "s-1"})
        rid = started.data["recording_id"]
        await client.command("locker_open", "lock-bus-1", {"board": 1, "channel": 1})
        await seen.until(lambda: any(isinstance(e, LockerChanged) and e.open and (e.board, e.channel) == (1, 1)
                                     for e in seen.events), what="compartment 1/1 open")

        rig.bridge.kill()  # SIGKILL: no clean disconnect, the broker publishes the bridge's last will
        await seen.until(lambda: not client.bridge_online, what="the bridge's last will")
        down = [e for e in seen.events if isinstance(e, AvailabilityChanged) and e.detail == BRIDGE_DOWN]
        assert {e.device_id for e in down} >= {"door-int-1", "rec-int-1", "lock-bus-1"}
        assert all(e.availability == Availability.OFFLINE for e in down)
        assert client.snapshot()[0]["availability"] == "offline"

        # while it is down: commands are asked, a compartment is forced open and a panic button pressed
        unlock = asyncio.create_task(client.command("door_unlock", "door-int-1"))
        opening = asyncio.create_task(client.command("locker_open", "lock-bus-1", {"board": 1, "channel": 3}))
        rig.action("lock-bus-1", "open_by_hand", board=1, channel=4)
        rig.action("panic-wait-1", "press")
        n_before = len(seen.events)

        rig.bridge.start()
        await unlock
        await opening
        assert rig.executed("door-int-1").get("unlock") == 1
        await seen.until(lambda: any(isinstance(e, LockerChanged) and e.open and (e.board, e.channel) == (1, 4)
                                     for e in seen.events[n_before:]), what="the forced door, re-sent by the board")
        await seen.until(lambda: any(isinstance(e, PanicPressed) for e in seen.events[n_before:]),
                         what="the press made while the bridge was down")
        await _await_online(client, seen, "door-int-1", "rec-int-1", "lock-bus-1")

        # the recording went on through the bridge's death; it stops once
        assert rig.sim.info("rec-int-1")["recording_id"] == rid
        await client.command("recorder_stop", "rec-int-1", {"recording_id": rid})
        executed = rig.executed("rec-int-1")
        assert (executed.get("start"), executed.get("stop")) == (1, 1), executed

        # the same request id again (a redelivery, a resend): the journal's answer, the device not asked again
        fut: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        cmd = Command(request_id="again0000001", op="door_lock", device_id="door-int-1", args={},
                      expires_at=time.time() + 20)
        client._pending[cmd.request_id] = (fut, encode(cmd))
        for _ in range(3):
            client.link.publish(client.topics.cmd, encode(cmd))
        first = await asyncio.wait_for(fut, 20)
        assert first.ok
        assert rig.executed("door-int-1").get("lock", 0) == 1
        panics = [e for e in seen.events if isinstance(e, PanicPressed)]
        assert len(panics) == 1  # delivered once, not once per redelivery
    finally:
        await client.stop()


async def test_controller_end_killed_while_the_bridge_runs_loses_nothing(rig: Rig) -> None:
    seen = Seen()
    client = await _client(rig, seen)
    await _await_online(client, seen, "panic-wait-2", "lock-bus-1")
    await client.link.drop()  # killed: no DISCONNECT; its persistent session stays with the broker
    await client.stop()

    rig.action("panic-wait-2", "press")
    rig.action("lock-bus-1", "open_by_hand", board=2, channel=1)

    again = Seen()
    back = await _client(rig, again)  # the same data dir: the same session
    try:
        await again.until(lambda: any(isinstance(e, PanicPressed) and e.device_id == "panic-wait-2"
                                      for e in again.events), what="the press made while the controller was down")
        await again.until(lambda: any(isinstance(e, LockerChanged) and e.open and (e.board, e.channel) == (2, 1)
                                      for e in again.events), what="the door forced while the controller was down")
        assert _online(back, "panic-wait-2", "lock-bus-1")  # from the bridge's retained table
        await back.command("door_lock", "door-int-1")
        assert rig.executed("door-int-1").get("lock") == 1
    finally:
        await back.stop()
