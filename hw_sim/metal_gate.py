"""A simulated walk-through metal gate on a pty: one line per person walking through, STAT? answered.

Speaks devices/metal_gate/protocol.py in the device role. Faults: silent, delayed, garbled (a line cut short by
noise), offline.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from devices.metal_gate import protocol as p
from hw_sim.serial_sim import LineSim


class MetalGateSim(LineSim):
    kind = "metal_gate"
    ACTIONS: ClassVar[tuple[str, ...]] = ("walk_through",)

    def __init__(self, device_id: str, link_path: Path, *, baud: int = 9600, sensitivity: int = 5) -> None:
        super().__init__(device_id, link_path, baud=baud)
        self.transits = 0
        self.sensitivity = sensitivity

    def walk_through(self, zones: Iterable[int] = ()) -> p.Transit:
        """A person walks through; metal in ``zones`` (1..99) raises the alarm. Returns the line's transit."""
        self.transits = (self.transits + 1) % (p.MAX_COUNTER + 1)
        z = tuple(sorted(set(zones)))
        transit = p.Transit(self.transits, bool(z), z)
        self.push(transit.encode())
        return transit

    def status_line(self) -> str:
        return p.GateStatus(True, self.transits, self.sensitivity).encode()

    def state(self) -> dict[str, Any]:
        return {"transits": self.transits, "sensitivity": self.sensitivity}
