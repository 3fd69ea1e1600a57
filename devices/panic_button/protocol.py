"""Panic button messages (JSON over MQTT, both roles). Topic ``hcc/<site>/panic_button/<id>/event/pressed``:
``{v, event_id, ts}``. A button may send a press twice (QoS 1 redelivery); receivers deduplicate by event_id."""

from __future__ import annotations

from dataclasses import dataclass

from devices.mqtt_proto import EventMessage

KIND = "panic_button"


@dataclass(frozen=True, kw_only=True)
class PressedMsg(EventMessage):
    pass


EVENTS: dict[str, type[EventMessage]] = {"pressed": PressedMsg}
