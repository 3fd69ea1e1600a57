"""Walk-through metal detector gate: an ASCII line protocol (simulator-defined; real gates differ in wording only).

Lines are ASCII, terminated by CR LF, at most 80 characters.

Device -> host, one line per transit, ``n`` being the gate's transit counter (0..999999, wraps)::

    PASS <n> zones=
    ALARM <n> zones=<z>[,<z>...]        e.g. ALARM 17 zones=3,4 (zones 1..99, ascending, no repeats)

Host -> device, and its answer::

    STAT?
    STAT ok transits=<n> sens=<s>       s = sensitivity 1..9; "fault" instead of "ok" when a sensor failed

Any other line is bad input: the decoder raises :class:`~devices.base.CodecError`, the adapter drops and counts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from devices.base import CodecError

MAX_COUNTER = 999_999
MAX_ZONE = 99

_TRANSIT = re.compile(r"(PASS|ALARM) (\d{1,6}) zones=((?:\d{1,2}(?:,\d{1,2})*)?)")
_STAT = re.compile(r"STAT (ok|fault) transits=(\d{1,6}) sens=([1-9])")


@dataclass(frozen=True, slots=True)
class Transit:
    counter: int
    alarm: bool
    zones: tuple[int, ...] = ()

    def encode(self) -> str:
        zones = ",".join(str(z) for z in self.zones)
        return f"{'ALARM' if self.alarm else 'PASS'} {self.counter} zones={zones}"


@dataclass(frozen=True, slots=True)
class GateStatus:
    ok: bool
    transits: int
    sensitivity: int

    def encode(self) -> str:
        return f"STAT {'ok' if self.ok else 'fault'} transits={self.transits} sens={self.sensitivity}"


def decode_line(line: str) -> Transit | GateStatus:
    """Decode one device line (without its CR LF)."""
    m = _TRANSIT.fullmatch(line)
    if m:
        zones = tuple(int(z) for z in m[3].split(",")) if m[3] else ()
        alarm = m[1] == "ALARM"
        if alarm != bool(zones):
            raise CodecError("PASS carries no zones and ALARM at least one")
        if any(not 1 <= z <= MAX_ZONE for z in zones) or list(zones) != sorted(set(zones)):
            raise CodecError("zones must be 1..99, ascending, without repeats")
        return Transit(int(m[2]), alarm, zones)
    m = _STAT.fullmatch(line)
    if m:
        return GateStatus(m[1] == "ok", int(m[2]), int(m[3]))
    raise CodecError("not a gate line")
