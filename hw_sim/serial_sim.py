"""What the simulated serial devices share: a pty port, fault switching, and faults applied to outgoing frames.

Faults (see ``hw_sim/base.py``) take optional parameters: ``count`` (the fault applies to that many answers, then
clears itself), ``delay_s`` for DELAYED. Kinds add their own (stuck latch, read failed) and may scope a fault, e.g.
to one board of a bus. ``OFFLINE`` closes the pty (cable pulled); clearing it plugs a new pty in behind the symlink.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any, ClassVar

from devices.transport.lines import STAT_QUERY, LineFramer, encode_line
from hw_sim.base import BAD_CHECKSUM, DELAYED, GARBLED, OFFLINE, SILENT
from hw_sim.pty import PtyPort


class SerialSim:
    kind: ClassVar[str] = ""
    FAULTS: ClassVar[tuple[str, ...]] = (SILENT, DELAYED, GARBLED, BAD_CHECKSUM, OFFLINE)

    def __init__(self, device_id: str, link_path: Path, *, baud: int, seed: int = 0) -> None:
        self.device_id = device_id
        self.port = PtyPort(link_path, baud=baud, on_data=self._on_bytes)
        self.faults: dict[str, dict[str, Any]] = {}
        self.rng = random.Random(seed)
        self.requests_seen = 0  # every well-formed request the device received, answered or not
        self._timers: set[asyncio.TimerHandle] = set()

    @property
    def link_path(self) -> Path:
        return self.port.link_path

    async def start(self) -> None:
        if OFFLINE not in self.faults:
            self.port.open()

    async def stop(self) -> None:
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        self.port.close()

    def set_fault(self, name: str, **params: Any) -> None:
        if name not in self.FAULTS:
            raise ValueError(f"{self.kind} does not simulate fault {name!r}; it knows {', '.join(self.FAULTS)}")
        self.faults[name] = dict(params)
        if name == OFFLINE:
            self.port.close()

    def clear_fault(self, name: str | None = None) -> None:
        names = list(self.faults) if name is None else [name]
        for n in names:
            self.faults.pop(n, None)
            if n == OFFLINE:
                self.port.open()

    def info(self) -> dict[str, Any]:
        return {
            "id": self.device_id,
            "kind": self.kind,
            "path": str(self.link_path),
            "tty": self.port.slave_name,
            "online": self.port.is_open,
            "faults": {k: dict(v) for k, v in self.faults.items()},
            "requests_seen": self.requests_seen,
        } | self.state()

    def state(self) -> dict[str, Any]:
        """Kind-specific part of :meth:`info`."""
        return {}

    # for subclasses -------------------------------------------------------------------------------------------

    def _on_bytes(self, data: bytes) -> None:
        raise NotImplementedError

    def fault_active(self, name: str, **scope: Any) -> bool:
        """Is fault ``name`` on for this answer? Scope keys (e.g. board=2) must match the fault's own, if given."""
        params = self.faults.get(name)
        if params is None:
            return False
        return all(params.get(k) is None or params.get(k) == v for k, v in scope.items())

    def _use(self, name: str) -> None:
        params = self.faults.get(name)
        if params is not None and params.get("count") is not None:
            params["count"] -= 1
            if params["count"] <= 0:
                del self.faults[name]

    def send(self, frame: bytes, **scope: Any) -> None:
        """Send one answer through the faults that are switched on (silent, garbled, bad checksum, delayed)."""
        if self.fault_active(SILENT, **scope):
            self._use(SILENT)
            return
        if self.fault_active(GARBLED, **scope):
            self._use(GARBLED)
            frame = self._garble(frame)
        elif self.fault_active(BAD_CHECKSUM, **scope):
            self._use(BAD_CHECKSUM)
            frame = frame[:-1] + bytes(((frame[-1] + 1) & 0xFF,))
        if self.fault_active(DELAYED, **scope):
            delay = float(self.faults[DELAYED].get("delay_s", 0.5))
            self._use(DELAYED)
            self._later(delay, self.port.write, frame)
            return
        self.port.write(frame)

    def _garble(self, frame: bytes) -> bytes:
        """Noise, then the frame cut short: what a reflection or a loose ground does to an RS-485 answer."""
        noise = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 6)))
        return noise + frame[: self.rng.randrange(1, max(2, len(frame) - 1))]

    def _later(self, delay: float, fn: Any, *args: Any) -> None:
        def run() -> None:
            self._timers.discard(handle)
            fn(*args)

        handle = asyncio.get_running_loop().call_later(delay, run)
        self._timers.add(handle)


class LineSim(SerialSim):
    """Base of the ASCII line devices: answers ``STAT?`` with :meth:`status_line`, pushes event lines."""

    FAULTS: ClassVar[tuple[str, ...]] = (SILENT, DELAYED, GARBLED, OFFLINE)

    def __init__(self, device_id: str, link_path: Path, *, baud: int = 9600, seed: int = 0) -> None:
        super().__init__(device_id, link_path, baud=baud, seed=seed)
        self.framer = LineFramer()

    def status_line(self) -> str:
        raise NotImplementedError

    def push(self, line: str) -> None:
        self.send(encode_line(line))

    def _on_bytes(self, data: bytes) -> None:
        for line in self.framer.feed(data):
            if line == STAT_QUERY:
                self.requests_seen += 1
                self.push(self.status_line())

    def _garble(self, frame: bytes) -> bytes:
        # a line cut short by noise still ends at the next CR LF the device sends
        cut = frame[: self.rng.randrange(1, max(2, len(frame) - 2))]
        return cut + bytes(self.rng.randrange(0x80, 0x100) for _ in range(3)) + b"\r\n"
