"""Wristband reader adapter: turns presence/absence/removal messages into tag events for the room it covers."""

from __future__ import annotations

from dataclasses import dataclass

from devices.base import DeviceEvent
from devices.mqtt_device import MqttDeviceAdapter
from devices.mqtt_proto import EventMessage
from devices.wristband_reader import protocol as p


@dataclass(frozen=True, slots=True, kw_only=True)
class TagPresent(DeviceEvent):
    """A tag is seen in ``zone`` (the reader's room id). The signal strength varies with every report: two
    reports of the same tag in the same zone are duplicates (``devices/intake.py`` may fold them)."""

    VOLATILE = DeviceEvent.VOLATILE | {"rssi"}

    tag_id: str
    zone: str
    rssi: float
    event_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TagAbsent(DeviceEvent):
    """A tag is no longer seen in ``zone``."""

    tag_id: str
    zone: str
    event_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TagRemoved(DeviceEvent):
    """A tag's strap was opened or cut (``reason``): the domain raises an alarm."""

    tag_id: str
    zone: str
    reason: str
    event_id: str


class WristbandReaderAdapter(MqttDeviceAdapter):
    kind = p.KIND
    EVENTS = p.EVENTS

    def on_event(self, name: str, msg: EventMessage) -> None:
        assert isinstance(msg, p.TagEventMessage)
        if msg.reader_id != self.device_id:
            self.bad("reader_mismatch", msg.reader_id)
        # The site config says which room a reader covers; it wins over what the reader was flashed with.
        zone = self.room_id or msg.zone
        dev, kind, ts, tag, eid = self.device_id, self.kind, msg.ts, msg.tag_id, msg.event_id
        if isinstance(msg, p.PresenceMsg):
            self.emit(TagPresent(dev, kind, ts, tag_id=tag, zone=zone, rssi=msg.rssi, event_id=eid))
        elif isinstance(msg, p.TagRemovedMsg):
            self.emit(TagRemoved(dev, kind, ts, tag_id=tag, zone=zone, reason=msg.reason, event_id=eid))
        else:
            self.emit(TagAbsent(dev, kind, ts, tag_id=tag, zone=zone, event_id=eid))
