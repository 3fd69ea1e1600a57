"""The device end of a simulated serial port: a pty pair, a stable symlink to its slave, writes paced at the baud rate.

The adapter opens the symlink (``var/sim/<id>``) exactly as it would open ``/dev/ttyUSB0``. The simulator keeps the
master and talks through it. A pty moves bytes instantly, so :class:`PtyPort` puts the wire back: a reply cannot start
before the request's last byte would have arrived, and its bytes leave one ``10 / baud`` seconds after another (8N1),
so latency measured through the pty is comparable to the wire time of the real link.

:meth:`PtyPort.close` is the cable pulled: the symlink goes, the master closes, the adapter's reads fail with EIO.
:meth:`PtyPort.open` plugs a new pty in behind the same symlink.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import tty
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

BITS_PER_BYTE = 10  # 8N1


class PtyPort:
    def __init__(self, link_path: Path, *, baud: int, on_data: Callable[[bytes], None]) -> None:
        self.link_path = Path(link_path)
        self.baud = baud
        self.byte_time = BITS_PER_BYTE / baud
        self._on_data = on_data
        self._master: int | None = None
        self._slave: int | None = None
        self.slave_name = ""
        self._tx: collections.deque[tuple[float, int]] = collections.deque()  # (time the byte is on the wire, byte)
        self._tx_done = 0.0
        self._rx_done = 0.0
        self._pump_handle: asyncio.TimerHandle | None = None

    @property
    def is_open(self) -> bool:
        return self._master is not None

    def open(self) -> None:
        """Create the pty pair and point the symlink at its slave. Needs the running loop."""
        if self._master is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing: bytes pass untouched until the adapter configures the port
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.slave_name = os.ttyname(slave)
        self.link_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.link_path.with_name(f".{self.link_path.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.symlink(self.slave_name, tmp)
        os.replace(tmp, self.link_path)
        asyncio.get_running_loop().add_reader(master, self._readable)
        log.info("pty %s -> %s at %d baud", self.link_path, self.slave_name, self.baud)

    def close(self) -> None:
        """Pull the cable: remove the symlink and close both ends."""
        if self._master is None:
            return
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().remove_reader(self._master)
        if self._pump_handle is not None:
            self._pump_handle.cancel()
            self._pump_handle = None
        self._tx.clear()
        with contextlib.suppress(FileNotFoundError):
            if os.path.islink(self.link_path) and os.readlink(self.link_path) == self.slave_name:
                self.link_path.unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    def write(self, data: bytes) -> None:
        """Queue bytes for the wire; they start after the last request byte has arrived and leave at the baud rate."""
        if self._master is None or not data:
            return
        loop = asyncio.get_running_loop()
        t = max(loop.time(), self._rx_done, self._tx_done)
        for b in data:
            t += self.byte_time
            self._tx.append((t, b))
        self._tx_done = t
        if self._pump_handle is None:
            self._pump()

    def _pump(self) -> None:
        self._pump_handle = None
        if self._master is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        out = bytearray()
        while self._tx and self._tx[0][0] <= now:
            out.append(self._tx.popleft()[1])
        if out:
            try:
                os.write(self._master, out)
            except BlockingIOError:
                # the adapter is not reading: the bytes are lost, as on a wire nobody listens to
                pass
            except OSError as exc:
                log.warning("pty %s: write failed: %s", self.link_path, exc)
        if self._tx:
            self._pump_handle = loop.call_at(self._tx[0][0], self._pump)

    def _readable(self) -> None:
        assert self._master is not None
        try:
            data = os.read(self._master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # EIO while nobody has the slave open; we hold the slave, so this is transient
        if not data:
            return
        loop = asyncio.get_running_loop()
        self._rx_done = max(loop.time(), self._rx_done) + len(data) * self.byte_time
        self._on_data(data)
