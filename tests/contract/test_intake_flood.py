"""Floods through the production adapters from their hw_sim simulators, over a real Mosquitto and real ptys: each
device's intake (devices/intake.py) keeps to its rate with a bounded queue, folds duplicates (counting them in
``repeats``), drops only the oldest distinct events, never the newest critical one, and counts what it shed.

The intake here is small (20 events/s, 5 at once, 8 queued) so a few hundred events flood it; the site's default is
2,000/s. Waits are bounded waits for events, never sleeps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devices.base import Availability, AvailabilityChanged
from devices.breathalyser.adapter import BreathalyserAdapter, BreathResult
from devices.door_lock.adapter import DoorForcedOpen, DoorLockAdapter, DoorStateChanged
from devices.metal_gate.adapter import GateTransit, MetalGateAdapter
from devices.panic_button.adapter import PanicButtonAdapter, PanicPressed
from hw_sim.breathalyser import BreathalyserSim
from hw_sim.door_lock import DoorLockSim
from hw_sim.metal_gate import MetalGateSim
from hw_sim.panic_button import PanicButtonSim
from tests.contract.conftest import Collector, Rig
from tests.contract.serial_harness import running

SMALL = {"intake_rate_per_s": 20, "intake_burst": 5, "intake_queue_max": 8}
FAST_SERIAL = {"baud": 115200, "heartbeat_s": 0, "reopen_max_s": 0.1}


def accounted(adapter: Any) -> bool:
    """Every event the intake received was delivered, folded into another, or dropped; none is still queued."""
    i = adapter.intake
    return i.queued == 0 and i.received == i.delivered + i.shed["folded"] + i.shed["dropped"]


async def test_a_panic_flood_over_mqtt_is_folded_and_every_press_still_counts(rig: Rig) -> None:
    sim, adapter = await rig.pair(PanicButtonSim, PanicButtonAdapter, "panic-flood", room_id="wait-1", options=SMALL)
    n = 400
    sent = [sim.press()["event_id"] for _ in range(n)]
    presses = lambda: rig.events.of(PanicPressed)  # noqa: E731
    await rig.events.wait_for(lambda e: isinstance(e, PanicPressed) and e.event_id == sent[-1], timeout_s=20)
    assert sum(e.repeats for e in presses()) == n  # every press counted, in far fewer events
    assert len(presses()) < n and presses()[-1].event_id == sent[-1]  # the newest press itself arrived
    assert adapter.intake.shed["folded"] > 0 and adapter.intake.shed["dropped"] == 0
    assert accounted(adapter) and adapter.device_status()["intake"]["shed"]["folded"] == adapter.intake.shed["folded"]


async def test_a_door_state_flood_never_loses_the_forced_opening(rig: Rig) -> None:
    sim, adapter = await rig.pair(DoorLockSim, DoorLockAdapter, "door-flood", room_id="int-1", options=SMALL)
    sim.lock = "unlocked"
    for _ in range(150):  # the door swings: open/closed state changes at the wire's pace
        sim.open_door()
        sim.close_door()
    sim.lock = "locked"
    sim.open_door()  # locked: forced open, the newest (critical) event
    forced = await rig.events.wait_for(lambda e: isinstance(e, DoorForcedOpen), timeout_s=20)
    assert forced.device_id == "door-flood"
    await rig.events.wait_for(lambda e: isinstance(e, DoorStateChanged) and e.door == "open" and e.lock == "locked",
                              timeout_s=20)
    assert adapter.intake.shed["folded"] > 0  # the swinging door's repeated states folded
    assert len(rig.events.of(DoorStateChanged)) < 300
    assert accounted(adapter)


async def test_a_metal_gate_flood_over_a_pty_drops_only_the_oldest_transits_and_counts_them(
        tmp_path: Path, collector: Collector) -> None:
    n = 300
    sim = MetalGateSim("gate-flood", tmp_path / "gate-flood", baud=115200)
    adapter = MetalGateAdapter("gate-flood", str(sim.link_path), FAST_SERIAL | SMALL, on_event=collector)
    async with running(sim, adapter):
        for _ in range(n):
            sim.walk_through()  # distinct transits (each has its own counter): nothing to fold
        await collector.wait_for(lambda e: isinstance(e, GateTransit) and e.counter == n, timeout_s=20)
        await collector.wait_for(lambda e: accounted(adapter), timeout_s=5)
        transits = collector.of(GateTransit)
        assert adapter.missed_transits == 0  # the adapter read every line; what is missing was shed, and counted
        assert adapter.intake.shed["dropped"] > 0 and adapter.intake.shed["folded"] == 0
        assert len(transits) + adapter.intake.shed["dropped"] == n
        counters = [t.counter for t in transits]
        assert counters == sorted(counters) and counters[-1] == n  # in order, the newest kept
        online = [e for e in collector.of(AvailabilityChanged) if e.availability == Availability.ONLINE]
        assert online  # the device's availability is never what is dropped


async def test_a_breathalyser_repeating_one_reading_over_a_pty_is_folded(tmp_path: Path, collector: Collector) -> None:
    n = 200
    sim = BreathalyserSim("breath-flood", tmp_path / "breath-flood", baud=115200)
    adapter = BreathalyserAdapter("breath-flood", str(sim.link_path), FAST_SERIAL | SMALL, on_event=collector)
    async with running(sim, adapter):
        for _ in range(n):
            sim.blow(0.2)
        await collector.wait_for(lambda e: sum(r.repeats for r in collector.of(BreathResult)) == n
                                 and accounted(adapter), timeout_s=20)
        results = collector.of(BreathResult)
        assert len(results) < n and {r.value_mg_100ml for r in results} == {0.2}
        assert adapter.intake.shed["folded"] == n - len(results) and adapter.intake.shed["dropped"] == 0
