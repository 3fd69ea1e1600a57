"""Simulated door lock: an electromagnetic lock and a door contact.

Commands ``lock`` (refused with ``DOOR_OPEN`` while the door is open) and ``unlock`` (relocks after ``hold_s``).
Extra faults: ``forced_open`` (the door is forced now: a ``forced_open`` event if it was locked) and ``jammed``
(every command is refused with ``JAMMED``). Actions: ``open_door``, ``close_door``, ``force_open``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from devices import mqtt_proto as proto
from devices.door_lock import protocol as p
from hw_sim.mqtt_device import MqttSimDevice

FORCED_OPEN = "forced_open"
JAMMED = "jammed"


class DoorLockSim(MqttSimDevice):
    kind = p.KIND
    FAULTS = (*MqttSimDevice.FAULTS, FORCED_OPEN, JAMMED)
    COMMANDS = p.COMMANDS
    ACTIONS: ClassVar[tuple[str, ...]] = ("open_door", "close_door", "force_open")

    def __init__(self, device_id: str, **kw: Any) -> None:
        super().__init__(device_id, **kw)
        self.door: Literal["open", "closed"] = "closed"
        self.lock: Literal["locked", "unlocked"] = "locked"
        self._relock: Any = None

    def on_connected(self) -> None:
        self._publish()

    def _publish(self) -> None:
        self.publish_state(p.DoorStateMsg(ts=self.clock(), door=self.door, lock=self.lock))
        self._notify()

    def handle_command(self, name: str, cmd: proto.Command) -> proto.Reply:
        if JAMMED in self.faults:
            return self.refuse(cmd, "JAMMED", "the bolt does not move")
        if self._relock is not None:
            self._relock.cancel()
            self._relock = None
        if isinstance(cmd, p.UnlockCmd):
            self.lock = "unlocked"
            if cmd.hold_s:
                self._relock = self.later(cmd.hold_s, self._auto_relock)
        else:
            if self.door == "open":
                return self.refuse(cmd, "DOOR_OPEN", "close the door first")
            self.lock = "locked"
        self._publish()
        return self.ok(cmd, door=self.door, lock=self.lock)

    def _auto_relock(self) -> None:
        self._relock = None
        if self.door == "closed":
            self.lock = "locked"
            self._publish()

    def on_fault(self, name: str, params: dict[str, Any]) -> None:
        if name == FORCED_OPEN:
            self.force_open()

    def open_door(self) -> dict[str, Any]:
        """Someone opens the door: normal when unlocked, forced when locked."""
        if self.lock == "locked":
            return self.force_open()
        self.door = "open"
        self._publish()
        return {"door": self.door, "lock": self.lock}

    def close_door(self) -> dict[str, Any]:
        self.door = "closed"
        self._publish()
        return {"door": self.door, "lock": self.lock}

    def force_open(self) -> dict[str, Any]:
        was_locked = self.lock == "locked"
        self.door = "open"
        if was_locked:
            self.publish_event("forced_open", p.ForcedOpenMsg(**self.new_event_fields()))
        self._publish()
        return {"door": self.door, "lock": self.lock, "forced": was_locked}

    def state_info(self) -> dict[str, Any]:
        return {"door": self.door, "lock": self.lock}
