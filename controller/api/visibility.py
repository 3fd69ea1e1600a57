"""Who may read a subject's identity number, and the per-role view of a live event.

Custody staff, case officers and supervisors work with the subject and read the full number. An admin runs the
system, not the cases: he sees numbers masked. The platform role sees on the live feed exactly what the sync feed
gives it (state changes, identity numbers only where the site says the platform is entitled) and nothing else:
no card reads, no locations, no device chatter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..services.registration import mask_id
from ..sync.redact import IDENTITY_KEYS, redact

ID_READERS = frozenset({"custody_staff", "case_officer", "supervisor"})
FACE_ROLES = ("custody_staff", "case_officer", "supervisor")  # face images go to these roles only

Event = dict[str, Any]


def mask_number(number: Any) -> Any:
    """The registration record's own mask (area code, then stars): enough to place a record, not to use it."""
    return mask_id(number) if isinstance(number, str) and number else number


def mask(value: Any) -> Any:
    """``value`` with every identity number masked; the input is never changed."""
    if isinstance(value, dict):
        return {k: (mask_number(v) if k in IDENTITY_KEYS else mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def reads_identity(roles: tuple[str, ...] | list[str]) -> bool:
    return bool(ID_READERS & set(roles))


def for_roles(roles: tuple[str, ...] | list[str], payload: Any) -> Any:
    """An API answer as ``roles`` may see it: full for the subject's staff, masked numbers for anyone else."""
    return payload if reads_identity(roles) else mask(payload)


def live_filter(roles: tuple[str, ...] | list[str], entitled: bool) -> Callable[[Event], Event | None]:
    """The function a socket applies to each hub event: the event to send (maybe a masked copy) or None."""
    if reads_identity(roles):
        return lambda ev: ev
    if set(roles) - {"platform"}:  # admin (and any other staff role): everything, numbers masked
        return mask

    def platform(ev: Event) -> Event | None:
        # Only committed state changes (UnitOfWork.record: they carry ``entity`` and ``data``), the same bodies
        # the outbox holds, redacted by the sync feed's own rule.
        if ev.get("type") == "overflow":
            return ev  # the reader must know it missed events, whatever they were
        if "entity" not in ev or "data" not in ev:
            return None
        out: Event = redact(ev, entitled)
        return out

    return platform
