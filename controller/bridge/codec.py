"""Device events across the process boundary: each event class an adapter may emit has one entry in
:data:`EVENT_TYPES` (a table of classes, checked by a test to cover every ``DeviceEvent`` in ``devices/``), and
crosses as a :class:`~controller.bridge.messages.DeviceEventMsg` validated back into the same frozen dataclass, so
the controller's typed dispatch receives exactly what the adapter emitted."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from devices.alarm_beacon.adapter import BeaconStateChanged
from devices.base import AvailabilityChanged, DeviceEvent, ReplyForged, UnknownSource
from devices.breathalyser.adapter import BreathResult
from devices.door_lock.adapter import DoorForcedOpen, DoorStateChanged
from devices.id_reader.adapter import CardRead, CardReadFailed, CardRemoved
from devices.lock_board.adapter import BoardAvailabilityChanged, LockerChanged
from devices.metal_gate.adapter import GateTransit
from devices.panic_button.adapter import PanicPressed
from devices.recorder.adapter import RecorderHeartbeatMissed, RecorderStatus, RecordingFailed
from devices.wristband_reader.adapter import TagAbsent, TagPresent, TagRemoved

from .messages import DeviceEventMsg

EVENT_TYPES: tuple[type[DeviceEvent], ...] = (
    AvailabilityChanged, BoardAvailabilityChanged, ReplyForged, UnknownSource, BeaconStateChanged, BreathResult,
    DoorForcedOpen, DoorStateChanged, CardRead, CardReadFailed, CardRemoved, LockerChanged, GateTransit,
    PanicPressed, RecorderHeartbeatMissed, RecorderStatus, RecordingFailed, TagAbsent, TagPresent, TagRemoved,
)
_BY_NAME: dict[str, type[DeviceEvent]] = {f"{c.__module__}.{c.__qualname__}": c for c in EVENT_TYPES}
_NAME: dict[type[DeviceEvent], str] = {c: n for n, c in _BY_NAME.items()}
_CONFIG = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")


class UnknownEventType(ValueError):
    pass


# A one-field model per class carries the config (bytes as base64) that pydantic will not take for a bare dataclass.
_BOXES: dict[type[DeviceEvent], type[BaseModel]] = {
    c: create_model(f"Box_{c.__name__}", __config__=_CONFIG, ev=(c, ...)) for c in EVENT_TYPES}


def _box(cls: type[DeviceEvent]) -> type[BaseModel]:
    return _BOXES[cls]


def encode_event(ev: DeviceEvent) -> DeviceEventMsg:
    name = _NAME.get(type(ev))
    if name is None:
        raise UnknownEventType(f"{type(ev).__qualname__} is not in EVENT_TYPES")
    fields: dict[str, Any] = _box(type(ev))(ev=ev).model_dump(mode="json")["ev"]
    return DeviceEventMsg(event_type=name, fields=fields)


def decode_event(msg: DeviceEventMsg) -> DeviceEvent:
    cls = _BY_NAME.get(msg.event_type)
    if cls is None:
        raise UnknownEventType(f"unknown event type {msg.event_type!r}")
    ev: DeviceEvent = getattr(_box(cls).model_validate({"ev": msg.fields}), "ev")  # noqa: B009 (a created model's field)
    return ev
