"""ID reader codec: published find-card fixture, frames, identity text block, GB 11643, fuzzing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.base import CodecError
from devices.id_reader import protocol as p

TODAY = dt.date(2026, 11, 22)
TEXT = p.IdentityText(
    name="张三", sex_code="1", nation_code="01", birth="19900307", address="北京市东城区景山前街4号",
    id_number="110101199003070038", authority="北京市公安局东城分局", valid_from="20200101", valid_to="20400101",
)


def test_find_card_request_is_the_published_fixture() -> None:
    assert p.FIND_REQUEST == bytes.fromhex("AA AA AA 96 69 00 03 20 01 22")
    assert p.decode_request(p.FIND_REQUEST) == (p.CMD_FIND, b"")


def test_find_response_fixture() -> None:
    frame = p.Response(p.SW_FOUND, b"\x00\x00\x00\x00").encode()
    assert frame == bytes.fromhex("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97")
    assert p.decode_response(frame) == p.Response(p.SW_FOUND, b"\x00" * 4)


def test_read_response_splits_text_and_photo() -> None:
    text, photo = p.encode_text(TEXT), bytes(range(256)) * 4
    frame = p.Response(p.SW_OK, p.read_data(text, photo)).encode()
    assert frame[5:7] == (3 + 4 + 256 + 1024 + 1).to_bytes(2, "big")
    assert p.parse_read_data(p.decode_response(frame).data) == (text, photo)


def test_text_block_has_the_fixed_widths() -> None:
    block = p.encode_text(TEXT)
    assert len(block) == p.TEXT_LEN
    assert block[:4] == "张三".encode("utf-16-le") and block[4:30] == " ".encode("utf-16-le") * 13
    assert block[30:32] == b"1\x00"
    assert block[122:158] == TEXT.id_number.encode("utf-16-le")
    assert p.decode_text(block) == TEXT


def test_card_fields_are_interpreted() -> None:
    card = p.to_card(TEXT)
    assert (card.sex, card.nation, card.birth_date) == ("male", "汉", dt.date(1990, 3, 7))
    assert card.valid_to == dt.date(2040, 1, 1) and not card.no_expiry
    assert p.card_problems(card, TODAY) == []
    assert TEXT.id_number not in repr(card) and TEXT.id_number not in repr(TEXT)


def test_long_term_card_has_no_expiry() -> None:
    import dataclasses

    card = p.to_card(dataclasses.replace(TEXT, valid_to="长期"))
    assert card.no_expiry and card.valid_to is None
    assert p.card_problems(card, TODAY) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"id_number": "110101199003070039"}, "id_number_invalid"),
        ({"birth": "19900308"}, "birth_date_mismatch"),
        ({"sex_code": "2"}, "sex_mismatch"),
        ({"valid_to": "20201231"}, "expired"),
        ({"nation_code": "77"}, "nation_code_unknown"),
        ({"birth": "19901340"}, "birth_date_invalid"),
    ],
)
def test_card_problems(changes: dict[str, str], problem: str) -> None:
    import dataclasses

    assert problem in p.card_problems(p.to_card(dataclasses.replace(TEXT, **changes)), TODAY)


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("11010519491231002X", True),
        ("440524188001010014", False),  # born before 1900
        ("11010519491231002x", True),
        ("110105194912310021", False),  # wrong check digit
        ("110105194902300025", False),  # 30 February
        ("11010520991231002X", False),  # born in the future
        ("1101051949123100", False),
        ("11010519491231002Ｘ", False),
    ],
)
def test_gb11643(number: str, ok: bool) -> None:
    fixed = number[:17] + p.check_digit(number[:17]) if number.startswith(("44052418", "11010520")) else number
    assert p.gb11643_valid(fixed, TODAY) is ok


def test_mask_keeps_only_the_region() -> None:
    assert p.mask_id("11010519491231002X") == "110105************"


def test_framer_resyncs_and_drops_bad_check() -> None:
    good = p.Response(p.SW_NO_CARD).encode()
    bad = bytearray(good)
    bad[-1] ^= 1
    framer = p.SamFramer()
    out = framer.feed(b"\x00\xaa\xaa" + bytes(bad) + good[:6])
    out += framer.feed(good[6:])
    assert out == [good]
    assert framer.bad.counts["bad_checksum"] == 1 and framer.bad.counts["garbage"] >= 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_decoders_raise_only_codec_error(data: bytes) -> None:
    for decode in (p.decode_frame, p.decode_response, p.decode_request, p.decode_text, p.parse_read_data):
        try:
            decode(data)
        except CodecError:
            pass


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=24), st.just(p.PREAMBLE)), max_size=10))
def test_framer_never_yields_a_bad_frame(chunks: list[bytes]) -> None:
    framer = p.SamFramer()
    for chunk in chunks:
        for frame in framer.feed(chunk):
            p.decode_frame(frame)  # raises if the check or length were wrong


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xD7FF), max_size=15), st.binary(max_size=8))
def test_name_round_trips_through_noise(name: str, noise: bytes) -> None:
    import dataclasses

    text = dataclasses.replace(TEXT, name=name.strip())
    frame = p.Response(p.SW_OK, p.read_data(p.encode_text(text), b"")).encode()
    framer = p.SamFramer()
    out = framer.feed(noise + frame)
    assert p.decode_text(p.parse_read_data(p.decode_response(out[-1]).data)[0]) == text


def test_sam_status_request_is_the_published_frame() -> None:
    # "AA AA AA 96 69 00 03 11 FF ED": the SAM status request as public reader drivers send it
    assert p.SAM_STATUS_REQUEST == bytes.fromhex("aa aa aa 96 69 00 03 11 ff ed")
    assert p.encode_request(p.CMD_SAM_ID) == bytes.fromhex("aa aa aa 96 69 00 03 12 ff ee")
    assert p.decode_response(p.Response(p.SW_OK).encode()) == p.Response(0x90)
