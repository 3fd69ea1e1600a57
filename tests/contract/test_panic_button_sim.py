"""Panic button adapter against its simulator over a real Mosquitto: presses arrive once, even when sent twice."""

from __future__ import annotations

from devices.panic_button.adapter import PanicButtonAdapter, PanicPressed
from hw_sim.panic_button import PanicButtonSim
from tests.contract.conftest import Rig


async def test_press_reaches_the_controller_with_its_room(rig: Rig) -> None:
    sim, adapter = await rig.pair(PanicButtonSim, PanicButtonAdapter, "panic-wait-1", room_id="wait-1")
    sent = sim.press()
    ev = await rig.events.wait_for(lambda e: isinstance(e, PanicPressed))
    assert (ev.device_id, ev.room_id, ev.event_id) == ("panic-wait-1", "wait-1", sent["event_id"])
    assert adapter.last_seen is not None


async def test_duplicate_delivery_yields_one_event_per_press(rig: Rig) -> None:
    sim, adapter = await rig.pair(PanicButtonSim, PanicButtonAdapter, "panic-wait-2", room_id="wait-2")
    sim.set_fault("duplicate", copies=3)
    first = sim.press()
    sim.clear_fault("duplicate")
    second = sim.press()
    await rig.events.wait_for(lambda e: isinstance(e, PanicPressed) and e.event_id == second["event_id"])
    presses = [e.event_id for e in rig.events.of(PanicPressed)]
    assert presses == [first["event_id"], second["event_id"]]
    assert rig.link.dedup.duplicates == 2
