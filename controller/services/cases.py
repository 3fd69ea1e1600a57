"""The centre's known cases, for the registration form's case picker: a case is chosen from those already seen
here (or created once by its first registration), so every subject of one case carries the same case number and
same-case separation (rule 5) holds. Reads only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from ..clock import utc
from ..store.tables import Stay
from .commands import normalise_case_no
from .common import OPEN


def known_cases(session: Session, q: str = "", limit: int = 20) -> list[dict[str, Any]]:
    """Cases whose number contains ``q`` (after the same normalisation as registration), most recent first, each
    with its kind, summary, how many of its subjects are inside now and when one last entered."""
    needle = normalise_case_no(q) if q.strip() else ""
    open_count = func.sum(case((col(Stay.state).in_(OPEN), 1), else_=0))
    stmt = (select(col(Stay.case_no), col(Stay.case_kind), func.max(Stay.case_summary), open_count,
                   func.max(Stay.entered_at))
            .group_by(Stay.case_no, Stay.case_kind).order_by(func.max(Stay.entered_at).desc()).limit(limit))
    if needle:
        stmt = stmt.where(col(Stay.case_no).contains(needle, autoescape=True))
    return [{"case_no": no, "case_kind": kind, "summary": summary, "inside": int(inside or 0),
             "last_entered_at": utc(last).isoformat() if last else None}
            for no, kind, summary, inside, last in session.execute(stmt).all()]
