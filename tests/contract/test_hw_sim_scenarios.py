"""Scripted scenarios of hw_sim against real simulated readers and production adapters over a real Mosquitto."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devices.wristband_reader.adapter import TagAbsent, TagPresent, WristbandReaderAdapter
from hw_sim.broker import MosquittoProcess
from hw_sim.scenarios import gate_alarm_zone3, tag_moves_wait2_to_int1
from hw_sim.site import SimSite
from tests.contract.conftest import Collector


class FakeGate:
    """Stands in for the serial metal gate sim (owned by the serial work) so the scenario's script can be checked."""

    kind = "metal_gate"
    device_id = "gate-1"

    def __init__(self) -> None:
        self.transits: list[list[int]] = []

    def walk_through(self, zones: list[int]) -> dict[str, Any]:
        self.transits.append(list(zones))
        return {"alarm": bool(zones), "zones": list(zones)}

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def _site(url: str, site_id: str) -> dict[str, Any]:
    rooms = ["search", "wait-2", "int-1"]
    return {"site": {"id": site_id}, "mqtt": {"url": url},
            "devices": [{"id": f"band-{r}", "kind": "wristband_reader", "url": url, "room_id": r} for r in rooms]}


async def test_scenarios_move_tags_and_walk_the_gate(
    mqtt_broker: MosquittoProcess, mqtt_site: str, collector: Collector, tmp_path: Path
) -> None:
    from devices.transport.mqtt import MqttLink

    site = SimSite(_site(mqtt_broker.url, mqtt_site), tmp_path)
    site.build()
    gate = FakeGate()
    site.sims["gate-1"] = gate
    site.rooms["gate-1"] = "search"
    link = MqttLink(mqtt_broker.url, site=mqtt_site)
    adapters = [WristbandReaderAdapter(f"band-{r}", link, collector, room_id=r) for r in ("search", "wait-2", "int-1")]
    await link.start()
    for a in adapters:
        await a.start()
    await site.start()
    try:
        await link.wait_connected(5)
        await tag_moves_wait2_to_int1(site, tag_id="t-7")
        await collector.wait_for(lambda e: isinstance(e, TagPresent) and e.zone == "int-1")
        await collector.wait_for(lambda e: isinstance(e, TagAbsent))
        # two readers are two MQTT clients: their messages are not ordered relative to each other
        assert sorted((type(e).__name__, e.zone) for e in collector.items if isinstance(e, TagPresent | TagAbsent)) \
            == [("TagAbsent", "wait-2"), ("TagPresent", "int-1"), ("TagPresent", "wait-2")]
        result = await gate_alarm_zone3(site, tag_id="t-8")
        assert gate.transits == [[3]] and result["transit"]["zones"] == [3]
        await collector.wait_for(lambda e: isinstance(e, TagPresent) and e.zone == "search" and e.tag_id == "t-8")
    finally:
        for a in adapters:
            await a.stop()
        await site.stop()
        await link.stop()
