"""A simulated breath alcohol tester on a pty: one RESULT line per test, STAT? answered.

Speaks devices/breathalyser/protocol.py in the device role. Faults: silent, delayed, garbled, offline.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

from devices.breathalyser import protocol as p
from hw_sim.serial_sim import LineSim


class BreathalyserSim(LineSim):
    kind = "breathalyser"
    ACTIONS: ClassVar[tuple[str, ...]] = ("blow",)

    def __init__(self, device_id: str, link_path: Path, *, baud: int = 9600) -> None:
        super().__init__(device_id, link_path, baud=baud)
        self.tests = 0

    def blow(self, value_mg_100ml: float) -> p.Result:
        """A subject blows into the tester; the result line follows."""
        self.tests += 1
        result = p.Result(round(value_mg_100ml, 1), int(time.time()))
        self.push(result.encode())
        return result

    def status_line(self) -> str:
        return p.TesterStatus(True, self.tests).encode()

    def state(self) -> dict[str, Any]:
        return {"tests": self.tests}
