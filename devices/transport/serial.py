"""A serial byte pipe on the asyncio loop: pyserial opens the port, the loop watches its file descriptor.

``SerialLink(url, baudrate=..., on_data=...)`` accepts a device path (``/dev/ttyUSB0``), a pty path or symlink
(the simulator's ``var/sim/<id>``), or ``socket://host:port`` for an RS-485-over-TCP converter. A port is opened with
``serial.serial_for_url(url, timeout=0)`` and its descriptor registered with ``loop.add_reader``; writes go straight to
the non-blocking descriptor and any remainder waits for ``loop.add_writer``. No thread per port. For ``socket://``,
pyserial has no descriptor to offer, so the link uses asyncio streams instead.

When the port vanishes (cable or USB adapter pulled, simulator pty closed) the link reports the loss, closes, and
reopens with exponential backoff until :meth:`SerialLink.stop`. Framers consume the bytes through ``on_data``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
from collections.abc import Callable
from urllib.parse import urlsplit

import serial

from devices.base import DeviceUnavailable

log = logging.getLogger(__name__)

BITS_PER_BYTE = 10  # 8N1: start bit, 8 data bits, stop bit


def byte_time(baud: int) -> float:
    """Seconds one byte takes on the wire at ``baud`` (8N1)."""
    return BITS_PER_BYTE / baud


def wire_time(nbytes: int, baud: int) -> float:
    return nbytes * byte_time(baud)


class SerialLink:
    """One serial port: open, read into ``on_data``, write without blocking, reopen after loss with backoff."""

    def __init__(
        self,
        url: str,
        *,
        baudrate: int,
        on_data: Callable[[bytes], None],
        on_state: Callable[[bool, str], None] | None = None,
        reopen_min_s: float = 0.05,
        reopen_max_s: float = 2.0,
        name: str = "",
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.name = name or url
        self._on_data = on_data
        self._on_state = on_state
        self._reopen_min_s = reopen_min_s
        self._reopen_max_s = reopen_max_s
        self._port: serial.SerialBase | None = None
        self._fd: int | None = None
        self._stream: asyncio.StreamWriter | None = None
        self._pending_out = bytearray()
        self._lost: asyncio.Future[str] | None = None
        self._connected = asyncio.Event()
        self._said_down = False  # the "cannot open" state was reported since the last open
        self._task: asyncio.Task[None] | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self.opens = 0  # how many times the port was (re)opened; tests and diagnostics read it

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def byte_time(self) -> float:
        return byte_time(self.baudrate)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._supervise(), name=f"serial:{self.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()

    async def wait_connected(self, timeout_s: float | None = None) -> None:
        """Wait until the port is open; TimeoutError after ``timeout_s`` (None: wait as long as it takes)."""
        async with asyncio.timeout(timeout_s):
            await self._connected.wait()

    def write(self, data: bytes) -> None:
        """Queue bytes for the wire now; raises DeviceUnavailable when the port is closed."""
        if not self.connected:
            raise DeviceUnavailable(f"serial port {self.name} is not open")
        if self._stream is not None:
            self._stream.write(data)
            return
        assert self._fd is not None
        if self._pending_out:
            self._pending_out += data
            return
        try:
            n = os.write(self._fd, data)
        except BlockingIOError:
            n = 0
        except OSError as exc:
            self._mark_lost(f"write failed: {exc.strerror}")
            raise DeviceUnavailable(f"serial port {self.name}: write failed") from exc
        if n < len(data):
            self._pending_out += data[n:]
            asyncio.get_running_loop().add_writer(self._fd, self._flush)

    # internals -----------------------------------------------------------------------------------------------

    async def _supervise(self) -> None:
        delay = self._reopen_min_s
        while True:
            try:
                await self._open()
            except (OSError, serial.SerialException, ValueError) as exc:
                log.debug("serial %s: open failed (%s); retry in %.2fs", self.name, exc, delay)
                if self._on_state and not self._said_down:
                    # a port that cannot be opened is a device that is not there: say so once (not "unknown"
                    # forever), so screens show it unavailable while the reopen keeps trying
                    self._said_down = True
                    self._on_state(False, "port cannot be opened")
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._reopen_max_s)
                continue
            delay = self._reopen_min_s
            self.opens += 1
            self._connected.set()
            self._said_down = False
            log.info("serial %s: open", self.name)
            if self._on_state:
                self._on_state(True, "port open")
            assert self._lost is not None
            reason = await self._lost
            log.warning("serial %s: lost (%s)", self.name, reason)
            await self._close()
            if self._on_state:
                self._on_state(False, reason)
                self._said_down = True
            await asyncio.sleep(delay)

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        self._lost = loop.create_future()
        if self.url.startswith("socket://"):
            parts = urlsplit(self.url)
            if parts.hostname is None or parts.port is None:
                raise ValueError(f"bad socket URL {self.url!r}")
            reader, self._stream = await asyncio.wait_for(
                asyncio.open_connection(parts.hostname, parts.port), timeout=5.0
            )
            self._reader_task = loop.create_task(self._read_stream(reader), name=f"serial-rx:{self.name}")
            return
        self._open_port(loop)

    def _open_port(self, loop: asyncio.AbstractEventLoop) -> None:
        # opening a local port does not block for long: no thread needed
        port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0, write_timeout=0)
        self._port = port
        self._fd = port.fileno()
        with contextlib.suppress(serial.SerialException):
            port.reset_input_buffer()  # bytes left from before we opened belong to nobody
        loop.add_reader(self._fd, self._readable)

    def _readable(self) -> None:
        assert self._fd is not None
        try:
            data = os.read(self._fd, 4096)
        except BlockingIOError:
            return
        except OSError as exc:
            self._mark_lost("port gone" if exc.errno in (errno.EIO, errno.ENXIO, errno.EBADF) else exc.strerror or "")
            return
        if not data:
            self._mark_lost("end of file")
            return
        self._on_data(data)

    async def _read_stream(self, reader: asyncio.StreamReader) -> None:
        try:
            while data := await reader.read(4096):
                self._on_data(data)
            self._mark_lost("connection closed")
        except OSError as exc:
            self._mark_lost(f"connection error: {exc}")

    def _flush(self) -> None:
        assert self._fd is not None
        try:
            n = os.write(self._fd, self._pending_out)
        except BlockingIOError:
            return
        except OSError as exc:
            self._mark_lost(f"write failed: {exc.strerror}")
            return
        del self._pending_out[:n]
        if not self._pending_out:
            asyncio.get_running_loop().remove_writer(self._fd)

    def _mark_lost(self, reason: str) -> None:
        self._connected.clear()
        if self._fd is not None:
            loop = asyncio.get_running_loop()
            loop.remove_reader(self._fd)
            loop.remove_writer(self._fd)
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(reason)

    async def _close(self) -> None:
        self._connected.clear()
        self._pending_out.clear()
        if self._fd is not None:
            loop = asyncio.get_running_loop()
            loop.remove_reader(self._fd)
            loop.remove_writer(self._fd)
            self._fd = None
        if self._port is not None:
            with contextlib.suppress(OSError, serial.SerialException):
                self._port.close()
            self._port = None
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
            self._reader_task = None
        if self._stream is not None:
            self._stream.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self._stream.wait_closed()
            self._stream = None
