"""Case-level access: a case officer reads and acts on the stays of his own cases only (the stay names him among
its case officers). Supervisors and custody staff work the whole centre; an admin reads the centre with identity
numbers masked (``visibility.py``) and acts on no stay.

The check runs in the role dependency (``deps.allow``), from the route's path: a stay id, or an interview,
activity, capture or alarm that belongs to a stay. Routes that name a stay in the body call ``check_stay``.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from ..domain.errors import RuleViolation
from ..store.tables import Activity, Alarm, Capture, Interview, Staff, Stay

CENTRE_ROLES = frozenset({"custody_staff", "supervisor", "admin"})
# path parameter -> the table whose row names the stay
OWNERS: dict[str, Any] = {"interview_id": Interview, "activity_id": Activity, "capture_id": Capture,
                          "alarm_id": Alarm}


def scoped(person: Staff) -> bool:
    """True for someone who sees only his own cases: a case officer holding no centre-wide role."""
    return "case_officer" in person.roles and not CENTRE_ROLES & set(person.roles)


def stay_of(session: Session, path_params: dict[str, Any]) -> str | None:
    if "stay_id" in path_params:
        return str(path_params["stay_id"])
    for name, table in OWNERS.items():
        if name in path_params:
            row = session.get(table, str(path_params[name]))
            return getattr(row, "stay_id", None) if row is not None else None
    return None


def check_stay(session: Session, person: Staff, stay_id: str | None) -> None:
    """403 STAY_NOT_ASSIGNED unless ``person`` may work on ``stay_id``; an unknown stay is left to the route's 404."""
    if stay_id is None or not scoped(person):
        return
    stay = session.get(Stay, stay_id)
    if stay is not None and person.id not in (stay.case_officer_ids or []):
        raise RuleViolation("STAY_NOT_ASSIGNED", "您不是该案件的办案民警，无权查看或操作", "this stay is not one of your cases",
                            status=403, stay_id=stay_id)


async def ensure_stay(c: Any, actor: Any, stay_id: str | None) -> None:
    """``check_stay`` for a stay named in a request body (a capture, a signature)."""
    if stay_id is None:
        return

    def check(s: Session) -> None:
        person = s.get(Staff, actor.id)
        if person is not None:
            check_stay(s, person, stay_id)

    await c.db.read(check)
