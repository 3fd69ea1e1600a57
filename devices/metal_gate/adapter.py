"""Adapter of a walk-through metal detector gate: one GateTransit event per person, and a STAT? heartbeat.

A transit counter that jumps means lines were lost (noise, a cable fault): the adapter logs it once, counts it in
``missed_transits`` and still reports the transit it did receive. A repeated counter is dropped as a duplicate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devices.base import DeviceEvent, EventSink
from devices.metal_gate import protocol as p
from devices.serial_device import LineAdapter


@dataclass(frozen=True, slots=True)
class GateTransit(DeviceEvent):
    counter: int = 0
    alarm: bool = False
    zones: tuple[int, ...] = ()


class MetalGateAdapter(LineAdapter):
    kind = "metal_gate"
    status_type = p.GateStatus

    def __init__(
        self, device_id: str, url: str, options: Mapping[str, Any] | None = None, *, on_event: EventSink | None = None
    ) -> None:
        super().__init__(device_id, url, options, on_event=on_event)
        self._last_counter: int | None = None
        self.missed_transits = 0

    async def status(self) -> p.GateStatus:
        status: p.GateStatus = await self.query_status()
        return status

    def _decode(self, line: str) -> p.Transit | p.GateStatus:
        return p.decode_line(line)

    def _pushed(self, message: object) -> None:
        if not isinstance(message, p.Transit):
            return
        last = self._last_counter
        if last is not None:
            expected = (last + 1) % (p.MAX_COUNTER + 1)
            if message.counter == last:
                self._note_bad("duplicate_transit")
                return
            if message.counter != expected:
                gap = (message.counter - expected) % (p.MAX_COUNTER + 1)
                self.missed_transits += gap
                self._note_bad("missed_transit")
        self._last_counter = message.counter
        self.emit(GateTransit(self.device_id, self.kind, counter=message.counter, alarm=message.alarm,
                              zones=message.zones))
