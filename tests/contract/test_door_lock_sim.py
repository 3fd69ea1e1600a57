"""Door lock adapter against its simulator over a real Mosquitto: commands, state, forced open, refusals, timeouts,
and the rule that an expired command is never executed."""

from __future__ import annotations

import time

import pytest

from devices import mqtt_proto as proto
from devices.base import DeviceRejected, DeviceTimeout
from devices.door_lock import protocol as p
from devices.door_lock.adapter import DoorForcedOpen, DoorLockAdapter, DoorStateChanged
from hw_sim.door_lock import DoorLockSim
from tests.contract.conftest import Collector, Rig


async def test_unlock_and_lock_change_the_reported_state(rig: Rig) -> None:
    sim, door = await rig.pair(DoorLockSim, DoorLockAdapter, "door-int-1", room_id="int-1")
    await door.unlock()
    await rig.events.wait_for(lambda e: isinstance(e, DoorStateChanged) and e.lock == "unlocked")
    assert sim.lock == "unlocked"
    await door.lock()
    await rig.events.wait_for(lambda e: isinstance(e, DoorStateChanged) and e.lock == "locked"
                              and e.ts > 0 and sim.lock == "locked")


async def test_forced_open_raises_an_event(rig: Rig) -> None:
    sim, _ = await rig.pair(DoorLockSim, DoorLockAdapter, "door-int-2", room_id="int-2")
    sim.set_fault("forced_open")
    ev = await rig.events.wait_for(lambda e: isinstance(e, DoorForcedOpen))
    assert ev.room_id == "int-2"
    await rig.events.wait_for(lambda e: isinstance(e, DoorStateChanged) and e.door == "open")


async def test_jammed_lock_is_rejected_and_open_door_cannot_lock(rig: Rig) -> None:
    sim, door = await rig.pair(DoorLockSim, DoorLockAdapter, "door-int-3")
    sim.set_fault("jammed")
    with pytest.raises(DeviceRejected, match="JAMMED"):
        await door.unlock()
    sim.clear_fault("jammed")
    await door.unlock()
    sim.open_door()
    with pytest.raises(DeviceRejected, match="DOOR_OPEN"):
        await door.lock()


async def test_silent_lock_times_out(rig: Rig) -> None:
    sim, door = await rig.pair(DoorLockSim, DoorLockAdapter, "door-int-4")
    sim.set_fault("silent")
    with pytest.raises(DeviceTimeout):
        await door.unlock(timeout_s=0.2)
    assert sim.lock == "locked"


async def test_expired_command_is_dropped_not_executed(rig: Rig) -> None:
    sim, _ = await rig.pair(DoorLockSim, DoorLockAdapter, "door-inq-1")
    cmd = p.UnlockCmd(request_id=proto.new_id(), reply_to=proto.reply_topic(rig.site, "x"),
                      expires_at=time.time() - 1)
    rig.link.publish(sim.topic("cmd", "unlock"), proto.encode(cmd))
    await sim.wait_until(lambda: sim.expired_dropped == 1)
    assert sim.lock == "locked" and sim.executed["unlock"] == 0


async def test_command_delayed_past_its_deadline_never_fires_late(rig: Rig) -> None:
    sim, door = await rig.pair(DoorLockSim, DoorLockAdapter, "door-inq-2")
    sim.set_fault("delayed", delay_s=0.3)
    with pytest.raises(DeviceTimeout):
        await door.unlock(timeout_s=0.1)
    await sim.wait_until(lambda: sim.expired_dropped == 1)  # the device got to it after the caller gave up
    assert sim.lock == "locked" and sim.executed["unlock"] == 0


async def test_a_redelivered_command_is_answered_again_but_executed_once(rig: Rig) -> None:
    sim, _ = await rig.pair(DoorLockSim, DoorLockAdapter, "door-int-1")
    replies = Collector()
    request_id = proto.new_id()
    rig.link.subscribe(proto.reply_topic(rig.site, request_id), lambda t, payload: replies(payload))
    cmd = p.UnlockCmd(request_id=request_id, reply_to=proto.reply_topic(rig.site, request_id),
                      expires_at=time.time() + 30)
    for _ in range(2):
        rig.link.publish(sim.topic("cmd", "unlock"), proto.encode(cmd))
    await replies.wait_count(lambda r: True, 2)
    assert sim.executed["unlock"] == 1
    assert proto.decode(proto.Reply, replies.items[0]).msg == proto.decode(proto.Reply, replies.items[1]).msg
