"""GA 467 SAM frames of a second-generation ID card reader, the identity text block, and the GB 11643 check.

Frame (both directions, 115200 8N1)::

    AA AA AA 96 69  LEN_H LEN_L  PAYLOAD  CHK

``LEN`` counts PAYLOAD plus CHK; ``CHK`` is the XOR of every byte after the five-byte preamble (LEN_H .. last
payload byte). Request payload: ``CMD PARA [DATA]``; the find-card request is ``AA AA AA 96 69 00 03 20 01 22``.
Response payload: ``SW1 SW2 SW3 [DATA]`` with SW1 = SW2 = 0 and SW3 the status.

====== =============== ==========================================================================================
CMD    request         response DATA on success
====== =============== ==========================================================================================
10 FF  reset SAM       SW3 0x90, no data
11 FF  SAM status      SW3 0x90, no data (the module works), whether a card lies on the reader or not
12 FF  SAM id          SW3 0x90 + 16 bytes (the module's management number)
20 01  find card       SW3 0x9F (found) + 4 bytes 00; 0x80 when no card
20 02  select card     SW3 0x90 + 8 bytes (card serial); 0x81 when selection fails
30 01  read text+photo SW3 0x90 + TEXT_LEN(2, big-endian) + PHOTO_LEN(2) + text block + photo (WLT); 0x41 failed
====== =============== ==========================================================================================

Status words (SW3) this codec names: 0x90 success, 0x9F card found, 0x80 no card found, 0x81 card selection failed,
0x41 read failed, 0x21 command not recognised. Sources: GA 467-2013 itself is not publicly available; the request
frames of the SAM commands above (``AA AA AA 96 69 00 03 11 FF ED`` for the status, ``... 12 FF EE`` for the SAM id,
``... 20 01 22`` find, ``... 20 02 21`` select, ``... 30 01 32`` read) are literals in public reader drivers
(a Linux CVR-100 driver and a GLib ID-card-reader D-Bus service, found with the code search on 2026-11-29), which
treat 0x90 as success and 0x9F as "card found". The meaning of 0x21 and of the failure words is as reproduced in
vendor SDK manuals; no public source with the standard's full table was found, so words other than those listed
are passed up as "answered 0x.." without interpretation.

The text block is UCS-2LE with fixed byte widths: name 30, sex 2, nation 4, birth 16, address 70, id 36, authority
30, valid_from 16, valid_to 16, then 36 reserved (256 bytes in all); fields are padded with spaces. Decoders raise
only :class:`~devices.base.CodecError`. Nothing here logs; callers must never log an identity-card number
(use :func:`mask_id`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from devices.base import BadInputCounter, CodecError

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
MAX_LEN = 4096  # text + photo + fingerprint fit well below this

CMD_SAM_RESET = (0x10, 0xFF)
CMD_SAM_STATUS = (0x11, 0xFF)
CMD_SAM_ID = (0x12, 0xFF)
CMD_FIND = (0x20, 0x01)
CMD_SELECT = (0x20, 0x02)
CMD_READ = (0x30, 0x01)

SW_OK = 0x90
SW_FOUND = 0x9F
SW_NO_CARD = 0x80
SW_SELECT_FAILED = 0x81
SW_READ_FAILED = 0x41
SW_BAD_COMMAND = 0x21
SAM_ID_LEN = 16

TEXT_FIELDS: tuple[tuple[str, int], ...] = (
    ("name", 30),
    ("sex_code", 2),
    ("nation_code", 4),
    ("birth", 16),
    ("address", 70),
    ("id_number", 36),
    ("authority", 30),
    ("valid_from", 16),
    ("valid_to", 16),
)
TEXT_LEN = 256
PHOTO_LEN = 1024
NO_EXPIRY = "长期"

# GB 3304 nationality codes as printed on the card (the card shows the name without "族").
NATIONS: dict[str, str] = {
    "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝", "08": "壮",
    "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白", "15": "土家", "16": "哈尼",
    "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳", "21": "佤", "22": "畲", "23": "高山", "24": "拉祜",
    "25": "水", "26": "东乡", "27": "纳西", "28": "景颇", "29": "柯尔克孜", "30": "土", "31": "达斡尔",
    "32": "仫佬", "33": "羌", "34": "布朗", "35": "撒拉", "36": "毛南", "37": "仡佬", "38": "锡伯", "39": "阿昌",
    "40": "普米", "41": "塔吉克", "42": "怒", "43": "乌孜别克", "44": "俄罗斯", "45": "鄂温克", "46": "德昂",
    "47": "保安", "48": "裕固", "49": "京", "50": "塔塔尔", "51": "独龙", "52": "鄂伦春", "53": "赫哲",
    "54": "门巴", "55": "珞巴", "56": "基诺", "97": "其他", "98": "外国血统中国籍人士",
}
SEXES = {"1": "male", "2": "female", "0": "unknown", "9": "unspecified"}


# Frames ---------------------------------------------------------------------------------------------------------


def _xor(data: bytes) -> int:
    x = 0
    for b in data:
        x ^= b
    return x


def encode_frame(payload: bytes) -> bytes:
    if not payload or len(payload) + 1 > MAX_LEN:
        raise ValueError("payload must be 1..MAX_LEN-1 bytes")
    body = (len(payload) + 1).to_bytes(2, "big") + payload
    return PREAMBLE + body + bytes((_xor(body),))


def decode_frame(frame: bytes) -> bytes:
    """Check one complete frame and return its payload."""
    if len(frame) < 9 or frame[:5] != PREAMBLE:
        raise CodecError("not a SAM frame")
    n = int.from_bytes(frame[5:7], "big")
    if not 2 <= n <= MAX_LEN or len(frame) != 7 + n:
        raise CodecError(f"length field {n} does not match a frame of {len(frame)} bytes")
    if _xor(frame[5:-1]) != frame[-1]:
        raise CodecError("XOR check mismatch")
    return bytes(frame[7:-1])


def encode_request(cmd: tuple[int, int], data: bytes = b"") -> bytes:
    return encode_frame(bytes(cmd) + data)


SAM_STATUS_REQUEST = encode_request(CMD_SAM_STATUS)
FIND_REQUEST = encode_request(CMD_FIND)
SELECT_REQUEST = encode_request(CMD_SELECT)
READ_REQUEST = encode_request(CMD_READ)


def decode_request(frame: bytes) -> tuple[tuple[int, int], bytes]:
    payload = decode_frame(frame)
    if len(payload) < 2:
        raise CodecError("request without CMD PARA")
    return (payload[0], payload[1]), payload[2:]


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    data: bytes = b""

    def encode(self) -> bytes:
        return encode_frame(bytes((0, 0, self.status)) + self.data)


def decode_response(frame: bytes) -> Response:
    payload = decode_frame(frame)
    if len(payload) < 3 or payload[0] or payload[1]:
        raise CodecError("response without SW1 SW2 SW3")
    return Response(payload[2], payload[3:])


def read_data(text: bytes, photo: bytes) -> bytes:
    return len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo


def parse_read_data(data: bytes) -> tuple[bytes, bytes]:
    """Split a read response's DATA into (text block, photo block)."""
    if len(data) < 4:
        raise CodecError("read response without lengths")
    t, p = int.from_bytes(data[0:2], "big"), int.from_bytes(data[2:4], "big")
    if len(data) != 4 + t + p:
        raise CodecError("read response lengths do not match its data")
    return data[4 : 4 + t], data[4 + t :]


class SamFramer:
    """Cuts SAM frames out of a byte stream (either role): resyncs on the preamble, drops and counts bad input."""

    def __init__(self, bad: BadInputCounter | None = None) -> None:
        self.bad = bad if bad is not None else BadInputCounter()
        self._buf = bytearray()

    def reset(self) -> None:
        if self._buf:
            self.bad.note("truncated")
            self._buf.clear()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        buf = self._buf
        out: list[bytes] = []
        while buf:
            i = buf.find(PREAMBLE)
            if i < 0:
                # keep a tail that may be the start of the next preamble
                keep = next((k for k in range(min(4, len(buf)), 0, -1) if PREAMBLE.startswith(buf[-k:])), 0)
                if len(buf) > keep:
                    del buf[: len(buf) - keep]
                    self.bad.note("garbage")
                break
            if i > 0:
                del buf[:i]
                self.bad.note("garbage")
            if len(buf) < 7:
                break
            n = int.from_bytes(buf[5:7], "big")
            if not 2 <= n <= MAX_LEN:
                self.bad.note("bad_length")
                del buf[:1]
                continue
            if len(buf) < 7 + n:
                break
            frame = bytes(buf[: 7 + n])
            if _xor(frame[5:-1]) != frame[-1]:
                self.bad.note("bad_checksum")
                del buf[:1]
                continue
            out.append(frame)
            del buf[: 7 + n]
        return out


# Identity text --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdentityText:
    """The text block's fields as printed (strings, spaces stripped). Dates are YYYYMMDD; valid_to may be 长期."""

    name: str
    sex_code: str
    nation_code: str
    birth: str
    address: str
    id_number: str = field(repr=False)
    authority: str
    valid_from: str
    valid_to: str


def encode_text(text: IdentityText) -> bytes:
    out = bytearray()
    for name, width in TEXT_FIELDS:
        raw = getattr(text, name).encode("utf-16-le")
        if len(raw) > width:
            raise ValueError(f"{name} longer than {width // 2} characters")
        out += raw + " ".encode("utf-16-le") * ((width - len(raw)) // 2)
    return bytes(out) + " ".encode("utf-16-le") * ((TEXT_LEN - len(out)) // 2)


def decode_text(block: bytes) -> IdentityText:
    need = sum(w for _, w in TEXT_FIELDS)
    if len(block) < need or len(block) % 2:
        raise CodecError(f"text block of {len(block)} bytes, need at least {need}")
    values: dict[str, str] = {}
    pos = 0
    for name, width in TEXT_FIELDS:
        try:
            s = block[pos : pos + width].decode("utf-16-le")
        except UnicodeDecodeError as exc:
            raise CodecError(f"{name} is not UCS-2") from exc
        if any(ord(c) < 0x20 and c != "\x00" for c in s):
            raise CodecError(f"{name} holds control characters")
        values[name] = s.replace("\x00", " ").strip()
        pos += width
    return IdentityText(**values)


@dataclass(frozen=True, slots=True)
class IdentityCard:
    """An identity card as the controller uses it. ``valid_to`` None with ``no_expiry`` means 长期."""

    name: str
    sex: str
    nation_code: str
    nation: str
    birth_date: dt.date | None
    address: str
    id_number: str = field(repr=False)
    authority: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    no_expiry: bool = False
    photo_wlt: bytes = field(default=b"", repr=False)

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number)


def _date(s: str) -> dt.date | None:
    if len(s) != 8 or not s.isdigit():
        return None
    try:
        return dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
    except ValueError:
        return None


def to_card(text: IdentityText, photo: bytes = b"") -> IdentityCard:
    return IdentityCard(
        name=text.name,
        sex=SEXES.get(text.sex_code, "unknown"),
        nation_code=text.nation_code,
        nation=NATIONS.get(text.nation_code, ""),
        birth_date=_date(text.birth),
        address=text.address,
        id_number=text.id_number,
        authority=text.authority,
        valid_from=_date(text.valid_from),
        valid_to=_date(text.valid_to),
        no_expiry=text.valid_to == NO_EXPIRY,
        photo_wlt=photo,
    )


# GB 11643 -------------------------------------------------------------------------------------------------------

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def id_birth_date(id_number: str) -> dt.date | None:
    return _date(id_number[6:14]) if len(id_number) == 18 else None


def gb11643_valid(id_number: str, today: dt.date | None = None) -> bool:
    """An 18-character citizen identity number: digits, check digit, and a real birth date not in the future."""
    if len(id_number) != 18 or not id_number[:17].isdigit() or not id_number[:17].isascii():
        return False
    if id_number[17].upper() != check_digit(id_number[:17]):
        return False
    born = id_birth_date(id_number)
    return born is not None and born.year >= 1900 and born <= (today or dt.date.today())


def mask_id(id_number: str) -> str:
    """Keep the first six characters (the issuing region) and hide the rest, for logs and screens."""
    return id_number[:6] + "*" * max(0, len(id_number) - 6)


def card_problems(card: IdentityCard, today: dt.date) -> list[str]:
    """Why a read card should not be trusted as is; an empty list means valid."""
    problems: list[str] = []
    if not gb11643_valid(card.id_number, today):
        problems.append("id_number_invalid")
    elif card.birth_date != id_birth_date(card.id_number):
        problems.append("birth_date_mismatch")
    elif card.sex in ("male", "female") and (int(card.id_number[16]) % 2 == 1) != (card.sex == "male"):
        problems.append("sex_mismatch")
    if card.birth_date is None:
        problems.append("birth_date_invalid")
    if card.sex not in ("male", "female"):
        problems.append("sex_code_unknown")
    if not card.nation:
        problems.append("nation_code_unknown")
    if not card.name:
        problems.append("name_missing")
    if card.valid_from is None:
        problems.append("valid_from_invalid")
    elif card.valid_from > today:
        problems.append("not_yet_valid")
    if card.valid_to is None and not card.no_expiry:
        problems.append("valid_to_invalid")
    elif card.valid_to is not None and card.valid_to < today:
        problems.append("expired")
    return problems
