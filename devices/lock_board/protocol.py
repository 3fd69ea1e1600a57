"""Kerong KR-CU16 lock-control board frames (RS-485, 19200 8N1): pure codec and streaming framers, both roles.

Sources (public drivers of the real board, read on 2026-11-29; no vendor PDF was found in the stored corpora):

- ``jin0949/KR-CU16_locker`` (GitHub), ``src/locker.py`` and ``src/constants.py``: 19200 8N1; the status request of
  board 0 is the literal ``02 00 30 03 35``; the unlock of locker n is ``02 (n-1) 31 03 SUM``; the reply is read as
  exactly 9 bytes, with lockers 1-8 in byte 3 and 9-16 in byte 4, bit (n-1) % 8 set = locked.
- A public Python driver "RS485 Controller Module - KR-CU16 Protocol" (CartWise) and a public Java
  ``com.example.parcellocker.cu16`` driver (``CU16Commands``/``parseStatus9``): the command table below, the reply
  command 0x35 ("return single CU data"), the 9-byte reply ``STX ADDR 35 D1 D2 D3 D4 ETX SUM`` with D1/D2 the lock
  hooks of locks 1-8/9-16 and D3/D4 the infrared (item present) sensors, checksum = low byte of the sum of every
  preceding byte; the unlock is answered with the same 0x35 status frame.
- A public TypeScript "Kerong Lock Controller Module" (CU12/CU16): ``ADDR = (board & 0xF0) | (lock - 1)``, i.e. the
  board address in the high nibble and the lock (0-15) in the low nibble; baud 19200 8N1 by default.

Frames (no length byte: every frame has a fixed length decided by its command)::

    request  (host -> board)  STX ADDR CMD ETX SUM                       5 bytes
    reply    (board -> host)  STX ADDR 35 L1-8 L9-16 IR1-8 IR9-16 ETX SUM 9 bytes

``STX`` = 0x02, ``ETX`` = 0x03, ``SUM`` = byte sum of every preceding byte of the frame, mod 256.
``ADDR`` = ``board << 4 | lock`` (board 0..15, lock 0..15). Bitmaps are LSB first: bit i of L1-8 is lock i.

======  =======================  =============================================================================
CMD     request                  reply
======  =======================  =============================================================================
0x30    status (lock nibble 0)   ``02 ADDR 35 L1-8 L9-16 IR1-8 IR9-16 03 SUM``: every lock of the board
0x31    unlock one lock          the same 0x35 status frame, read after the latch was pulsed
======  =======================  =============================================================================

The published drivers read a set lock-hook bit as "locked" (hook closed): on a real CU16 the door is open when the
bit is 0, which is ``latch_polarity = "low_is_open"``, the default here. Sites whose sensors are wired the other
way set ``high_is_open``. The published command table also lists 0x32 (status of every CU on the bus, broadcast
ADDR 0xF0, answered 0x36), 0x33 (unlock all), 0x37/0x38 (unlock time) and 0x39 (delayed unlock); their reply
layouts are not given by any public source found, so this codec does not speak them. No public description of
the KR-CU48 frames was found either: this codec drives CU16 boards only (16 channels a board, up to 16 boards).

Decoders raise only :class:`~devices.base.CodecError`; framers never raise and never yield a frame whose checksum
is wrong. Garbage before STX, replies of an unknown command (such as an older dialect's length-prefixed
``02 00 30 02 00 00 03 37``), a missing ETX and bad checksums are dropped and counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devices.base import BadInputCounter, CodecError

STX = 0x02
ETX = 0x03

CMD_STATUS = 0x30
CMD_UNLOCK = 0x31
REPLY_STATUS = 0x35  # "return single CU data": the answer to 0x30 and to 0x31

MAX_BOARDS = 16
MAX_CHANNELS = 16
REQUEST_LEN = 5
REPLY_LEN = 9
BAUD = 19200


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def _check_board(board: int) -> None:
    if not 0 <= board < MAX_BOARDS:
        raise ValueError(f"board address {board} out of range 0..{MAX_BOARDS - 1}")


def _check_lock(lock: int) -> None:
    if not 0 <= lock < MAX_CHANNELS:
        raise ValueError(f"lock {lock} out of range 0..{MAX_CHANNELS - 1}")


@dataclass(frozen=True, slots=True)
class Request:
    """A decoded host request: ``base`` is 0x30 (status) or 0x31 (unlock)."""

    board: int
    base: int
    lock: int = 0

    @property
    def addr_byte(self) -> int:
        return (self.board << 4) | self.lock

    @property
    def cmd_byte(self) -> int:
        return self.base

    def encode(self) -> bytes:
        _check_board(self.board)
        _check_lock(self.lock)
        if self.base not in (CMD_STATUS, CMD_UNLOCK):
            raise ValueError(f"unknown command 0x{self.base:02x}")
        head = bytes((STX, self.addr_byte, self.base, ETX))
        return head + bytes((checksum(head),))


def encode_status(board: int, lock: int = 0) -> bytes:
    return Request(board, CMD_STATUS, lock).encode()


def encode_unlock(board: int, lock: int) -> bytes:
    return Request(board, CMD_UNLOCK, lock).encode()


def decode_request(frame: bytes) -> Request:
    if len(frame) != REQUEST_LEN:
        raise CodecError(f"request must be {REQUEST_LEN} bytes, got {len(frame)}")
    if frame[0] != STX or frame[3] != ETX:
        raise CodecError("request without STX/ETX")
    if checksum(frame[:4]) != frame[4]:
        raise CodecError("request checksum mismatch")
    addr, cmd = frame[1], frame[2]
    if cmd not in (CMD_STATUS, CMD_UNLOCK):
        raise CodecError(f"unknown command byte 0x{cmd:02x}")
    return Request(addr >> 4, cmd, addr & 0x0F)


@dataclass(frozen=True, slots=True)
class BoardLevels:
    """Every lock of a board, raw: ``levels[i]`` is lock i's hook bit, ``items[i]`` its infrared bit (16 each)."""

    levels: tuple[bool, ...]
    items: tuple[bool, ...]

    def __post_init__(self) -> None:
        if len(self.levels) != MAX_CHANNELS or len(self.items) != MAX_CHANNELS:
            raise ValueError(f"a CU16 reports exactly {MAX_CHANNELS} hooks and {MAX_CHANNELS} sensors")


@dataclass(frozen=True, slots=True)
class LockLevel:
    """One lock's raw state: lock-hook bit and the item-present (IR) bit."""

    level: bool
    item: bool


@dataclass(frozen=True, slots=True)
class Reply:
    """A decoded 0x35 status reply, still raw (hook bits, not open/closed)."""

    addr_byte: int
    state: BoardLevels

    @property
    def board(self) -> int:
        return self.addr_byte >> 4

    def lock(self, channel: int) -> LockLevel:
        return LockLevel(self.state.levels[channel], self.state.items[channel])

    def encode(self) -> bytes:
        head = bytes((STX, self.addr_byte, REPLY_STATUS)) + _pack(self.state.levels) + _pack(self.state.items)
        head += bytes((ETX,))
        return head + bytes((checksum(head),))


def _pack(bits: tuple[bool, ...]) -> bytes:
    out = bytearray(2)
    for i, b in enumerate(bits):
        if b:
            out[i // 8] |= 1 << (i % 8)
    return bytes(out)


def _unpack(raw: bytes) -> tuple[bool, ...]:
    return tuple(bool(raw[i // 8] >> (i % 8) & 1) for i in range(MAX_CHANNELS))


def decode_reply(frame: bytes) -> Reply:
    if len(frame) != REPLY_LEN:
        raise CodecError(f"reply must be {REPLY_LEN} bytes, got {len(frame)}")
    if frame[0] != STX:
        raise CodecError("reply without STX")
    if frame[2] != REPLY_STATUS:
        raise CodecError(f"reply command 0x{frame[2]:02x} is not 0x35")
    if frame[7] != ETX:
        raise CodecError("reply without ETX")
    if checksum(frame[:-1]) != frame[-1]:
        raise CodecError("reply checksum mismatch")
    return Reply(frame[1], BoardLevels(_unpack(frame[3:5]), _unpack(frame[5:7])))


@dataclass(frozen=True, slots=True)
class BoardSpec:
    """One board on the bus as wired on site: its address, channel count and latch polarity."""

    address: int
    channels: int = 16
    latch_polarity: str = "low_is_open"  # the published reading: hook bit set = locked, so 0 = open

    def __post_init__(self) -> None:
        _check_board(self.address)
        if not 1 <= self.channels <= MAX_CHANNELS:
            raise ValueError(f"channels must be 1..{MAX_CHANNELS}")
        if self.latch_polarity not in ("high_is_open", "low_is_open"):
            raise ValueError(f"unknown latch polarity {self.latch_polarity!r}")

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> BoardSpec:
        """From a site-config locker bank (or any mapping with address, channels, latch_polarity)."""
        return cls(int(m["address"]), int(m.get("channels", 16)), str(m.get("latch_polarity", "low_is_open")))

    @property
    def low_is_open(self) -> bool:
        return self.latch_polarity == "low_is_open"

    def is_open(self, level: bool) -> bool:
        return level != self.low_is_open

    def level(self, is_open: bool) -> bool:
        return is_open != self.low_is_open


# Streaming framers ----------------------------------------------------------------------------------------------


class _Framer:
    """Splits a byte stream into checked frames; resyncs on STX. Never raises."""

    def __init__(self, bad: BadInputCounter | None = None) -> None:
        self.bad = bad if bad is not None else BadInputCounter()
        self._buf = bytearray()

    def reset(self) -> None:
        """Forget a partial frame (the adapter calls this before each new request)."""
        if self._buf:
            self.bad.note("truncated")
            self._buf.clear()

    def _length(self) -> int | None:
        """Expected length of the frame starting at buf[0] (== STX), None if not known yet, 0 if impossible."""
        raise NotImplementedError

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        buf = self._buf
        out: list[bytes] = []
        while buf:
            if buf[0] != STX:
                i = buf.find(STX)
                drop = len(buf) if i < 0 else i
                del buf[:drop]
                self.bad.note("garbage")
                continue
            n = self._length()
            if n is None or len(buf) < n:
                break
            frame = bytes(buf[:n])
            if n == 0 or frame[-2] != ETX:
                self.bad.note("bad_frame")
                del buf[:1]
            elif checksum(frame[:-1]) != frame[-1]:
                self.bad.note("bad_checksum")
                del buf[:1]
            else:
                out.append(frame)
                del buf[:n]
        return out


class ReplyFramer(_Framer):
    """Host role: cuts board replies (fixed 9-byte 0x35 frames) out of the stream."""

    def _length(self) -> int | None:
        if len(self._buf) < 3:
            return None
        return REPLY_LEN if self._buf[2] == REPLY_STATUS else 0


class RequestFramer(_Framer):
    """Board role: cuts host requests out of the stream."""

    def _length(self) -> int | None:
        return REQUEST_LEN
