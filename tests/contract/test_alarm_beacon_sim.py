"""Alarm beacon adapter against its simulator over a real Mosquitto: on/off commands and the reported state."""

from __future__ import annotations

from devices.alarm_beacon.adapter import AlarmBeaconAdapter, BeaconStateChanged
from hw_sim.alarm_beacon import AlarmBeaconSim
from tests.contract.conftest import Rig


async def test_beacon_turns_on_with_pattern_and_off(rig: Rig) -> None:
    sim, beacon = await rig.pair(AlarmBeaconSim, AlarmBeaconAdapter, "beacon-duty")
    await beacon.on(pattern="strobe", severity="critical")
    ev = await rig.events.wait_for(lambda e: isinstance(e, BeaconStateChanged) and e.on)
    assert (ev.pattern, ev.severity) == ("strobe", "critical")
    assert sim.on and sim.pattern == "strobe"
    await beacon.off()
    await rig.events.wait_for(lambda e: isinstance(e, BeaconStateChanged) and not e.on)
    assert not sim.on
