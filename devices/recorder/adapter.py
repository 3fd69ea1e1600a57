"""Recorder adapter: start/stop recordings (request/response), status heartbeats, failure events, and a watchdog
that raises ``RecorderHeartbeatMissed`` (and marks the recorder DEGRADED) when heartbeats stop.

The watchdog is armed on start and re-armed by every heartbeat; its limit is ``heartbeat_limit_s`` (option, default
15 s: three missed 5 s heartbeats). It uses the loop's timer, so no task sleeps per recorder.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, TypeVar

from devices.base import Availability, DeviceEvent, DeviceUnverified, ReplyForged
from devices.mqtt_device import MqttDeviceAdapter
from devices.mqtt_proto import EventMessage, MessageError, StateMessage, from_object
from devices.recorder import protocol as p

DEFAULT_HEARTBEAT_LIMIT_S = 15.0
R = TypeVar("R", p.StartResult, p.StopResult)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecorderStatus(DeviceEvent):
    """The recorder's recording state changed (from its heartbeat)."""

    recording: bool
    recording_id: str | None
    room_id: str | None
    stay_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingFailed(DeviceEvent):
    """A recording stopped by itself (disk full, camera lost...): the interview must pause and the gap be logged."""

    recording_id: str | None
    room_id: str | None
    code: str
    detail: str
    event_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecorderHeartbeatMissed(DeviceEvent):
    """No heartbeat for ``limit_s`` seconds. ``last_heartbeat_at`` is local time, None if none was ever seen."""

    room_id: str | None
    last_heartbeat_at: float | None
    limit_s: float
    recording_id: str | None


class RecorderAdapter(MqttDeviceAdapter):
    kind = p.KIND
    EVENTS = p.EVENTS
    STATE = p.RecorderStateMsg

    # Set by the registry from ``mqtt.device_keys_dir``: with a key, only a confirmation signed by this recorder
    # starts a recording; without one confirmations are taken unsigned, but only on a bench site: a production
    # site (``require_signature``) refuses every confirmation from a recorder whose key it does not hold.
    device_key: bytes | None = None
    require_signature: bool = False
    _watchdog: asyncio.TimerHandle | None = None
    _last_heartbeat: float | None = None
    _missed = False

    @property
    def heartbeat_limit_s(self) -> float:
        return float(self.options.get("heartbeat_limit_s", DEFAULT_HEARTBEAT_LIMIT_S))

    async def start(self) -> None:
        await super().start()
        self._arm()

    async def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        await super().stop()

    def _arm(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._watchdog = asyncio.get_running_loop().call_later(self.heartbeat_limit_s, self._on_missed)

    def _on_missed(self) -> None:
        self._watchdog = None
        if self._missed or self.availability == Availability.OFFLINE:
            return  # already reported, or offline (its own alarm)
        self._missed = True
        state = self.state if isinstance(self.state, p.RecorderStateMsg) else None
        self.emit(RecorderHeartbeatMissed(
            self.device_id, self.kind, self._clock(), room_id=self.room_id, last_heartbeat_at=self._last_heartbeat,
            limit_s=self.heartbeat_limit_s, recording_id=state.recording_id if state else None))
        self.set_degraded(f"no heartbeat for {self.heartbeat_limit_s:g}s")

    def on_state(self, msg: StateMessage, previous: StateMessage | None) -> None:
        assert isinstance(msg, p.RecorderStateMsg)
        self._last_heartbeat = self._clock()
        self._arm()
        if self._missed:
            self._missed = False
            self.set_degraded("")
        if isinstance(previous, p.RecorderStateMsg) and (previous.recording, previous.recording_id) == (
            msg.recording, msg.recording_id
        ):
            return
        self.emit(RecorderStatus(self.device_id, self.kind, msg.ts, recording=msg.recording,
                                 recording_id=msg.recording_id, room_id=msg.room_id, stay_id=msg.stay_id))

    def on_event(self, name: str, msg: EventMessage) -> None:
        assert isinstance(msg, p.FailureMsg)
        self.emit(RecordingFailed(self.device_id, self.kind, msg.ts, recording_id=msg.recording_id,
                                  room_id=self.room_id, code=msg.code, detail=msg.detail, event_id=msg.event_id))

    async def start_recording(self, room_id: str, stay_id: str, *, timeout_s: float | None = None) -> p.StartResult:
        """Ask the recorder to record ``room_id`` for ``stay_id``; returns once it confirms (recording id, start).
        Raises DeviceRejected (``BUSY``, ``WRONG_ROOM``), DeviceTimeout or DeviceUnavailable."""
        if self.device_key is None and self.require_signature:
            # Not even asked: a recording started now could never be proven to be this recorder's.
            raise DeviceUnverified("no key for this recorder: its confirmation cannot be verified",
                                   device_id=self.device_id)
        asked: list[str] = []

        def make(rid: str, rt: str, exp: float) -> p.StartCmd:
            asked.append(rid)
            return p.StartCmd(request_id=rid, reply_to=rt, expires_at=exp, room_id=room_id, stay_id=stay_id)

        reply = await self.command("start", make, timeout_s)
        result = self._result(p.StartResult, reply.data)
        if self.device_key is not None and not p.start_signed(self.device_key, asked[0], result):
            # Refused and reported: the rule-3 recording must be one this recorder itself confirmed.
            self.bad("bad_signature", f"start {asked[0]}")
            self.emit(ReplyForged(self.device_id, self.kind, self._clock(), reason="bad_signature",
                                  request_id=asked[0]))
            raise DeviceUnverified("the recorder's confirmation is not signed with its key", device_id=self.device_id)
        return result

    async def stop_recording(self, recording_id: str, *, timeout_s: float | None = None) -> p.StopResult:
        """Stop a recording; returns its start and end times. Raises DeviceRejected (``NOT_RECORDING``) etc."""
        reply = await self.command(
            "stop",
            lambda rid, rt, exp: p.StopCmd(request_id=rid, reply_to=rt, expires_at=exp, recording_id=recording_id),
            timeout_s,
        )
        return self._result(p.StopResult, reply.data)

    def _result(self, cls: type[R], data: dict[str, Any]) -> R:
        try:
            return from_object(cls, data).msg
        except MessageError as exc:
            self.bad("bad_reply", str(exc))
            raise
