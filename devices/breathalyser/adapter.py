"""Adapter of a serial breath alcohol tester: one BreathResult per completed test, and a STAT? heartbeat."""

from __future__ import annotations

from dataclasses import dataclass

from devices.base import DeviceEvent
from devices.breathalyser import protocol as p
from devices.serial_device import LineAdapter


@dataclass(frozen=True, slots=True)
class BreathResult(DeviceEvent):
    value_mg_100ml: float = 0.0
    device_ts: int = 0  # the tester's own clock, Unix seconds


class BreathalyserAdapter(LineAdapter):
    kind = "breathalyser"
    status_type = p.TesterStatus

    async def status(self) -> p.TesterStatus:
        status: p.TesterStatus = await self.query_status()
        return status

    def _decode(self, line: str) -> p.Result | p.TesterStatus:
        return p.decode_line(line)

    def _pushed(self, message: object) -> None:
        if isinstance(message, p.Result):
            self.emit(BreathResult(self.device_id, self.kind, value_mg_100ml=message.value_mg_100ml,
                                   device_ts=message.ts))
