"""Lock-board codec against the published KR-CU16 frames: requests, the fixed 9-byte 0x35 reply, framer resync,
the old length-prefixed dialect refused, fuzzing of both decoders and hypothesis round-trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.base import CodecError
from devices.lock_board import protocol as p

# Published request frames (public drivers of the KR-CU16, see the protocol module's sources).
PUBLISHED_REQUESTS = [
    ("02 00 30 03 35", p.Request(0, p.CMD_STATUS, 0)),  # status of board 0, a literal in jin0949/KR-CU16_locker
    ("02 00 31 03 36", p.Request(0, p.CMD_UNLOCK, 0)),  # unlock locker 1 of board 0
    ("02 0f 31 03 45", p.Request(0, p.CMD_UNLOCK, 15)),  # unlock locker 16: lock number in ADDR's low nibble
    ("02 15 30 03 4a", p.Request(1, p.CMD_STATUS, 5)),  # board 1 in ADDR's high nibble
]


@pytest.mark.parametrize(("hexframe", "request_"), PUBLISHED_REQUESTS)
def test_published_requests_encode_and_decode(hexframe: str, request_: p.Request) -> None:
    frame = bytes.fromhex(hexframe)
    assert request_.encode() == frame
    assert p.decode_request(frame) == request_


def test_status_reply_is_the_published_fixed_nine_byte_frame() -> None:
    # 02 ADDR 35 L1-8 L9-16 IR1-8 IR9-16 03 SUM, no length byte; bit i of L1-8 is lock i+1
    levels = tuple(ch in (0, 9) for ch in range(16))
    items = tuple(ch == 15 for ch in range(16))
    frame = p.Reply(0x10, p.BoardLevels(levels, items)).encode()
    assert frame == bytes.fromhex("02 10 35 01 02 00 80 03") + bytes(((0x02 + 0x10 + 0x35 + 1 + 2 + 0x80 + 3) & 0xFF,))
    reply = p.decode_reply(frame)
    assert reply.board == 1 and reply.state == p.BoardLevels(levels, items)
    assert reply.lock(9) == p.LockLevel(level=True, item=False) and reply.lock(15) == p.LockLevel(False, True)


def test_all_locked_board_reply_fixture() -> None:
    frame = bytes.fromhex("02 00 35 ff ff 00 00 03 38")
    reply = p.decode_reply(frame)
    assert reply.state.levels == (True,) * 16 and reply.state.items == (False,) * 16
    assert reply.encode() == frame


@pytest.mark.parametrize(
    "old",
    [
        "02 00 30 02 00 00 03 37",  # the old dialect's status reply, with a length byte
        "02 00 31 03 00 01 00 03 3a",  # the old dialect's unlock reply
        "02 10 32 05 10 01 02 00 80 03 df",  # the old dialect's status-all reply
    ],
)
def test_old_dialect_replies_are_refused(old: str) -> None:
    frame = bytes.fromhex(old)
    with pytest.raises(CodecError):
        p.decode_reply(frame)
    framer = p.ReplyFramer()
    assert framer.feed(frame) == []
    assert framer.bad.counts["bad_frame"] >= 1


def test_old_dialect_requests_are_refused() -> None:
    # lock 20 in the old dialect was ADDR 0x24 with a "group" command byte 0x41; status-all was 0x32
    for cmd in (0x41, 0x32, 0x35):
        head = bytes((0x02, 0x24, cmd, 0x03))
        with pytest.raises(CodecError):
            p.decode_request(head + bytes((sum(head) & 0xFF,)))


def test_out_of_range_requests_are_refused_before_the_wire() -> None:
    with pytest.raises(ValueError):
        p.encode_unlock(16, 0)
    with pytest.raises(ValueError):
        p.encode_unlock(0, 16)  # a CU16 has 16 locks; no public CU48 frames were found
    with pytest.raises(ValueError):
        p.BoardSpec(0, 48)


def test_framer_resyncs_after_garbage_and_drops_bad_checksum() -> None:
    good = p.Reply(0x00, p.BoardLevels((True,) * 16, (False,) * 16)).encode()
    bad = bytearray(good)
    bad[-1] ^= 0xFF
    framer = p.ReplyFramer()
    out = framer.feed(b"\xff\x00\x99" + bytes(bad) + good[:3])
    out += framer.feed(good[3:] + good)
    assert out == [good, good]
    assert framer.bad.counts["bad_checksum"] == 1
    assert framer.bad.counts["garbage"] >= 1


def test_framer_reads_frames_split_byte_by_byte() -> None:
    frames = [p.encode_unlock(b, b) for b in range(4)]
    framer = p.RequestFramer()
    got: list[bytes] = []
    for byte in b"".join(frames):
        got += framer.feed(bytes((byte,)))
    assert got == frames


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_decoders_raise_only_codec_error(data: bytes) -> None:
    for decode in (p.decode_reply, p.decode_request):
        try:
            decode(data)
        except CodecError:
            pass


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=24), max_size=8))
def test_framers_never_yield_a_bad_frame(chunks: list[bytes]) -> None:
    replies, requests = p.ReplyFramer(), p.RequestFramer()
    for chunk in chunks:
        for frame in replies.feed(chunk):
            assert p.decode_reply(frame).encode() == frame
        for frame in requests.feed(chunk):
            assert sum(frame[:-1]) & 0xFF == frame[-1] and frame[3] == p.ETX


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 15), st.integers(0, 15), st.sampled_from([p.CMD_STATUS, p.CMD_UNLOCK]))
def test_request_round_trip(board: int, lock: int, base: int) -> None:
    req = p.Request(board, base, lock)
    frame = req.encode()
    assert len(frame) == 5 and frame[1] == board << 4 | lock
    assert p.decode_request(frame) == req


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 15),
    st.lists(st.tuples(st.booleans(), st.booleans()), min_size=16, max_size=16),
    st.binary(max_size=16),
)
def test_status_reply_round_trip_through_noise(board: int, chans: list[tuple[bool, bool]], noise: bytes) -> None:
    levels = p.BoardLevels(tuple(c[0] for c in chans), tuple(c[1] for c in chans))
    frame = p.Reply(board << 4, levels).encode()
    assert len(frame) == 9
    framer = p.ReplyFramer()
    framer.feed(noise.replace(b"\x02", b""))
    out = framer.feed(frame)
    assert out and p.decode_reply(out[-1]).state == levels
