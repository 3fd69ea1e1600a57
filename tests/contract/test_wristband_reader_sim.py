"""Wristband reader adapters against their simulators over a real Mosquitto: a tag moving between rooms, bad payloads
counted and dropped, and availability from the device's last will."""

from __future__ import annotations

import json

from devices import mqtt_proto as proto
from devices.base import Availability, AvailabilityChanged
from devices.wristband_reader.adapter import TagAbsent, TagPresent, TagRemoved, WristbandReaderAdapter
from hw_sim.wristband_reader import TagField, WristbandReaderSim
from tests.contract.conftest import Rig


async def test_tag_moves_from_waiting_room_to_interrogation_room(rig: Rig) -> None:
    field = TagField()
    wait2, _ = await rig.pair(WristbandReaderSim, WristbandReaderAdapter, "band-wait-2", room_id="wait-2",
                              sim_kw={"tag_field": field})
    int1, _ = await rig.pair(WristbandReaderSim, WristbandReaderAdapter, "band-int-1", room_id="int-1",
                             sim_kw={"tag_field": field})
    wait2.tag_move("T100")
    await rig.events.wait_for(lambda e: isinstance(e, TagPresent) and e.zone == "wait-2")
    int1.tag_move("T100", rssi=-48)
    present = await rig.events.wait_for(lambda e: isinstance(e, TagPresent) and e.zone == "int-1")
    absent = await rig.events.wait_for(lambda e: isinstance(e, TagAbsent))
    assert (present.tag_id, present.rssi, absent.tag_id, absent.zone) == ("T100", -48.0, "T100", "wait-2")
    int1.tag_remove("T100")
    removed = await rig.events.wait_for(lambda e: isinstance(e, TagRemoved))
    assert (removed.zone, removed.reason) == ("int-1", "cut")


async def test_bad_payloads_are_counted_and_never_reach_the_sink(rig: Rig) -> None:
    sim, adapter = await rig.pair(WristbandReaderSim, WristbandReaderAdapter, "band-reg", room_id="reg")
    topic = sim.topic("event", "presence")
    good = {"v": 1, "event_id": proto.new_id(), "ts": 1.0, "tag_id": "T1", "reader_id": "band-reg",
            "zone": "reg", "rssi": -40}
    for bad in (b"{not json", b"x" * (proto.MAX_PAYLOAD_BYTES + 1), json.dumps({**good, "v": None}).encode(),
                json.dumps({k: v for k, v in good.items() if k != "v"}).encode(),
                json.dumps({**good, "rssi": "loud", "event_id": proto.new_id()}).encode(), b"[1,2]"):
        sim.link.publish(topic, bad)
    sim.link.publish(sim.topic("event", "teleported"), json.dumps(good).encode())
    sim.link.publish(topic, json.dumps({**good, "battery": 3.1}).encode())  # unknown field: stripped, counted
    ev = await rig.events.wait_for(lambda e: isinstance(e, TagPresent))
    assert ev.event_id == good["event_id"] and not hasattr(ev, "battery")
    assert len(rig.events.of(TagPresent)) == 1
    assert adapter.bad_input.counts == {"malformed": 1, "oversized": 1, "bad_v": 1, "missing_v": 1,
                                        "bad_field": 1, "not_object": 1, "unknown_event": 1, "unknown_field": 1}


async def test_availability_follows_the_last_will(rig: Rig) -> None:
    sim, adapter = await rig.pair(WristbandReaderSim, WristbandReaderAdapter, "band-search", room_id="search")
    sim.set_fault("offline")  # TCP cut, no DISCONNECT: the broker publishes the will
    await rig.events.wait_for(lambda e: isinstance(e, AvailabilityChanged) and e.availability == Availability.OFFLINE)
    assert adapter.availability == Availability.OFFLINE
    sim.clear_fault("offline")
    await rig.events.wait_count(
        lambda e: isinstance(e, AvailabilityChanged) and e.availability == Availability.ONLINE, 2)
    assert adapter.availability == Availability.ONLINE
