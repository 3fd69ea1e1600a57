"""The duty roster (值班表): who is on duty when, and on which stays or cases.

A supervisor (or an admin) puts a staff member on duty for a shift window and may name the stays or case numbers
he works on it; he may end a duty early. Each change is one transaction with its audit and outbox entry. What a
duty grants is read by ``access_at`` (``api/scope.py`` applies it): a case officer reads and acts on the stays
of his own cases and of his current duty; custody staff see the centre, and where the site requires the roster
(``security.custody_on_duty``) only while on duty; supervisors and admins see the centre.

Why a roster and not a standing grant: a subject's records are personal information processed only to the
extent the purpose needs (个人信息保护法 art. 6, the minimum necessary), and the case-handling area is watched by
the staff assigned to it (公安机关执法办案场所办案区使用管理规定, 公安部 2010): access follows the shift and the
assignment, not a role held for ever.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field, model_validator
from sqlmodel import Session, col, select

from ..clock import utc
from ..domain.errors import NotFound, RuleViolation, invalid
from ..store.db import UnitOfWork
from ..store.tables import DutyAssignment, Staff, Stay
from .commands import AwareDatetime, Id, _Cmd, normalise_case_no
from .common import staff

MAX_SHIFT = timedelta(hours=24)  # one shift; a longer presence is two duties, each assigned
PLAN_AHEAD = timedelta(days=31)  # the roster of the coming month, not of years ahead
DUTY_ROLES = ("custody_staff", "case_officer")
CENTRE_ROLES = frozenset({"supervisor", "admin"})

CaseNo = Annotated[str, Field(min_length=1, max_length=64)]


class DutyIn(_Cmd):
    staff_id: Id
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    stay_ids: Annotated[list[Id], Field(max_length=50)] = []
    case_nos: Annotated[list[CaseNo], Field(max_length=20)] = []
    note: Annotated[str, Field(max_length=200)] = ""

    @model_validator(mode="after")
    def _normalised(self) -> DutyIn:
        self.case_nos = list(dict.fromkeys(normalise_case_no(c) for c in self.case_nos))
        self.stay_ids = list(dict.fromkeys(self.stay_ids))
        return self


def duty_view(d: DutyAssignment, now: datetime | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.id, "staff_id": d.staff_id, "starts_at": utc(d.starts_at).isoformat(),
        "ends_at": utc(d.ends_at).isoformat(), "stay_ids": list(d.stay_ids or []), "case_nos": list(d.case_nos or []),
        "note": d.note, "assigned_by": d.assigned_by, "assigned_at": utc(d.assigned_at).isoformat(),
        "ended_by": d.ended_by, "ended_at": utc(d.ended_at).isoformat() if d.ended_at else None}
    if now is not None:
        out["current"] = running(d, now)
    return out


def running(d: DutyAssignment, now: datetime) -> bool:
    return utc(d.starts_at) <= now < utc(d.ends_at)


def assign(uow: UnitOfWork, cmd: DutyIn) -> DutyAssignment:
    """Puts ``cmd.staff_id`` on duty; the assigner is whoever authenticated (``uow.actor``), never a named one."""
    try:
        start, end = utc(cmd.starts_at), utc(cmd.ends_at)
    except OverflowError:  # a time at the edge of the calendar, e.g. 0001-01-01T00:00+01:00
        start = end = uow.now - MAX_SHIFT
    if end > uow.now + PLAN_AHEAD:
        raise invalid("DUTY_WINDOW_INVALID", "值班时段须在今后31天以内", "a shift is planned at most 31 days ahead",
                      field="starts_at")
    if end <= start or end - start > MAX_SHIFT:
        raise invalid("DUTY_WINDOW_INVALID", "值班时段无效：结束须晚于开始，且一班不超过24小时",
                      "the shift must end after it starts and last at most 24 hours", field="ends_at")
    if end <= uow.now:
        raise invalid("DUTY_WINDOW_INVALID", "值班时段已经结束，不能排班", "the shift is already over", field="ends_at")
    person = staff(uow.session, cmd.staff_id)
    if not set(DUTY_ROLES) & set(person.roles):
        raise invalid("DUTY_ROLE_MISSING", "只能为看管人员或办案民警排班", "only custody staff or case officers go on the roster",
                      field="staff_id")
    if "custody_staff" not in person.roles and not (cmd.stay_ids or cmd.case_nos):
        # a case officer's duty grants exactly the stays it names: one naming none would look like a grant and be none
        raise invalid("DUTY_SCOPE_REQUIRED", "办案民警值班须指定在区人员或案件", "a case officer's duty names its stays or cases",
                      field="stay_ids")
    for sid in cmd.stay_ids:
        if uow.session.get(Stay, sid) is None:
            raise NotFound("stay", sid, "在区记录")
    duty = DutyAssignment(id=f"duty-{uuid.uuid4().hex[:12]}", staff_id=person.id, starts_at=start, ends_at=end,
                          stay_ids=list(cmd.stay_ids), case_nos=list(cmd.case_nos), note=cmd.note,
                          assigned_by=uow.actor.id, assigned_at=uow.now)
    uow.session.add(duty)
    uow.record("duty_assigned", entity="duty", entity_id=duty.id, after=duty_view(duty))
    return duty


def end(uow: UnitOfWork, duty_id: str) -> DutyAssignment:
    """Ends a duty now (a shift cut short, an assignment withdrawn); a duty not yet begun ends before it begins."""
    duty = uow.session.get(DutyAssignment, duty_id)
    if duty is None:
        raise NotFound("duty", duty_id, "值班安排")
    if utc(duty.ends_at) <= uow.now:
        raise RuleViolation("DUTY_ALREADY_ENDED", "该值班安排已经结束", "this duty has already ended", status=409,
                            duty_id=duty_id)
    before = duty_view(duty)
    duty.ends_at = max(uow.now, utc(duty.starts_at))
    duty.ended_by, duty.ended_at = uow.actor.id, uow.now
    uow.session.add(duty)
    uow.record("duty_ended", entity="duty", entity_id=duty.id, before=before, after=duty_view(duty))
    return duty


def listing(session: Session, now: datetime, *, staff_id: str | None = None, current: bool = False,
            limit: int = 200) -> list[dict[str, Any]]:
    """The roster, latest start first: every duty not yet over (or with ``current`` only the running ones)."""
    q = select(DutyAssignment)
    if staff_id is not None:
        q = q.where(DutyAssignment.staff_id == staff_id)
    rows = session.exec(q.order_by(col(DutyAssignment.starts_at).desc())).all()
    keep = [d for d in rows if (running(d, now) if current else utc(d.ends_at) > now)]
    return [duty_view(d, now) for d in keep[:limit]]


@dataclass(frozen=True)
class Access:
    """What one staff member may read and act on at one moment."""

    centre: bool
    officer_id: str | None = None
    stay_ids: frozenset[str] = field(default_factory=frozenset)
    case_nos: frozenset[str] = field(default_factory=frozenset)
    off_duty: bool = False  # custody staff whom the roster requires on duty, and who is not

    def allows(self, stay: Stay) -> bool:
        return (self.centre or stay.id in self.stay_ids or stay.case_no in self.case_nos
                or (self.officer_id is not None and self.officer_id in (stay.case_officer_ids or [])))

    @property
    def only(self) -> Callable[[Stay], bool] | None:
        """The ledger's filter: None where the whole centre is visible."""
        return None if self.centre else self.allows


def access_at(session: Session, person: Staff, now: datetime, custody_on_duty: bool) -> Access:
    roles = set(person.roles)
    if CENTRE_ROLES & roles or ("custody_staff" in roles and not custody_on_duty):
        return Access(centre=True)
    duties = [d for d in session.exec(select(DutyAssignment).where(DutyAssignment.staff_id == person.id)).all()
              if running(d, now)]
    if "custody_staff" in roles and duties:
        return Access(centre=True)
    return Access(centre=False, officer_id=person.id if "case_officer" in roles else None,
                  stay_ids=frozenset(s for d in duties for s in d.stay_ids or []),
                  case_nos=frozenset(c for d in duties for c in d.case_nos or []),
                  off_duty="custody_staff" in roles)
