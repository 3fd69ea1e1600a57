"""The serial adapter base, beside the MQTT one (``mqtt_device.py``): one request outstanding, timeouts, retries,
availability from the outcome of transactions. Availability, last seen and the event sink (behind the device's
intake) come from :class:`~devices.adapter.AdapterBase`; the link and the framers stay in ``devices/transport/``.

A :class:`SerialAdapter` owns a :class:`~devices.transport.serial.SerialLink`, feeds received bytes to its kind's
framer and decoder (:meth:`SerialAdapter._decode`), hands a decoded message either to the request waiting for it
(matched by the caller's predicate) or to :meth:`SerialAdapter._unsolicited` (events the device pushes), and
emits events to one sink. Bad input is counted per kind and logged once per kind; it never raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from devices.adapter import AdapterBase
from devices.base import (
    Availability,
    BadInputCounter,
    CodecError,
    DeviceError,
    DeviceTimeout,
    DeviceUnavailable,
    EventSink,
)
from devices.kinds import KINDS
from devices.transport.lines import STAT_QUERY, LineFramer, encode_line
from devices.transport.serial import SerialLink

log = logging.getLogger(__name__)

RECOVER_AFTER = 10  # clean transactions in a row that turn a degraded device online again


@dataclass(slots=True)
class Health:
    """A device's (or one board's) availability from the outcome of its transactions."""

    value: Availability = Availability.UNKNOWN
    clean: int = 0

    def answered(self, *, retried: bool) -> Availability:
        self.clean = 0 if retried else self.clean + 1
        if retried:
            self.value = Availability.DEGRADED
        elif self.value != Availability.DEGRADED or self.clean >= RECOVER_AFTER:
            self.value = Availability.ONLINE
        return self.value

    def unanswered(self) -> Availability:
        self.clean = 0
        self.value = Availability.OFFLINE
        return self.value


class Framer(Protocol):
    bad: BadInputCounter

    def feed(self, data: bytes) -> list[Any]: ...

    def reset(self) -> None: ...


class SerialAdapter(AdapterBase):
    """Base of the serial adapters. Options: ``baud`` (default: the kind's, from ``devices/kinds.py``),
    ``timeout_s`` (per try), ``retries``, ``reopen_max_s``, and the intake's."""

    default_timeout_s: ClassVar[float] = 0.1
    default_retries: ClassVar[int] = 3
    # drop a partial frame before each request: right for devices that only answer, wrong for ones that push
    reset_before_request: ClassVar[bool] = True

    def __init__(
        self,
        device_id: str,
        url: str,
        options: Mapping[str, Any] | None,
        framer: Framer,
        *,
        on_event: EventSink | None = None,
    ) -> None:
        opts = {k: v for k, v in (options or {}).items() if v is not None}
        super().__init__(device_id, on_event, options=opts)
        self.url = url
        self.options = opts
        row = KINDS.get(self.kind)
        self.baud = int(opts.get("baud") or (row.default_baud if row and row.default_baud else 9600))
        self.timeout_s = float(opts.get("timeout_s", self.default_timeout_s))
        self.retries = int(opts.get("retries", self.default_retries))
        self.framer = framer
        self.bad = framer.bad
        self.link = SerialLink(
            url,
            baudrate=self.baud,
            on_data=self._on_bytes,
            on_state=self._on_link_state,
            reopen_max_s=float(opts.get("reopen_max_s", 2.0)),
            name=device_id,
        )
        self.requests_sent = 0
        self._health = Health()
        self._logged_bad: set[str] = set()
        self._bus = asyncio.Lock()
        self._waiting: tuple[Callable[[Any], bool], asyncio.Future[Any]] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._started = False

    # Adapter protocol ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        await self.link.start()
        for coro in self._background():
            self._spawn(coro)

    async def stop(self) -> None:
        self._started = False
        tasks, self._tasks = list(self._tasks), set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.link.stop()
        await self._stop_events()

    # for subclasses -------------------------------------------------------------------------------------------

    def _background(self) -> list[Coroutine[Any, Any, None]]:
        """Coroutines to run while started (poll loops, heartbeats)."""
        return []

    def _decode(self, frame: Any) -> Any:
        """Turn one framed unit into a message; raise CodecError for bad input."""
        return frame

    def _unsolicited(self, message: Any) -> None:
        """A message no request was waiting for (a pushed event, or a late reply)."""
        self._note_bad("unmatched")

    async def transact(
        self, request: bytes, match: Callable[[Any], bool], *, retries: int | None = None, timeout_s: float | None = None
    ) -> Any:
        """Send ``request`` and return the first message ``match`` accepts; retry on silence, then DeviceTimeout."""
        tries = 1 + (self.retries if retries is None else retries)
        timeout = self.timeout_s if timeout_s is None else timeout_s
        # the reply cannot arrive before its bytes have crossed the wire
        timeout += self.link.byte_time * len(request)
        async with self._bus:
            for attempt in range(tries):
                if not self.link.connected:
                    raise DeviceUnavailable(f"{self.device_id}: port not open", device_id=self.device_id)
                fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                if self.reset_before_request:
                    self.framer.reset()
                self._waiting = (match, fut)
                try:
                    self.link.write(request)
                    self.requests_sent += 1
                    async with asyncio.timeout(timeout):
                        result = await fut
                except TimeoutError:
                    log.debug("%s: no answer (try %d of %d)", self.device_id, attempt + 1, tries)
                    continue
                finally:
                    self._waiting = None
                self._answered(retried=attempt > 0)
                return result
        self._unanswered()
        raise DeviceTimeout(f"{self.device_id}: no answer after {tries} tries", device_id=self.device_id)

    def _answered(self, *, retried: bool) -> None:
        """A transaction succeeded; ``retried`` when it needed more than one try."""
        self._set_availability(self._health.answered(retried=retried), "answered after retries" if retried else "")

    def _unanswered(self) -> None:
        self._set_availability(self._health.unanswered(), "no answer")

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _note_bad(self, kind: str) -> None:
        self.bad.note(kind)
        self._log_new_bad()

    def _log_new_bad(self) -> None:
        new = set(self.bad.counts) - self._logged_bad
        for kind in sorted(new):
            log.warning("%s: bad input from the device (%s); further ones are counted only", self.device_id, kind)
        self._logged_bad |= new

    # link callbacks ------------------------------------------------------------------------------------------

    def _on_bytes(self, data: bytes) -> None:
        self._seen()
        for frame in self.framer.feed(data):
            try:
                message = self._decode(frame)
            except CodecError:
                self.bad.note("bad_message")
                continue
            waiting = self._waiting
            if waiting is not None and not waiting[1].done() and waiting[0](message):
                waiting[1].set_result(message)
            else:
                self._unsolicited(message)
        self._log_new_bad()

    def _on_link_state(self, up: bool, detail: str) -> None:
        if not up:
            self._set_availability(Availability.OFFLINE, detail)
            if self._waiting is not None and not self._waiting[1].done():
                self._waiting[1].set_exception(
                    DeviceUnavailable(f"{self.device_id}: {detail}", device_id=self.device_id)
                )
            self._on_link_down()
        else:
            self._on_link_up()

    def _on_link_up(self) -> None:
        """The port (re)opened. Availability waits for the device's first answer."""

    def _on_link_down(self) -> None:
        """The port is gone; availability is already offline."""


class LineAdapter(SerialAdapter):
    """Base of the ASCII line devices: they push event lines and answer ``STAT?`` (polled as a heartbeat).

    Option ``heartbeat_s`` (5 s; 0 turns it off) sets how often ``STAT?`` is asked; a device that stops answering
    goes offline, and comes back online with its next good line.
    """

    status_type: ClassVar[type]
    reset_before_request = False  # a pushed line may be half-way through when the heartbeat asks
    default_heartbeat_s: ClassVar[float] = 5.0

    def __init__(
        self, device_id: str, url: str, options: Mapping[str, Any] | None = None, *, on_event: EventSink | None = None
    ) -> None:
        super().__init__(device_id, url, options, LineFramer(), on_event=on_event)
        self.heartbeat_s = float(self.options.get("heartbeat_s", self.default_heartbeat_s))

    async def query_status(self) -> Any:
        status = self.status_type
        return await self.transact(encode_line(STAT_QUERY), lambda m: isinstance(m, status))

    def _unsolicited(self, message: Any) -> None:
        if isinstance(message, self.status_type):
            self._note_bad("unmatched")
            return
        if self.availability != Availability.ONLINE:
            self._set_availability(Availability.ONLINE, "event line received")
        self._pushed(message)

    def _pushed(self, message: Any) -> None:
        """An event line from the device."""

    def _background(self) -> list[Coroutine[Any, Any, None]]:
        return [self._heartbeat()] if self.heartbeat_s > 0 else []

    async def _heartbeat(self) -> None:
        while True:
            await self.link.wait_connected()
            with contextlib.suppress(DeviceError):
                await self.query_status()
            await asyncio.sleep(self.heartbeat_s)
