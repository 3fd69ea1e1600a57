"""Metal gate and breathalyser line codecs, and the shared line framer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.base import CodecError
from devices.breathalyser import protocol as breath
from devices.metal_gate import protocol as gate
from devices.transport.lines import LineFramer, encode_line


@pytest.mark.parametrize(
    ("line", "decoded"),
    [
        ("PASS 12 zones=", gate.Transit(12, False, ())),
        ("ALARM 13 zones=3,4", gate.Transit(13, True, (3, 4))),
        ("STAT ok transits=13 sens=5", gate.GateStatus(True, 13, 5)),
        ("STAT fault transits=0 sens=9", gate.GateStatus(False, 0, 9)),
    ],
)
def test_gate_lines(line: str, decoded: object) -> None:
    assert gate.decode_line(line) == decoded
    assert decoded.encode() == line  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "line", ["PASS 1 zones=3", "ALARM 2 zones=", "ALARM 3 zones=4,3", "ALARM 3 zones=0", "PASS -1 zones=", "pass 1 zones="]
)
def test_gate_rejects_malformed_lines(line: str) -> None:
    with pytest.raises(CodecError):
        gate.decode_line(line)


def test_breathalyser_lines() -> None:
    assert breath.decode_line("RESULT 23.5 1763800000") == breath.Result(23.5, 1763800000)
    assert breath.decode_line("STAT ok tests=4") == breath.TesterStatus(True, 4)
    assert breath.Result(0.0, 5).encode() == "RESULT 0.0 5"
    with pytest.raises(CodecError):
        breath.decode_line("RESULT 999.0 5")


def test_line_framer_handles_split_lines_noise_and_overlong() -> None:
    framer = LineFramer(max_line=20)
    out = framer.feed(b"PASS 1 zo")
    out += framer.feed(b"nes=\r\n\xff\xfegarbage\r\n" + b"x" * 30)
    out += framer.feed(b"yyy\r\nALARM 2 zones=1\r\n")
    assert out == ["PASS 1 zones=", "ALARM 2 zones=1"]
    assert framer.bad.counts == {"garbage": 1, "overlong": 1}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=8))
def test_decoders_raise_only_codec_error(chunks: list[bytes]) -> None:
    framer = LineFramer()
    for chunk in chunks:
        for line in framer.feed(chunk):
            assert line.isascii() and len(line) <= 80
            for decode in (gate.decode_line, breath.decode_line):
                try:
                    decode(line)
                except CodecError:
                    pass


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 999_999), st.lists(st.integers(1, 99), unique=True, max_size=10))
def test_transit_round_trip(counter: int, zones: list[int]) -> None:
    transit = gate.Transit(counter, bool(zones), tuple(sorted(zones)))
    (line,) = LineFramer().feed(encode_line(transit.encode()))
    assert gate.decode_line(line) == transit
