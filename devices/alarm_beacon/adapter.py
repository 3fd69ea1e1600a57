"""Alarm beacon adapter: on/off commands and the beacon's reported state."""

from __future__ import annotations

from dataclasses import dataclass

from devices.alarm_beacon import protocol as p
from devices.base import DeviceEvent
from devices.mqtt_device import MqttDeviceAdapter
from devices.mqtt_proto import StateMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class BeaconStateChanged(DeviceEvent):
    on: bool
    pattern: str
    severity: str


class AlarmBeaconAdapter(MqttDeviceAdapter):
    kind = p.KIND
    STATE = p.BeaconStateMsg

    def on_state(self, msg: StateMessage, previous: StateMessage | None) -> None:
        assert isinstance(msg, p.BeaconStateMsg)
        if isinstance(previous, p.BeaconStateMsg) and (previous.on, previous.pattern, previous.severity) == (
            msg.on, msg.pattern, msg.severity
        ):
            return
        self.emit(BeaconStateChanged(self.device_id, self.kind, msg.ts, on=msg.on, pattern=msg.pattern,
                                     severity=msg.severity))

    async def on(self, *, pattern: p.Pattern = "flash", severity: p.Severity = "critical",
                 timeout_s: float | None = None) -> None:
        """Switch the beacon on. Raises DeviceTimeout / DeviceRejected / DeviceUnavailable."""
        await self.command(
            "on",
            lambda rid, rt, exp: p.OnCmd(request_id=rid, reply_to=rt, expires_at=exp, pattern=pattern,
                                         severity=severity),
            timeout_s,
        )

    async def off(self, *, timeout_s: float | None = None) -> None:
        await self.command("off", lambda rid, rt, exp: p.OffCmd(request_id=rid, reply_to=rt, expires_at=exp),
                           timeout_s)
