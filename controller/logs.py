"""Structured logs: one JSON object per line on stderr (journald keeps them), with identity numbers masked.

Every record passes the redaction filter before it is formatted, and the formatted line is redacted once more
(tracebacks and ``repr`` of arguments included), so anything shaped like a resident identity number (GB 11643:
17 digits and a check digit or X) never reaches the journal, whether or not its check digit is right.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from .domain.rules import gb11643_check_char

ID_SHAPE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
MASK = "[ID-REDACTED]"


def redact(text: str) -> str:
    """``text`` with every 18-character identity-number shape replaced by a mask."""
    return ID_SHAPE.sub(MASK, text)


def valid_ids(text: str) -> list[str]:
    """The GB 11643-valid identity numbers in ``text`` (right check digit): what a log scan must never find."""
    out = []
    for m in ID_SHAPE.finditer(text):
        n = m.group(0).upper()
        if gb11643_check_char(n[:17]) == n[17]:
            out.append(n)
    return out


class RedactFilter(logging.Filter):
    """Masks identity numbers in a record's message and arguments (attach to every handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, redacted
            message = f"{record.msg} {record.args}"
        if ID_SHAPE.search(message) or record.args:
            record.msg, record.args = redact(message), None
        return True


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...extra, "exc"}`` per line; the whole line is redacted again."""

    RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self.RESERVED and not key.startswith("_"):
                body[key] = value
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(body, ensure_ascii=False, default=str))


def setup(level: str = "INFO", stream: Any = None) -> logging.Handler:
    """Root logging to ``stream`` (stderr) as redacted JSON lines; replaces the root's handlers."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
