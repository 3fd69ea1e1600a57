"""Case-level access: a case officer reads and acts on the stays of his own cases (the stay names him among its
case officers) and of his current duty on the roster (``services/duty.py``). Supervisors work the whole centre;
custody staff too, and where the site requires the roster (``security.custody_on_duty``) only while on duty; an
admin reads the centre with identity numbers masked (``visibility.py``) and acts on no stay.

The check runs in the role dependency (``deps.allow``), from the route's path: a stay id, or an interview,
activity, capture or alarm that belongs to a stay. Routes that name a stay in the body call ``ensure_stay``.
The moment is the controller's clock: a duty grants access while its window runs, not a second longer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from ..domain.errors import RuleViolation
from ..services.duty import Access, access_at
from ..store.tables import Activity, Alarm, Capture, Interview, Staff, Stay

CENTRE_ROLES = frozenset({"custody_staff", "supervisor", "admin"})
# path parameter -> the table whose row names the stay
OWNERS: dict[str, Any] = {"interview_id": Interview, "activity_id": Activity, "capture_id": Capture,
                          "alarm_id": Alarm}


def scoped(person: Staff) -> bool:
    """True for someone who may see less than the centre: a case officer holding no centre-wide role."""
    return "case_officer" in person.roles and not CENTRE_ROLES & set(person.roles)


def access(session: Session, person: Staff, now: datetime, site: Any) -> Access:
    return access_at(session, person, now, bool(site.security.custody_on_duty))


def stay_of(session: Session, path_params: dict[str, Any]) -> str | None:
    if "stay_id" in path_params:
        return str(path_params["stay_id"])
    for name, table in OWNERS.items():
        if name in path_params:
            row = session.get(table, str(path_params[name]))
            return getattr(row, "stay_id", None) if row is not None else None
    return None


def check_stay(session: Session, grant: Access, stay_id: str | None) -> None:
    """403 unless ``grant`` covers ``stay_id``: NOT_ON_DUTY for custody staff off duty, else STAY_NOT_ASSIGNED.
    An unknown stay is left to the route's 404."""
    if stay_id is None or grant.centre:
        return
    stay = session.get(Stay, stay_id)
    if stay is None or grant.allows(stay):
        return
    if grant.off_duty:
        raise RuleViolation("NOT_ON_DUTY", "您当前不在值班时段，无权查看或操作在区人员", "you are not on duty now",
                            status=403, stay_id=stay_id)
    raise RuleViolation("STAY_NOT_ASSIGNED", "您不是该案件的办案民警，无权查看或操作", "this stay is not one of your cases",
                        status=403, stay_id=stay_id)


async def ensure_stay(c: Any, actor: Any, stay_id: str | None) -> None:
    """``check_stay`` for a stay named in a request body (a capture, a signature)."""
    if stay_id is None:
        return
    now = c.clock.now()

    def check(s: Session) -> None:
        person = s.get(Staff, actor.id)
        if person is not None:
            check_stay(s, access(s, person, now, c.site), stay_id)

    await c.db.read(check)


async def access_of(c: Any, actor: Any) -> Access:
    """The signed-in actor's access now (for a listing that filters rather than refuses)."""
    now = c.clock.now()

    def load(s: Session) -> Access:
        person = s.get(Staff, actor.id)
        return access(s, person, now, c.site) if person is not None else Access(centre=False)

    return await c.db.read(load)
