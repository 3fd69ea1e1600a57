"""Simulated interview-room recorder: start/stop recordings, a heartbeat every ``heartbeat_s`` (option, default 5 s)
on the retained state topic, and failures.

Extra fault ``recording_failure`` (params ``code`` default ``DISK_FULL``, ``detail``, ``after_s`` default 0): the
current recording fails after ``after_s`` (the next one, if none is running) with a ``failure`` event. ``silent``
also stops the heartbeats. Action ``fail`` makes the current recording fail now.
"""

from __future__ import annotations

from typing import Any, ClassVar

from devices import mqtt_proto as proto
from devices.recorder import protocol as p
from hw_sim.mqtt_device import MqttSimDevice

RECORDING_FAILURE = "recording_failure"


class RecorderSim(MqttSimDevice):
    kind = p.KIND
    FAULTS = (*MqttSimDevice.FAULTS, RECORDING_FAILURE)
    COMMANDS = p.COMMANDS
    ACTIONS: ClassVar[tuple[str, ...]] = ("fail",)

    def __init__(self, device_id: str, **kw: Any) -> None:
        super().__init__(device_id, **kw)
        self.heartbeat_s = float(self.options.get("heartbeat_s", 5.0))
        self.seq = 0
        self.recording_id: str | None = None
        self.rec_room: str | None = None
        self.stay_id: str | None = None
        self.since: float | None = None
        self.failures = 0
        self._beat: Any = None
        self._fail_timer: Any = None

    async def start(self) -> None:
        await super().start()
        self._heartbeat()

    def on_connected(self) -> None:
        self._publish()

    def _heartbeat(self) -> None:
        self._publish()
        self._beat = self.later(self.heartbeat_s, self._heartbeat)

    def _publish(self) -> None:
        self.seq += 1
        self.publish_state(p.RecorderStateMsg(
            ts=self.clock(), seq=self.seq, recording=self.recording_id is not None, recording_id=self.recording_id,
            room_id=self.rec_room, stay_id=self.stay_id, since=self.since))

    def handle_command(self, name: str, cmd: proto.Command) -> proto.Reply:
        if isinstance(cmd, p.StartCmd):
            if self.recording_id is not None:
                return self.refuse(cmd, "BUSY", f"already recording {self.recording_id}")
            if self.room_id and cmd.room_id != self.room_id:
                return self.refuse(cmd, "WRONG_ROOM", f"this recorder covers {self.room_id}")
            self.recording_id, self.rec_room, self.stay_id = proto.new_id(), cmd.room_id, cmd.stay_id
            self.since = self.clock()
            self._publish()
            if RECORDING_FAILURE in self.faults:
                self._arm_failure()
            mac = p.sign_start(self.key, cmd.request_id, self.recording_id) if self.key else None
            return self.ok(cmd, recording_id=self.recording_id, room_id=cmd.room_id, started_at=self.since, mac=mac)
        assert isinstance(cmd, p.StopCmd)
        if self.recording_id is None or cmd.recording_id != self.recording_id:
            return self.refuse(cmd, "NOT_RECORDING", f"not recording {cmd.recording_id}")
        started = self.since
        self._end()
        return self.ok(cmd, recording_id=cmd.recording_id, started_at=started, ended_at=self.clock())

    def _end(self) -> None:
        self.recording_id = self.rec_room = self.stay_id = self.since = None
        if self._fail_timer is not None:
            self._fail_timer.cancel()
            self._fail_timer = None
        self._publish()

    def on_fault(self, name: str, params: dict[str, Any]) -> None:
        if name == RECORDING_FAILURE and self.recording_id is not None:
            self._arm_failure()

    def _arm_failure(self) -> None:
        params = self.faults.get(RECORDING_FAILURE, {})
        after = float(params.get("after_s", 0))
        code, detail = str(params.get("code", "DISK_FULL")), str(params.get("detail", "recording stopped"))
        if self._fail_timer is not None:
            self._fail_timer.cancel()
        self._fail_timer = self.later(after, lambda: self.fail(code=code, detail=detail))

    def fail(self, code: str = "DISK_FULL", detail: str = "recording stopped") -> dict[str, Any]:
        """The running recording stops by itself and the recorder says so."""
        self._fail_timer = None
        rid = self.recording_id
        if rid is None:
            return {"failed": None}
        self.failures += 1
        self.publish_event("failure", p.FailureMsg(recording_id=rid, code=code, detail=detail,
                                                   **self.new_event_fields()))
        self._end()
        return {"failed": rid, "code": code}

    def state_info(self) -> dict[str, Any]:
        return {"recording_id": self.recording_id, "room": self.rec_room, "stay_id": self.stay_id,
                "since": self.since, "heartbeat_s": self.heartbeat_s, "failures": self.failures}
