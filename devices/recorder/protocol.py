"""Recorder messages (JSON over MQTT, both roles). Topics under ``hcc/<site>/recorder/<id>/``:

``state``          the heartbeat, every ``heartbeat_s`` seconds, retained:
                   ``{v, ts, seq, recording, recording_id, room_id, stay_id, since}``
``event/failure``  a recording failed: ``{v, event_id, ts, recording_id, code, detail}``
``cmd/start``      ``{v, request_id, reply_to, expires_at, room_id, stay_id}``;
                   reply ``data: {recording_id, room_id, started_at, mac}``; ``ok: false`` with ``BUSY`` or
                   ``WRONG_ROOM``. ``mac`` = hex HMAC-SHA256 with the recorder's own key over
                   ``"<request_id>\n<recording_id>"``: only the recorder asked can produce it (:func:`sign_start`)
``cmd/stop``       ``{..., recording_id}``; reply ``data: {recording_id, started_at, ended_at}``;
                   ``ok: false`` with ``NOT_RECORDING``
"""

from __future__ import annotations

import hashlib
import hmac
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
    mac: str | None = None


@dataclass(frozen=True, kw_only=True)
class StopResult(Message):
    """``data`` of the reply to ``stop``."""

    recording_id: str
    started_at: float
    ended_at: float


EVENTS: dict[str, type[EventMessage]] = {"failure": FailureMsg}
COMMANDS: dict[str, type[Command]] = {"start": StartCmd, "stop": StopCmd}


def sign_start(key: bytes, request_id: str, recording_id: str) -> str:
    """The recorder's proof that it, and no other client, confirmed ``request_id`` with ``recording_id``."""
    return hmac.new(key, f"{request_id}\n{recording_id}".encode(), hashlib.sha256).hexdigest()


def start_signed(key: bytes, request_id: str, result: StartResult) -> bool:
    """True when ``result.mac`` is the recorder's signature for this request (constant-time comparison)."""
    if not result.mac:
        return False
    return hmac.compare_digest(result.mac, sign_start(key, request_id, result.recording_id))

