"""A line framer for ASCII serial devices (metal gate, breathalyser): CRLF-terminated lines, bounded length.

Never raises. Overlong lines, non-ASCII bytes and empty lines are dropped and counted through a BadInputCounter.
"""

from __future__ import annotations

from devices.base import BadInputCounter

MAX_LINE = 80
STAT_QUERY = "STAT?"  # the status query every line device answers


def encode_line(line: str) -> bytes:
    return line.encode("ascii") + b"\r\n"


class LineFramer:
    def __init__(self, bad: BadInputCounter | None = None, max_line: int = MAX_LINE) -> None:
        self.bad = bad if bad is not None else BadInputCounter()
        self.max_line = max_line
        self._buf = bytearray()
        self._overlong = False  # discarding until the next newline

    def reset(self) -> None:
        if self._buf:
            self.bad.note("truncated")
        self._buf.clear()
        self._overlong = False

    def feed(self, data: bytes) -> list[str]:
        out: list[str] = []
        for chunk in data.split(b"\n")[:-1] if b"\n" in data else []:
            line = self._take(chunk)
            if line is not None:
                out.append(line)
        tail = data.rsplit(b"\n", 1)[-1]
        if len(self._buf) + len(tail) > self.max_line:
            if not self._overlong:
                self.bad.note("overlong")
            self._overlong = True
            self._buf.clear()
        else:
            self._buf += tail
        return out

    def _take(self, chunk: bytes) -> str | None:
        raw = bytes(self._buf) + chunk
        self._buf.clear()
        if self._overlong or len(raw) > self.max_line:
            if not self._overlong:
                self.bad.note("overlong")
            self._overlong = False
            return None
        raw = raw.rstrip(b"\r")
        if not raw:
            return None
        if not raw.isascii() or any(b < 0x20 for b in raw):
            self.bad.note("garbage")
            return None
        return raw.decode("ascii")
