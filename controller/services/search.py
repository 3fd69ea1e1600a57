"""Finding stays (查询): by name, identity number, case number, date range, officer and legal measure; and a
person's past stays at this centre, shown at registration because repeat visits are a risk signal.

An identity number matches only exactly (normalised to upper case, never LIKE), so no partial number can be used to
enumerate the numbers on file; a role that may not read identity numbers may not search by one either, and its
results carry masked numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, cast, func
from sqlmodel import Session, col, select

from ..clock import utc
from ..domain.errors import RuleViolation, invalid
from ..store.tables import Alarm, Stay
from .documents import mask_number, may_see_identity
from .views import stay_summary


class StaySearch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(default=None, min_length=1, max_length=50, description="part of the subject's name")
    id_number: str | None = Field(default=None, min_length=1, max_length=40,
                                  description="the whole identity number: exact match only")
    case_no: str | None = Field(default=None, min_length=1, max_length=64, description="part of the case number")
    entered_from: datetime | None = Field(default=None, description="entered at or after")
    entered_to: datetime | None = Field(default=None, description="entered before")
    officer_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    legal_basis: str | None = Field(default=None, max_length=40, pattern=r"^[a-z_]+$", description="the measure")
    state: str | None = Field(default=None, max_length=20, pattern=r"^[a-z_]+$")
    limit: int = Field(default=100, ge=1, le=500)


class PastStaysQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id_number: str = Field(min_length=1, max_length=40)
    exclude_stay_id: str | None = Field(default=None, max_length=64)


def _like_escaped(text: str) -> str:
    """``text`` for a LIKE pattern with its own wildcards taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _masked(row: dict[str, Any], full_id: bool) -> dict[str, Any]:
    if not full_id:
        subject = dict(row["subject"])
        subject["id_number"] = mask_number(subject["id_number"])
        subject["id_masked"] = True
        row = {**row, "subject": subject}
    return row


def search_stays(session: Session, q: StaySearch, roles: Iterable[str]) -> list[dict[str, Any]]:
    full_id = may_see_identity(roles)
    if q.id_number is not None and not full_id:
        raise RuleViolation("IDENTITY_SEARCH_FORBIDDEN", "您的角色不能按证件号码查询",
                            "your role may not search by identity number", status=403)
    if not any([q.name, q.id_number, q.case_no, q.entered_from, q.entered_to, q.officer_id, q.legal_basis,
                q.state]):
        raise invalid("SEARCH_EMPTY", "请至少填写一个查询条件", "give at least one search criterion")
    stmt = select(Stay)
    if q.id_number is not None:
        stmt = stmt.where(Stay.id_number == q.id_number.upper())  # exact: never a prefix or pattern
    if q.name:
        stmt = stmt.where(col(Stay.subject_name).like(_like_escaped(q.name), escape="\\"))
    if q.case_no:
        stmt = stmt.where(func.upper(Stay.case_no).like(_like_escaped(q.case_no.upper()), escape="\\"))
    if q.entered_from is not None:  # stored as UTC: compare in UTC whatever offset the caller gave
        stmt = stmt.where(Stay.entered_at >= utc(q.entered_from))
    if q.entered_to is not None:
        stmt = stmt.where(Stay.entered_at < utc(q.entered_to))
    if q.officer_id:
        # the officer list is a JSON array of ids; ids are [A-Za-z0-9_.:-], so the quoted id is unambiguous
        stmt = stmt.where(cast(Stay.case_officer_ids, String).like(_like_escaped(f'"{q.officer_id}"'), escape="\\"))
    if q.legal_basis:
        stmt = stmt.where(Stay.legal_basis == q.legal_basis)
    if q.state:
        stmt = stmt.where(Stay.state == q.state)
    rows = session.exec(stmt.order_by(col(Stay.entered_at).desc()).limit(q.limit)).all()
    return [_masked(stay_summary(r), full_id) for r in rows]


def past_stays(session: Session, q: PastStaysQuery, roles: Iterable[str]) -> dict[str, Any]:
    """Earlier stays of the person with this identity number (exact match), newest first, with what happened."""
    if not may_see_identity(roles):
        raise RuleViolation("IDENTITY_SEARCH_FORBIDDEN", "您的角色不能按证件号码查询",
                            "your role may not search by identity number", status=403)
    stmt = select(Stay).where(Stay.id_number == q.id_number.upper())
    if q.exclude_stay_id:
        stmt = stmt.where(Stay.id != q.exclude_stay_id)
    rows = session.exec(stmt.order_by(col(Stay.entered_at).desc()).limit(50)).all()
    alarms: dict[str, int] = {}
    if rows:
        for sid, n in session.exec(select(Alarm.stay_id, func.count()).where(
                col(Alarm.stay_id).in_([r.id for r in rows])).group_by(Alarm.stay_id)).all():
            alarms[sid or ""] = int(n)
    out = [{"id": r.id, "state": r.state, "entered_at": stay_summary(r)["entered_at"],
            "exited_at": stay_summary(r)["exited_at"], "case_no": r.case_no, "legal_basis": r.legal_basis,
            "role": r.role, "disposition": r.disposition, "flags": dict(r.flags or {}),
            "alarm_count": alarms.get(r.id, 0)} for r in rows]
    return {"count": len(out), "open": sum(1 for r in rows if r.state != "exited"), "stays": out}
