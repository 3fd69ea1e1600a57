"""Chain of custody for case property (涉案财物) and case files (卷宗): what movement may follow what, and the
check that a trail has no gap. Pure rules; the services store the movements.

Sources: 《公安机关涉案财物管理若干规定》(公通字〔2015〕21号) art. 10 (seized property is handed to the
property custodian within 24 hours), art. 11 (borrowing for interview, appraisal, identification or inspection
is registered with borrower, time, purpose, and returned on time; a late return is reported).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .errors import RuleViolation, invalid


class CustodyStatus(enum.StrEnum):
    REGISTERED = "registered"  # seized and recorded; held by the registering officer, not yet in store
    IN_STORE = "in_store"
    OUT = "out"  # borrowed (examination, court, check-out); must come back
    CLOSED = "closed"  # final disposition: returned to owner, destroyed, transferred to the property centre


class Movement(enum.StrEnum):
    IN = "in"
    OUT = "out"
    FINAL = "final"


# purpose -> movement kind. "Out" purposes need an expected return; final purposes end the chain here.
PURPOSES: dict[str, Movement] = {
    "storage": Movement.IN,
    "check_in": Movement.IN,
    "examination": Movement.OUT,
    "court": Movement.OUT,
    "interview": Movement.OUT,
    "check_out": Movement.OUT,
    "return_to_owner": Movement.FINAL,
    "destruction": Movement.FINAL,
    "transfer_to_property_centre": Movement.FINAL,
}

_ALLOWED: dict[CustodyStatus, frozenset[Movement]] = {
    CustodyStatus.REGISTERED: frozenset({Movement.IN, Movement.FINAL}),
    CustodyStatus.IN_STORE: frozenset({Movement.OUT, Movement.FINAL}),
    CustodyStatus.OUT: frozenset({Movement.IN, Movement.FINAL}),
    CustodyStatus.CLOSED: frozenset(),
}

_AFTER: dict[Movement, CustodyStatus] = {Movement.IN: CustodyStatus.IN_STORE, Movement.OUT: CustodyStatus.OUT,
                                         Movement.FINAL: CustodyStatus.CLOSED}


@dataclass(frozen=True)
class Handover:
    """One movement as the rules see it: who gave, who received, what for, and until when."""

    purpose: str
    giver_id: str
    receiver_id: str
    expected_return_at: datetime | None = None


def movement_of(purpose: str) -> Movement:
    if purpose not in PURPOSES:
        raise invalid("UNKNOWN_PURPOSE", "流转事由不在可选范围内", f"unknown purpose {purpose}", field="purpose")
    return PURPOSES[purpose]


def check_handover(status: CustodyStatus, holder_id: str | None, h: Handover, now: datetime) -> CustodyStatus:
    """Refuses a handover the chain does not allow; returns the status after it."""
    kind = movement_of(h.purpose)
    if kind not in _ALLOWED[status]:
        raise RuleViolation("CUSTODY_OUT_OF_ORDER", "该物品当前状态不允许此流转",
                            f"a {kind.value} movement is not allowed while the item is {status.value}",
                            status_now=status.value, purpose=h.purpose)
    if h.giver_id == h.receiver_id:
        raise invalid("GIVER_IS_RECEIVER", "移交人与接收人不能是同一人", "giver and receiver must be two people",
                      field="receiver_id")
    # the chain is person to person: whoever holds it now is the one who hands it on (art. 11: both sign)
    if status is not CustodyStatus.IN_STORE and holder_id is not None and h.giver_id != holder_id:
        raise RuleViolation("GIVER_NOT_HOLDER", "移交人不是当前保管/持有人", "the giver is not the item's current holder",
                            holder_id=holder_id)
    if kind is Movement.OUT:
        # art. 11: a borrowing is registered with its time; a return date makes a late return visible
        if h.expected_return_at is None:
            raise invalid("RETURN_TIME_REQUIRED", "调出须填写预计归还时间", "an out movement needs an expected return",
                          field="expected_return_at")
        if h.expected_return_at <= now:
            raise invalid("RETURN_TIME_PAST", "预计归还时间须晚于当前时间", "the expected return must be in the future",
                          field="expected_return_at")
    return _AFTER[kind]


def chain_gaps(purposes: Sequence[tuple[str, str, str]]) -> list[str]:
    """Gaps in a trail of ``(purpose, giver_id, receiver_id)`` in order, from registration (holder = the first
    giver). A gap: a movement after a final disposition, an out not followed by its in or a final disposition
    before another out, or a giver who was not the holder. An out still open at the end is not a gap (the item is
    out now); the caller checks that against the item's status."""
    gaps: list[str] = []
    status = CustodyStatus.REGISTERED
    holder: str | None = purposes[0][1] if purposes else None
    for i, (purpose, giver, receiver) in enumerate(purposes):
        kind = PURPOSES.get(purpose)
        if kind is None or kind not in _ALLOWED[status]:
            gaps.append(f"{i}: {purpose} not allowed while {status.value}")
        if status is not CustodyStatus.IN_STORE and holder is not None and giver != holder:
            gaps.append(f"{i}: giver {giver} is not the holder {holder}")
        status = _AFTER[kind] if kind is not None else status
        holder = receiver
    return gaps
