"""Panic button adapter: one ``PanicPressed`` per press (duplicates by event_id are dropped by the base)."""

from __future__ import annotations

from dataclasses import dataclass

from devices.base import DeviceEvent
from devices.mqtt_device import MqttDeviceAdapter
from devices.mqtt_proto import EventMessage
from devices.panic_button import protocol as p


@dataclass(frozen=True, slots=True, kw_only=True)
class PanicPressed(DeviceEvent):
    """A press. Critical: a device's intake never drops the newest one, and folds a flood of presses into one
    event whose ``repeats`` counts them (every press reaches the alarm's counter)."""

    critical = True

    room_id: str | None
    event_id: str


class PanicButtonAdapter(MqttDeviceAdapter):
    kind = p.KIND
    EVENTS = p.EVENTS

    def on_event(self, name: str, msg: EventMessage) -> None:
        self.emit(PanicPressed(self.device_id, self.kind, msg.ts, room_id=self.room_id, event_id=msg.event_id))
