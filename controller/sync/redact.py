"""Identity numbers leave the centre only where the platform is entitled to them: a pure payload filter."""

from __future__ import annotations

from typing import Any

# Keys that hold a person's identity number, anywhere in a payload (subject, item receiver, corrections).
IDENTITY_KEYS = frozenset({"id_number", "receiver_id_number"})
REDACTED_FLAG = "id_number_redacted"


def redact(payload: Any, entitled: bool) -> Any:
    """``payload`` with every identity number removed unless ``entitled``; the input is never changed.

    Where a number is removed, its object gets ``"id_number_redacted": true`` so a reader can tell a withheld
    number from an absent one."""
    if entitled:
        return payload
    return _strip(payload)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _strip(v) for k, v in value.items() if k not in IDENTITY_KEYS}
        if len(out) != len(value):
            out[REDACTED_FLAG] = True
        return out
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def may_hold_identity(raw_json: str) -> bool:
    """Cheap pre-check on serialised JSON: False means no identity key can be inside, so no parsing is needed."""
    return any(f'"{k}"' in raw_json for k in IDENTITY_KEYS)
