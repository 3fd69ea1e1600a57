"""Breath alcohol tester on a serial line: an ASCII line protocol (simulator-defined, documented here).

Lines are ASCII, terminated by CR LF, at most 80 characters.

Device -> host, one line per completed test::

    RESULT <value> <ts>        value: blood alcohol content in mg/100ml, 0.0..500.0 with one decimal;
                               ts: the tester's clock, Unix seconds

Host -> device, and its answer::

    STAT?
    STAT ok tests=<n>          "fault" instead of "ok" when the sensor needs calibration

Any other line is bad input: the decoder raises :class:`~devices.base.CodecError`, the adapter drops and counts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from devices.base import CodecError

MAX_VALUE = 500.0

_RESULT = re.compile(r"RESULT (\d{1,3}\.\d) (\d{1,10})")
_STAT = re.compile(r"STAT (ok|fault) tests=(\d{1,6})")


@dataclass(frozen=True, slots=True)
class Result:
    value_mg_100ml: float
    ts: int

    def encode(self) -> str:
        return f"RESULT {self.value_mg_100ml:.1f} {self.ts}"


@dataclass(frozen=True, slots=True)
class TesterStatus:
    ok: bool
    tests: int

    def encode(self) -> str:
        return f"STAT {'ok' if self.ok else 'fault'} tests={self.tests}"


def decode_line(line: str) -> Result | TesterStatus:
    m = _RESULT.fullmatch(line)
    if m:
        value = float(m[1])
        if value > MAX_VALUE:
            raise CodecError("value out of range")
        return Result(value, int(m[2]))
    m = _STAT.fullmatch(line)
    if m:
        return TesterStatus(m[1] == "ok", int(m[2]))
    raise CodecError("not a breathalyser line")
