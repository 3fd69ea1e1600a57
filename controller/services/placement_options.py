"""Placement options for one stay: every holding room with the rules a placement there would break, so the kiosk
can offer the lawful rooms first and show each forbidden room's reason before anyone taps it (rule 5)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from ..domain.rules import PLACEMENT_MESSAGES, placement_violations
from .common import load_stay
from .context import SiteContext
from .steps import _occupant, room_view

HOLDING_KINDS = ("waiting", "sobering")


def placement_options(session: Session, ctx: SiteContext, stay_id: str) -> list[dict[str, Any]]:
    """Holding rooms, lawful ones first (fewest occupants first), then the rest with their reasons.

    ``suggested`` marks the lawful room the kiosk preselects; ``overridable`` says whether the exception path
    (a supervisor's approval) exists for that room at all. Reads only; writes nothing.
    """
    stay = load_stay(session, stay_id)
    subject = _occupant(stay)
    out: list[dict[str, Any]] = []
    for room in ctx.config.rooms:
        if room.kind not in HOLDING_KINDS:
            continue
        view = room_view(session, ctx, room.id)
        violations = placement_violations(subject, view)
        others = [o for o in view.occupants if o.stay_id != stay.id]
        out.append({
            "room_id": room.id, "occupants": len(others), "capacity": room.capacity, "lawful": not violations,
            "violations": [{"code": v, "message": PLACEMENT_MESSAGES[v][0], "message_en": PLACEMENT_MESSAGES[v][1]}
                           for v in violations],
            "overridable": bool(violations) and "ROOM_NOT_HOLDING" not in violations,
            "sobering": room.kind == "sobering",
        })
    intoxicated = subject.intoxicated
    # lawful first; among lawful rooms a sobering room first for an intoxicated subject, else the emptiest
    out.sort(key=lambda r: (not r["lawful"], r["sobering"] != intoxicated, r["occupants"], r["room_id"]))
    first = next((r for r in out if r["lawful"]), None)
    for r in out:
        r["suggested"] = r is first
    return out
