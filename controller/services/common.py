"""Helpers every use case shares: loading a stay or staff member, moving a stay through its machine, snapshots."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from ..domain.errors import NotFound, RuleViolation
from ..domain.stay import StayState, next_state
from ..store.db import UnitOfWork
from ..store.tables import Staff, Stay

OPEN = [s.value for s in StayState if s is not StayState.EXITED]
HOLDING = [StayState.WAITING.value, StayState.IN_INTERVIEW.value, StayState.IN_ACTIVITY.value]


def load_stay(session: Session, stay_id: str) -> Stay:
    stay = session.get(Stay, stay_id)
    if stay is None:
        raise NotFound("stay", stay_id, "在区记录")
    return stay


ROLE_ZH = {"custody_staff": "看管人员", "case_officer": "办案民警", "supervisor": "值班领导", "admin": "系统管理员",
           "platform": "管控平台"}


def staff(session: Session, staff_id: str, *, role: str | None = None, field: str = "staff_id") -> Staff:
    person = session.get(Staff, staff_id)
    if person is None or not person.active:
        raise RuleViolation("UNKNOWN_STAFF", "所选工作人员不存在或已停用", f"unknown or disabled staff: {staff_id}",
                            status=422, field=field, id=staff_id)
    if role is not None and role not in person.roles:
        if role == "supervisor":
            raise RuleViolation("NEEDS_SUPERVISOR", "须由值班领导/办案部门负责人批准", "a supervisor must approve this",
                                field=field, id=staff_id)
        raise RuleViolation("FORBIDDEN_ROLE", f"所选人员无“{ROLE_ZH.get(role, '相应')}”职责", f"staff {staff_id} lacks the role {role}",
                            status=422, field=field, id=staff_id, role=role)
    return person


def snapshot(stay: Stay) -> dict[str, Any]:
    """The fields an audit entry records before/after a stay change (never the identity number)."""
    return {"state": stay.state, "room_id": stay.room_id, "waiting_room_id": stay.waiting_room_id,
            "deadline_at": stay.deadline_at, "locker_id": stay.locker_id, "wristband_id": stay.wristband_id,
            "version": stay.version}


def move(uow: UnitOfWork, stay: Stay, command: str, action: str, data: dict[str, Any] | None = None, *,
         check_required: bool = True, **changes: Any) -> Stay:
    """Moves ``stay`` by ``command`` and writes the audit and outbox entries, in the caller's transaction.
    The stay's role picks its machine; ``check_required`` is the site's witness check setting."""
    before = snapshot(stay)
    stay.state = next_state(StayState(stay.state), command, stay.role, check_required).value
    for k, v in changes.items():
        setattr(stay, k, v)
    stay.version += 1
    uow.session.add(stay)
    after = snapshot(stay)
    uow.record(action, entity="stay", entity_id=stay.id, stay_id=stay.id, before=before,
               after={**after, **(data or {})}, payload={"state": stay.state, "room_id": stay.room_id, **(data or {})})
    return stay


# What a stay accumulates and no timer reads (the case officers, the search, collection and exit records): the
# timer sweeps load open stays without them -- over 200 open stays a sweep spent half its time decoding them every
# 5 s -- and a stay whose record is touched after all loads it then.
_WITHOUT_RECORDS = tuple(defer(c) for c in (Stay.case_officer_ids, Stay.search, Stay.searches,  # type: ignore[arg-type]
                                              Stay.collection, Stay.exit_record))


def stays_in_states(session: Session, states: Any) -> list[Stay]:
    """The stays in ``states`` for a timer sweep (without their records, see ``_WITHOUT_RECORDS``)."""
    return list(session.exec(select(Stay).where(col(Stay.state).in_(states)).options(*_WITHOUT_RECORDS)).all())


def occupants(session: Session, room_id: str, *, sweep: bool = False) -> list[Stay]:
    """Open stays holding a place in a waiting room (present, or out to an interview or activity); ``sweep``: for
    a timer sweep, without their records."""
    q = select(Stay).where(Stay.waiting_room_id == room_id, col(Stay.state).in_(HOLDING))
    if sweep:
        q = q.options(*_WITHOUT_RECORDS)
    return list(session.exec(q).all())
