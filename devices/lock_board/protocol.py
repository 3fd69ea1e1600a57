"""Kerong-style lock-control board frames (RS-485, 19200 8N1): pure codec and streaming framers, both roles.

Requests (host -> board) are five bytes::

    STX ADDR CMD ETX SUM

Replies (board -> host) carry a length and data between CMD and ETX::

    STX ADDR CMD LEN DATA[LEN] ETX SUM

``STX`` = 0x02, ``ETX`` = 0x03, ``SUM`` = byte sum of every preceding byte of the frame, mod 256.

Addressing: ``ADDR`` = ``board << 4 | (lock & 0x0F)`` (board 0..15 on the bus). The command byte's high nibble
selects the group of 16 locks, so one board drives up to 48 channels: ``CMD = base + 0x10 * (lock >> 4)``.
The published fixture holds: unlock board 0 lock 0 is ``02 00 31 03 36``.

======  =====================  ===========================================================================
base    request                reply DATA
======  =====================  ===========================================================================
0x30    status of one lock     ``LEVEL IR``: latch sensor level (0/1) and item-present bit of that lock
0x31    unlock one lock        ``RESULT LEVEL IR``: RESULT 0x00 done, 0x01 refused; then as 0x30, after pulsing
0x32    status of all locks    ``N LOCKMAP IRMAP``: N channels, then two bitmaps of ceil(N/8) bytes, LSB first
======  =====================  ===========================================================================

The latch level is raw: what it means (open or closed) depends on the board's wiring (``latch_polarity``), which the
adapter applies. The reply echoes the request's ADDR and CMD bytes, so a reply is matched by (ADDR, CMD).

Decoders raise only :class:`~devices.base.CodecError`; framers never raise and never yield a frame whose checksum
is wrong. Garbage before STX, impossible lengths, a missing ETX and bad checksums are dropped and counted.
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
CMD_STATUS_ALL = 0x32

RESULT_DONE = 0x00
RESULT_REFUSED = 0x01

MAX_BOARDS = 16
MAX_CHANNELS = 48
REQUEST_LEN = 5
MAX_DATA = 1 + 2 * (MAX_CHANNELS // 8)  # status-all of a 48-channel board
MAX_REPLY_LEN = 4 + MAX_DATA + 2


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
    """A decoded host request: ``base`` is 0x30/0x31/0x32; ``lock`` is 0 for status-all."""

    board: int
    base: int
    lock: int = 0

    @property
    def addr_byte(self) -> int:
        return (self.board << 4) | (self.lock & 0x0F)

    @property
    def cmd_byte(self) -> int:
        return self.base + 0x10 * (self.lock >> 4)

    @property
    def key(self) -> tuple[int, int]:
        """What the reply must echo: (ADDR, CMD)."""
        return self.addr_byte, self.cmd_byte

    def encode(self) -> bytes:
        _check_board(self.board)
        _check_lock(self.lock)
        if self.base not in (CMD_STATUS, CMD_UNLOCK, CMD_STATUS_ALL):
            raise ValueError(f"unknown command 0x{self.base:02x}")
        if self.base == CMD_STATUS_ALL and self.lock != 0:
            raise ValueError("status-all takes no lock number")
        head = bytes((STX, self.addr_byte, self.cmd_byte, ETX))
        return head + bytes((checksum(head),))


def encode_status(board: int, lock: int) -> bytes:
    return Request(board, CMD_STATUS, lock).encode()


def encode_unlock(board: int, lock: int) -> bytes:
    return Request(board, CMD_UNLOCK, lock).encode()


def encode_status_all(board: int) -> bytes:
    return Request(board, CMD_STATUS_ALL).encode()


def decode_request(frame: bytes) -> Request:
    if len(frame) != REQUEST_LEN:
        raise CodecError(f"request must be {REQUEST_LEN} bytes, got {len(frame)}")
    if frame[0] != STX or frame[3] != ETX:
        raise CodecError("request without STX/ETX")
    if checksum(frame[:4]) != frame[4]:
        raise CodecError("request checksum mismatch")
    addr, cmd = frame[1], frame[2]
    base, group = 0x30 | (cmd & 0x0F), (cmd >> 4) - 3
    if base not in (CMD_STATUS, CMD_UNLOCK, CMD_STATUS_ALL) or not 0 <= group < MAX_CHANNELS // 16:
        raise CodecError(f"unknown command byte 0x{cmd:02x}")
    if base == CMD_STATUS_ALL and (group or addr & 0x0F):
        raise CodecError("status-all with a lock number")
    return Request(addr >> 4, base, (addr & 0x0F) + 16 * group)


@dataclass(frozen=True, slots=True)
class Reply:
    """A decoded board reply, still raw (latch levels, not open/closed)."""

    addr_byte: int
    cmd_byte: int
    data: bytes

    @property
    def key(self) -> tuple[int, int]:
        return self.addr_byte, self.cmd_byte

    @property
    def board(self) -> int:
        return self.addr_byte >> 4

    @property
    def base(self) -> int:
        return 0x30 | (self.cmd_byte & 0x0F)

    def encode(self) -> bytes:
        if len(self.data) > MAX_DATA:
            raise ValueError(f"reply data longer than {MAX_DATA} bytes")
        head = bytes((STX, self.addr_byte, self.cmd_byte, len(self.data))) + self.data + bytes((ETX,))
        return head + bytes((checksum(head),))


def decode_reply(frame: bytes) -> Reply:
    if len(frame) < 6:
        raise CodecError("reply shorter than 6 bytes")
    if frame[0] != STX:
        raise CodecError("reply without STX")
    n = frame[3]
    if n > MAX_DATA or len(frame) != 6 + n:
        raise CodecError(f"reply length byte {n} does not match the frame")
    if frame[4 + n] != ETX:
        raise CodecError("reply without ETX")
    if checksum(frame[:-1]) != frame[-1]:
        raise CodecError("reply checksum mismatch")
    return Reply(frame[1], frame[2], bytes(frame[4 : 4 + n]))


@dataclass(frozen=True, slots=True)
class BoardSpec:
    """One board on the bus as wired on site: its address, channel count and latch polarity."""

    address: int
    channels: int = 16
    latch_polarity: str = "high_is_open"  # or "low_is_open": the sensor reads 0 when the door is open

    def __post_init__(self) -> None:
        _check_board(self.address)
        if not 1 <= self.channels <= MAX_CHANNELS:
            raise ValueError(f"channels must be 1..{MAX_CHANNELS}")
        if self.latch_polarity not in ("high_is_open", "low_is_open"):
            raise ValueError(f"unknown latch polarity {self.latch_polarity!r}")

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> BoardSpec:
        """From a site-config locker bank (or any mapping with address, channels, latch_polarity)."""
        return cls(int(m["address"]), int(m.get("channels", 16)), str(m.get("latch_polarity", "high_is_open")))

    @property
    def low_is_open(self) -> bool:
        return self.latch_polarity == "low_is_open"

    def is_open(self, level: bool) -> bool:
        return level != self.low_is_open

    def level(self, is_open: bool) -> bool:
        return is_open != self.low_is_open


# Reply payloads -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LockLevel:
    """One lock's raw state: latch sensor level and the item-present (IR) bit."""

    level: bool
    item: bool


@dataclass(frozen=True, slots=True)
class UnlockResult:
    done: bool
    state: LockLevel


@dataclass(frozen=True, slots=True)
class BoardLevels:
    """Every lock of a board, raw. ``levels[i]``/``items[i]`` for channel i."""

    levels: tuple[bool, ...]
    items: tuple[bool, ...]


def _bit(value: int, name: str) -> bool:
    if value not in (0, 1):
        raise CodecError(f"{name} byte must be 0 or 1, got {value}")
    return bool(value)


def status_data(state: LockLevel) -> bytes:
    return bytes((int(state.level), int(state.item)))


def parse_status(data: bytes) -> LockLevel:
    if len(data) != 2:
        raise CodecError("status reply needs 2 data bytes")
    return LockLevel(_bit(data[0], "level"), _bit(data[1], "item"))


def unlock_data(done: bool, state: LockLevel) -> bytes:
    return bytes((RESULT_DONE if done else RESULT_REFUSED,)) + status_data(state)


def parse_unlock(data: bytes) -> UnlockResult:
    if len(data) != 3 or data[0] not in (RESULT_DONE, RESULT_REFUSED):
        raise CodecError("unlock reply needs RESULT LEVEL IR")
    return UnlockResult(data[0] == RESULT_DONE, parse_status(data[1:]))


def _pack(bits: tuple[bool, ...]) -> bytes:
    out = bytearray((len(bits) + 7) // 8)
    for i, b in enumerate(bits):
        if b:
            out[i // 8] |= 1 << (i % 8)
    return bytes(out)


def _unpack(raw: bytes, n: int) -> tuple[bool, ...]:
    return tuple(bool(raw[i // 8] >> (i % 8) & 1) for i in range(n))


def status_all_data(board: BoardLevels) -> bytes:
    n = len(board.levels)
    if len(board.items) != n or not 1 <= n <= MAX_CHANNELS:
        raise ValueError("levels and items must have the same length, 1..48")
    return bytes((n,)) + _pack(board.levels) + _pack(board.items)


def parse_status_all(data: bytes) -> BoardLevels:
    if not data:
        raise CodecError("status-all reply without data")
    n = data[0]
    width = (n + 7) // 8
    if not 1 <= n <= MAX_CHANNELS or len(data) != 1 + 2 * width:
        raise CodecError(f"status-all reply of {len(data)} bytes does not fit {n} channels")
    return BoardLevels(_unpack(data[1 : 1 + width], n), _unpack(data[1 + width :], n))


def parse_data(reply: Reply) -> LockLevel | UnlockResult | BoardLevels:
    """The data of a reply, read according to the command it answers."""
    if reply.base == CMD_STATUS:
        return parse_status(reply.data)
    if reply.base == CMD_UNLOCK:
        return parse_unlock(reply.data)
    if reply.base == CMD_STATUS_ALL:
        return parse_status_all(reply.data)
    raise CodecError(f"reply to unknown command 0x{reply.cmd_byte:02x}")


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
    """Host role: cuts board replies out of the stream."""

    def _length(self) -> int | None:
        if len(self._buf) < 4:
            return None
        n = self._buf[3]
        return 0 if n > MAX_DATA else 6 + n


class RequestFramer(_Framer):
    """Board role: cuts host requests out of the stream."""

    def _length(self) -> int | None:
        return REQUEST_LEN
