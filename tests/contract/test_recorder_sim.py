"""Recorder adapter against its simulator over a real Mosquitto: start/stop, refusals, a failure mid-recording,
and the missed-heartbeat watchdog."""

from __future__ import annotations

import pytest

from devices.base import Availability, AvailabilityChanged, DeviceRejected, DeviceUnverified
from devices.recorder.adapter import RecorderAdapter, RecorderHeartbeatMissed, RecorderStatus, RecordingFailed
from hw_sim.recorder import RecorderSim
from tests.contract.conftest import Rig


async def test_start_and_stop_a_recording(rig: Rig) -> None:
    sim, rec = await rig.pair(RecorderSim, RecorderAdapter, "rec-int-1", room_id="int-1")
    started = await rec.start_recording("int-1", "stay-42")
    assert started.room_id == "int-1" and started.recording_id == sim.recording_id
    await rig.events.wait_for(lambda e: isinstance(e, RecorderStatus) and e.recording
                              and e.recording_id == started.recording_id and e.stay_id == "stay-42")
    with pytest.raises(DeviceRejected, match="BUSY"):
        await rec.start_recording("int-1", "stay-43")
    stopped = await rec.stop_recording(started.recording_id)
    assert stopped.started_at == started.started_at and stopped.ended_at >= stopped.started_at
    with pytest.raises(DeviceRejected, match="NOT_RECORDING"):
        await rec.stop_recording(started.recording_id)


async def test_recorder_refuses_another_room(rig: Rig) -> None:
    _, rec = await rig.pair(RecorderSim, RecorderAdapter, "rec-int-2", room_id="int-2")
    with pytest.raises(DeviceRejected, match="WRONG_ROOM"):
        await rec.start_recording("int-1", "stay-1")


async def test_failure_mid_recording_reaches_the_controller(rig: Rig) -> None:
    sim, rec = await rig.pair(RecorderSim, RecorderAdapter, "rec-int-3", room_id="int-3")
    started = await rec.start_recording("int-3", "stay-7")
    sim.set_fault("recording_failure", code="DISK_FULL")
    ev = await rig.events.wait_for(lambda e: isinstance(e, RecordingFailed))
    assert (ev.recording_id, ev.code, ev.room_id) == (started.recording_id, "DISK_FULL", "int-3")
    await rig.events.wait_for(lambda e: isinstance(e, RecorderStatus) and not e.recording)


async def test_missed_heartbeats_raise_an_event_and_degrade(rig: Rig) -> None:
    sim, rec = await rig.pair(RecorderSim, RecorderAdapter, "rec-int-4", room_id="int-4",
                              sim_options={"heartbeat_s": 0.05}, options={"heartbeat_limit_s": 0.6})
    sim.set_fault("silent")
    missed = await rig.events.wait_for(lambda e: isinstance(e, RecorderHeartbeatMissed))
    assert missed.limit_s == 0.6 and missed.last_heartbeat_at is not None
    assert rec.availability == Availability.DEGRADED
    sim.clear_fault("silent")
    await rig.events.wait_for(lambda e: isinstance(e, AvailabilityChanged) and e.device_id == "rec-int-4"
                              and e.availability == Availability.ONLINE and e.ts >= missed.ts)
    assert len(rig.events.of(RecorderHeartbeatMissed)) == 1


async def test_a_production_recorder_without_its_key_is_never_trusted(rig: Rig) -> None:
    """On a production site (``require_signature``) a recorder whose key the controller does not hold cannot start
    an interview: its confirmation could come from anyone with its broker account. A bench recorder still may."""
    sim, rec = await rig.pair(RecorderSim, RecorderAdapter, "rec-int-5", room_id="int-5")
    rec.require_signature = True
    with pytest.raises(DeviceUnverified, match="no key"):
        await rec.start_recording("int-5", "stay-9")
    assert sim.recording_id is None  # not even asked: nothing records without an interview behind it
    rec.require_signature = False
    started = await rec.start_recording("int-5", "stay-10")
    assert started.recording_id == sim.recording_id is not None
