"""Door lock adapter: state changes, forced-open events, and the lock/unlock commands."""

from __future__ import annotations

from dataclasses import dataclass

from devices.base import DeviceEvent
from devices.door_lock import protocol as p
from devices.mqtt_device import MqttDeviceAdapter
from devices.mqtt_proto import EventMessage, StateMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class DoorStateChanged(DeviceEvent):
    door: str  # open | closed
    lock: str  # locked | unlocked
    room_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DoorForcedOpen(DeviceEvent):
    """The door opened while locked. Critical: a device's intake never drops the newest one."""

    critical = True

    room_id: str | None
    event_id: str


class DoorLockAdapter(MqttDeviceAdapter):
    kind = p.KIND
    EVENTS = p.EVENTS
    STATE = p.DoorStateMsg

    def on_event(self, name: str, msg: EventMessage) -> None:
        self.emit(DoorForcedOpen(self.device_id, self.kind, msg.ts, room_id=self.room_id, event_id=msg.event_id))

    def on_state(self, msg: StateMessage, previous: StateMessage | None) -> None:
        assert isinstance(msg, p.DoorStateMsg)
        if isinstance(previous, p.DoorStateMsg) and (previous.door, previous.lock) == (msg.door, msg.lock):
            return
        self.emit(DoorStateChanged(self.device_id, self.kind, msg.ts, door=msg.door, lock=msg.lock,
                                   room_id=self.room_id))

    async def lock(self, *, timeout_s: float | None = None) -> None:
        """Lock the door. Raises DeviceTimeout / DeviceRejected / DeviceUnavailable."""
        await self.command("lock", lambda rid, rt, exp: p.LockCmd(request_id=rid, reply_to=rt, expires_at=exp),
                           timeout_s)

    async def unlock(self, *, hold_s: float | None = None, timeout_s: float | None = None) -> None:
        """Unlock the door (relocking by itself after ``hold_s`` when given)."""
        await self.command(
            "unlock",
            lambda rid, rt, exp: p.UnlockCmd(request_id=rid, reply_to=rt, expires_at=exp, hold_s=hold_s),
            timeout_s,
        )
