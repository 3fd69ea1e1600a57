"""The device registry: adapters built from site device configs, one shared MQTT link per broker, kinds without an
adapter skipped with a reason, and a snapshot of availability and last seen against real simulators."""

from __future__ import annotations

from types import SimpleNamespace

from devices.base import Availability, AvailabilityChanged
from devices.door_lock.adapter import DoorLockAdapter, DoorStateChanged
from devices.registry import DeviceRegistry
from hw_sim.broker import MosquittoProcess
from hw_sim.door_lock import DoorLockSim
from hw_sim.panic_button import PanicButtonSim
from tests.contract.conftest import Collector


async def test_registry_builds_shares_one_link_and_reports_availability(
    mqtt_broker: MosquittoProcess, mqtt_site: str, collector: Collector
) -> None:
    url = mqtt_broker.url
    configs = [
        {"id": "door-int-1", "kind": "door_lock", "url": url, "room_id": "int-1", "options": {}},
        SimpleNamespace(id="panic-wait-1", kind="panic_button", url=url, room_id="wait-1", options={}),
        {"id": "hand-1", "kind": "handheld_detector", "url": "var/sim/hand-1"},
    ]
    registry = DeviceRegistry(configs, collector, site=mqtt_site)
    assert [a.device_id for a in registry.devices()] == ["door-int-1", "panic-wait-1"]
    assert "no adapter" in registry.skipped["hand-1"]
    assert len(registry.links) == 1
    sims = [DoorLockSim("door-int-1", url=url, site=mqtt_site, room_id="int-1"),
            PanicButtonSim("panic-wait-1", url=url, site=mqtt_site, room_id="wait-1")]
    for sim in sims:
        await sim.start()
    await registry.start_all()
    try:
        for device_id in ("door-int-1", "panic-wait-1"):
            await collector.wait_for(lambda e, d=device_id: isinstance(e, AvailabilityChanged)
                                     and e.device_id == d and e.availability == Availability.ONLINE)
        door = registry.get("door-int-1")
        assert isinstance(door, DoorLockAdapter)
        await door.unlock()
        await collector.wait_for(lambda e: isinstance(e, DoorStateChanged) and e.lock == "unlocked")
        rows = {r["id"]: r for r in registry.snapshot()}
        assert rows["door-int-1"]["availability"] == "online" and rows["door-int-1"]["last_seen"] is not None
        assert rows["panic-wait-1"]["room_id"] == "wait-1"
        assert rows["hand-1"]["availability"] == "unknown" and rows["hand-1"]["detail"]
    finally:
        await registry.stop_all()
        for sim in sims:
            await sim.stop()


def test_registry_skips_a_kind_with_bad_configuration(mqtt_site: str) -> None:
    registry = DeviceRegistry([{"id": "lock-bus-1", "kind": "lock_board", "url": "var/sim/lock-bus-1"}],
                              lambda e: None, site=mqtt_site)
    assert registry.devices() == []
    assert "bad configuration" in registry.skipped["lock-bus-1"]


def test_registry_accepts_the_controllers_site_config() -> None:
    from controller.settings import load_site

    site = load_site("site/demo-site.toml")
    registry = DeviceRegistry(site.devices, lambda e: None, site=site.site.id)
    mqtt = [d.id for d in site.devices if d.url.startswith("mqtt://")]
    built = {a.device_id for a in registry.devices()}
    assert set(mqtt) <= built
    assert len(registry.links) == 1  # every MQTT device of the demo names the same broker
    assert {r["id"] for r in registry.snapshot()} == {d.id for d in site.devices}
