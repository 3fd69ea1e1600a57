"""Recorder messages (JSON over MQTT, both roles). Topics under ``hcc/<site>/recorder/<id>/``:

``state``          the heartbeat, every ``heartbeat_s`` seconds, retained:
                   ``{v, ts, seq, recording, recording_id, room_id, stay_id, since}``
``event/failure``  a recording failed: ``{v, event_id, ts, recording_id, code, detail}``
``cmd/start``      ``{v, request_id, reply_to, expires_at, room_id, stay_id}``;
                   reply ``data: {recording_id, room_id, started_at}``; ``ok: false`` with ``BUSY`` or ``WRONG_ROOM``
``cmd/stop``       ``{..., recording_id}``; reply ``data: {recording_id, started_at, ended_at}``;
                   ``ok: false`` with ``NOT_RECORDING``
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.mqtt_proto import Command, EventMessage, Message, StateMessage

KIND = "recorder"


@dataclass(frozen=True, kw_only=True)
class RecorderStateMsg(StateMessage):
    seq: int = 0
    recording: bool = False
    recording_id: str | None = None
    room_id: str | None = None
    stay_id: str | None = None
    since: float | None = None


@dataclass(frozen=True, kw_only=True)
class FailureMsg(EventMessage):
    recording_id: str | None = None
    code: str = "FAILED"
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class StartCmd(Command):
    room_id: str
    stay_id: str


@dataclass(frozen=True, kw_only=True)
class StopCmd(Command):
    recording_id: str


@dataclass(frozen=True, kw_only=True)
class StartResult(Message):
    """``data`` of the reply to ``start`` (decode with ``mqtt_proto.from_object``)."""

    recording_id: str
    room_id: str
    started_at: float


@dataclass(frozen=True, kw_only=True)
class StopResult(Message):
    """``data`` of the reply to ``stop``."""

    recording_id: str
    started_at: float
    ended_at: float


EVENTS: dict[str, type[EventMessage]] = {"failure": FailureMsg}
COMMANDS: dict[str, type[Command]] = {"start": StartCmd, "stop": StopCmd}
