"""Adapter of a GA 467 ID card reader: polls find / select / read and reports each card placed and removed.

One :class:`CardRead` per placement, carrying the decoded :class:`~devices.id_reader.protocol.IdentityCard`, whether
it is valid (GB 11643 check digit and birth date, known codes, within its validity period) and the problems found.
A card that cannot be read after ``max_read_failures`` (3) tries gives one :class:`CardReadFailed` for that
placement. Never logs an identity-card number: only its masked form (region prefix).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from devices.base import CodecError, DeviceError, DeviceEvent, DeviceRejected, EventSink
from devices.id_reader import protocol as p
from devices.serial_device import SerialAdapter
from devices.transport.serial import wire_time

log = logging.getLogger(__name__)

READ_REPLY_BYTES = 7 + 3 + 4 + p.TEXT_LEN + p.PHOTO_LEN + 1


@dataclass(frozen=True, slots=True)
class CardRead(DeviceEvent):
    identity: p.IdentityCard | None = field(default=None, repr=False)
    valid: bool = False
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CardRemoved(DeviceEvent):
    pass


@dataclass(frozen=True, slots=True)
class CardReadFailed(DeviceEvent):
    reason: str = ""


class IdReaderAdapter(SerialAdapter):
    """Options: ``baud`` (115200), ``poll_s`` (0.3; 0 turns the poll off), ``max_read_failures`` (3)."""

    kind = "id_reader"

    def __init__(
        self,
        device_id: str,
        url: str,
        options: Mapping[str, Any] | None = None,
        *,
        on_event: EventSink | None = None,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        super().__init__(device_id, url, options, p.SamFramer(), on_event=on_event)
        self.poll_s = float(self.options.get("poll_s", 0.3))
        self.max_read_failures = int(self.options.get("max_read_failures", 3))
        self._today = today
        self._present = False
        self._failures = 0

    @property
    def card_present(self) -> bool:
        """A card is on the reader and has been reported (read, or given up on)."""
        return self._present

    async def poll_once(self) -> None:
        """One find (and, for a new card, select and read) cycle; emits what changed."""
        found = await self._command(p.FIND_REQUEST)
        if found.status == p.SW_NO_CARD:
            if self._present:
                self.emit(CardRemoved(self.device_id, self.kind))
                log.info("%s: card removed", self.device_id)
            self._present = False
            self._failures = 0
            return
        if found.status != p.SW_FOUND:
            raise DeviceRejected(f"{self.device_id}: find answered 0x{found.status:02x}", device_id=self.device_id)
        if self._present:
            return
        selected = await self._command(p.SELECT_REQUEST)
        if selected.status != p.SW_OK:
            return  # the card moved away while being selected; the next poll tries again
        read = await self._command(p.READ_REQUEST, wire_time(READ_REPLY_BYTES, self.baud))
        if read.status == p.SW_NO_CARD:
            return  # taken away before it could be read: not a failed read
        try:
            if read.status != p.SW_OK:
                raise DeviceRejected(f"read answered 0x{read.status:02x}")
            text, photo = p.parse_read_data(read.data)
            card = p.to_card(p.decode_text(text), photo)
        except (CodecError, DeviceRejected) as exc:
            self._read_failed(str(exc) if isinstance(exc, DeviceRejected) else "unreadable text block")
            return
        problems = p.card_problems(card, self._today())
        self._present = True
        self._failures = 0
        log.info("%s: card read %s valid=%s problems=%s", self.device_id, card.masked_id, not problems, problems)
        self.emit(CardRead(self.device_id, self.kind, identity=card, valid=not problems, problems=tuple(problems)))

    async def _command(self, request: bytes, extra_s: float = 0.0) -> p.Response:
        response: p.Response = await self.transact(request, lambda m: True, timeout_s=self.timeout_s + extra_s)
        return response

    def _decode(self, frame: bytes) -> p.Response:
        return p.decode_response(frame)

    def _read_failed(self, reason: str) -> None:
        self._failures += 1
        log.info("%s: card read failed (%d of %d): %s", self.device_id, self._failures, self.max_read_failures,
                 reason)
        if self._failures >= self.max_read_failures:
            self._present = True  # reported once for this placement; a new placement starts over
            self.emit(CardReadFailed(self.device_id, self.kind, reason=reason))

    def _background(self) -> list[Coroutine[Any, Any, None]]:
        return [self._poll_loop()] if self.poll_s > 0 else []

    async def _poll_loop(self) -> None:
        while True:
            await self.link.wait_connected()
            try:
                await self.poll_once()
            except DeviceError as exc:
                log.debug("%s: poll failed: %s", self.device_id, exc)
            await asyncio.sleep(self.poll_s)
