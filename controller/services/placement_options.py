"""Placement options for one stay: every holding room with the rules a placement there would break, so the kiosk
can offer the lawful rooms first and show each forbidden room's reason before anyone taps it (rule 5)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from ..domain.rules import (
    ABSOLUTE_PLACEMENT,
    HOLDING_KINDS,
    PLACEMENT_MESSAGES,
    WITNESS_ROLES,
    WITNESS_ROOM_KINDS,
    placement_violations,
)
from .common import load_stay
from .context import SiteContext
from .steps import _occupant, room_view


def placement_options(session: Session, ctx: SiteContext, stay_id: str) -> list[dict[str, Any]]:
    """Holding rooms, lawful ones first (fewest occupants first), then the rest with their reasons.

    ``suggested`` marks the lawful room the kiosk preselects; ``overridable`` says whether the exception path
    (a supervisor's approval) exists for that room at all: never where an absolute rule forbids it (each violation
    says ``absolute``). A witness or victim is offered the witness waiting rooms, and sees the holding rooms as
    forbidden. Reads only; writes nothing.
    """
    stay = load_stay(session, stay_id)
    subject = _occupant(stay)
    kinds = (*WITNESS_ROOM_KINDS, *HOLDING_KINDS) if stay.role in WITNESS_ROLES else HOLDING_KINDS
    out: list[dict[str, Any]] = []
    for room in ctx.config.rooms:
        if room.kind not in kinds:
            continue
        view = room_view(session, ctx, room.id)
        violations = placement_violations(subject, view)
        others = [o for o in view.occupants if o.stay_id != stay.id]
        out.append({
            "room_id": room.id, "occupants": len(others), "capacity": room.capacity, "lawful": not violations,
            "violations": [{"code": v, "message": PLACEMENT_MESSAGES[v][0], "message_en": PLACEMENT_MESSAGES[v][1],
                            "absolute": v in ABSOLUTE_PLACEMENT} for v in violations],
            "overridable": bool(violations) and not ABSOLUTE_PLACEMENT & set(violations), "kind": room.kind,
            "sobering": room.kind == "sobering",
        })
    intoxicated = subject.intoxicated
    # lawful first; among lawful rooms a sobering room first for an intoxicated subject, else the emptiest
    out.sort(key=lambda r: (not r["lawful"], r["sobering"] != intoxicated, r["occupants"], r["room_id"]))
    first = next((r for r in out if r["lawful"]), None)
    for r in out:
        r["suggested"] = r is first
    return out
