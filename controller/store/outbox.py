"""The outbox: one row per state change, written in the same transaction, read in order by sync and the feed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from .audit import _jsonable
from .tables import OutboxEntry

PAYLOAD_VERSION = 1


def append(session: Session, *, type: str, occurred_at: datetime, payload: dict[str, Any],
           stay_id: str | None = None) -> OutboxEntry:
    row = OutboxEntry(event_id=str(uuid.uuid4()), type=type, occurred_at=occurred_at, stay_id=stay_id,
                      payload={"v": PAYLOAD_VERSION, **_jsonable(payload)})
    session.add(row)
    return row


def changes_after(session: Session, after: int, limit: int) -> list[OutboxEntry]:
    return list(session.exec(select(OutboxEntry).where(col(OutboxEntry.seq) > after)
                             .order_by(col(OutboxEntry.seq)).limit(limit)).all())
