"""Lock-board codec: published fixture, layouts of every command, framer resync, fuzzing of both decoders."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.base import CodecError
from devices.lock_board import protocol as p


def test_unlock_board0_lock0_is_the_published_fixture() -> None:
    assert p.encode_unlock(0, 0) == bytes.fromhex("02 00 31 03 36")


@pytest.mark.parametrize(
    ("frame", "board", "base", "lock"),
    [
        (p.encode_status(1, 5), 1, p.CMD_STATUS, 5),
        (p.encode_unlock(15, 15), 15, p.CMD_UNLOCK, 15),
        (p.encode_unlock(2, 20), 2, p.CMD_UNLOCK, 20),
        (p.encode_unlock(3, 47), 3, p.CMD_UNLOCK, 47),
        (p.encode_status_all(7), 7, p.CMD_STATUS_ALL, 0),
    ],
)
def test_requests_round_trip(frame: bytes, board: int, base: int, lock: int) -> None:
    assert p.decode_request(frame) == p.Request(board, base, lock)


def test_request_layout_puts_lock_in_addr_nibble_and_group_in_command() -> None:
    assert p.encode_status(1, 5) == bytes.fromhex("02 15 30 03 4a")
    assert p.encode_unlock(2, 20) == bytes((0x02, 0x24, 0x41, 0x03, (0x02 + 0x24 + 0x41 + 0x03) & 0xFF))
    assert p.encode_status_all(1) == bytes.fromhex("02 10 32 03 47")


def test_out_of_range_requests_are_refused_before_the_wire() -> None:
    with pytest.raises(ValueError):
        p.encode_unlock(16, 0)
    with pytest.raises(ValueError):
        p.encode_unlock(0, 48)


def test_status_all_reply_fixture_for_16_channels() -> None:
    levels = tuple(ch in (0, 9) for ch in range(16))
    items = tuple(ch == 15 for ch in range(16))
    data = p.status_all_data(p.BoardLevels(levels, items))
    frame = p.Reply(0x10, 0x32, data).encode()
    assert frame == bytes.fromhex("02 10 32 05 10 01 02 00 80 03") + bytes((sum(frame[:-1]) & 0xFF,))
    reply = p.decode_reply(frame)
    assert reply.board == 1 and reply.base == p.CMD_STATUS_ALL
    assert p.parse_status_all(reply.data) == p.BoardLevels(levels, items)


def test_unlock_and_status_replies_round_trip() -> None:
    state = p.LockLevel(level=True, item=False)
    assert p.parse_unlock(p.unlock_data(True, state)) == p.UnlockResult(True, state)
    assert p.parse_status(p.status_data(state)) == state
    with pytest.raises(CodecError):
        p.parse_unlock(b"\x07\x00\x00")


def test_framer_resyncs_after_garbage_and_drops_bad_checksum() -> None:
    good = p.Reply(0x00, 0x31, p.unlock_data(True, p.LockLevel(True, False))).encode()
    bad = bytearray(good)
    bad[-1] ^= 0xFF
    framer = p.ReplyFramer()
    out = framer.feed(b"\xff\x00\x02\x99" + bytes(bad) + good[:3])
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
    for parse in (p.parse_status, p.parse_unlock, p.parse_status_all):
        try:
            parse(data)
        except CodecError:
            pass
    for cmd in (0x30, 0x31, 0x32, 0x41, 0x7F):
        try:
            p.parse_data(p.Reply(0x10, cmd, data[:13]))
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


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 15),
    st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=48),
    st.binary(max_size=16),
)
def test_status_all_round_trip_through_noise(board: int, chans: list[tuple[bool, bool]], noise: bytes) -> None:
    levels = p.BoardLevels(tuple(c[0] for c in chans), tuple(c[1] for c in chans))
    frame = p.Reply(board << 4, p.CMD_STATUS_ALL, p.status_all_data(levels)).encode()
    framer = p.ReplyFramer()
    framer.feed(noise.replace(b"\x02", b""))
    out = framer.feed(frame)
    assert out and p.parse_status_all(p.decode_reply(out[-1]).data) == levels
