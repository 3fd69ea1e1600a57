"""What the platform sees: the change stream (pushed in batches or pulled by page) and the occupancy snapshot.

Push and pull serve the very same change objects (``change_rows``), filtered by the same identity rule, so a
platform that switches between them sees no difference. Read-only: these functions run inside ``db.read``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from ..clock import utc
from ..services.common import OPEN
from ..settings import SiteConfig
from ..store.tables import KeyValue, OutboxEntry, Stay
from .redact import may_hold_identity, redact

BATCH_VERSION = 1
ACKED_KEY = "sync.acked"


@dataclass
class Batch:
    """One push: the rows' seq range and event ids, and the body as it goes on the wire."""

    first_seq: int
    last_seq: int
    event_ids: list[str]
    seqs: list[int]
    body: bytes
    oldest_at: datetime


def _payload_json(raw: Any, entitled: bool) -> str:
    if raw is None:
        return "{}"
    if not isinstance(raw, str):  # a driver that decodes JSON itself
        return json.dumps(redact(raw, entitled), ensure_ascii=False, separators=(",", ":"))
    if entitled or not may_hold_identity(raw):
        return raw  # already canonical JSON as stored; no need to parse it
    return json.dumps(redact(json.loads(raw), False), ensure_ascii=False, separators=(",", ":"))


# Plain SQL without column types: the hot path of a 100k-row drain should neither parse every timestamp nor decode
# and re-encode every payload. SQLite hands back the stored text; other drivers may decode, handled in _change_json.
_ROWS = text(f"SELECT seq, event_id, type, occurred_at, stay_id, payload FROM {OutboxEntry.__tablename__} "
             "WHERE seq > :after ORDER BY seq LIMIT :limit")


def _rows(session: Session, after: int, limit: int) -> list[Any]:
    return list(session.connection().execute(_ROWS, {"after": after, "limit": limit}).all())


def _iso_utc(v: Any) -> str:
    if isinstance(v, str):  # SQLite's stored form of a UTC time: "YYYY-MM-DD HH:MM:SS[.ffffff]"
        return v.replace(" ", "T", 1) + "+00:00"
    return str(utc(v).isoformat())


_PLAIN = re.compile(r"[A-Za-z0-9_.:+-]*")


def _jstr(v: str | None) -> str:
    """A JSON string; ids, types and timestamps need no escaping, so most values skip the encoder (hot path)."""
    if v is None:
        return "null"
    return f'"{v}"' if _PLAIN.fullmatch(v) else json.dumps(v, ensure_ascii=False)


def _change_json(row: Any, entitled: bool) -> str:
    seq, event_id, type_, occurred_at, stay_id, raw = row
    return (f'{{"seq":{int(seq)},"event_id":{_jstr(event_id)},"type":{_jstr(type_)},'
            f'"occurred_at":{_jstr(_iso_utc(occurred_at))},'
            f'"stay_id":{_jstr(stay_id)},"payload":{_payload_json(raw, entitled)}}}')


def changes_page(session: Session, after: int, limit: int, entitled: bool) -> dict[str, Any]:
    """``{changes: [{seq, event_id, type, occurred_at, stay_id, payload}], next_after}`` for the pull feed."""
    rows = _rows(session, after, limit)
    changes = [json.loads(_change_json(r, entitled)) for r in rows]
    return {"changes": changes, "next_after": rows[-1][0] if rows else after}


def next_batch(session: Session, site_id: str, after: int, limit: int, entitled: bool) -> Batch | None:
    """The next push batch after ``after``, encoded once here (on the database thread, off the event loop)."""
    rows = _rows(session, after, limit)
    if not rows:
        return None
    first, last = rows[0][0], rows[-1][0]
    head = json.dumps({"v": BATCH_VERSION, "site_id": site_id, "first_seq": first, "last_seq": last,
                       "count": len(rows)}, separators=(",", ":"))
    body = head[:-1] + ',"changes":[' + ",".join(_change_json(r, entitled) for r in rows) + "]}"
    return Batch(first_seq=first, last_seq=last, event_ids=[r[1] for r in rows], seqs=[r[0] for r in rows],
                 body=body.encode(), oldest_at=datetime.fromisoformat(_iso_utc(rows[0][3])))


def acked_seq(session: Session) -> int:
    row = session.get(KeyValue, ACKED_KEY)
    return int(row.value.get("seq", 0)) if row is not None else 0


def lag(session: Session, now: datetime) -> dict[str, Any]:
    """How far the platform is behind: rows not yet acknowledged, and the age of the oldest of them."""
    acked_row = session.get(KeyValue, ACKED_KEY)
    acked = int(acked_row.value.get("seq", 0)) if acked_row is not None else 0
    head = session.exec(select(func.max(OutboxEntry.seq))).one() or 0
    rows = session.exec(select(func.count()).select_from(OutboxEntry)
                        .where(col(OutboxEntry.seq) > acked)).one()
    oldest = session.exec(select(OutboxEntry.occurred_at).where(col(OutboxEntry.seq) > acked)
                          .order_by(col(OutboxEntry.seq)).limit(1)).first()
    seconds = max(0.0, (now - utc(oldest)).total_seconds()) if oldest is not None else 0.0
    return {"acked_seq": acked, "head_seq": head, "lag_rows": rows, "lag_seconds": round(seconds, 3),
            "acked_at": acked_row.value.get("at") if acked_row is not None else None}


def occupancy(session: Session, site: SiteConfig, now: datetime, entitled: bool) -> dict[str, Any]:
    """Who is inside now, where, since when, and their deadline."""
    stays = session.exec(select(Stay).where(col(Stay.state).in_(OPEN)).order_by(col(Stay.entered_at))).all()
    names = {r.id: r.name for r in site.rooms}
    out = []
    for s in stays:
        out.append(redact({
            "stay_id": s.id, "state": s.state, "role": s.role,
            "subject": {"name": s.subject_name, "sex": s.sex, "is_minor": s.is_minor, "id_type": s.id_type,
                        "id_number": s.id_number},
            "case_no": s.case_no, "legal_basis": s.legal_basis,
            "room_id": s.room_id, "room_name": names.get(s.room_id or ""), "waiting_room_id": s.waiting_room_id,
            "entered_at": utc(s.entered_at).isoformat(),
            "in_room_since": utc(s.placed_at).isoformat() if s.placed_at else None,
            "deadline_at": utc(s.deadline_at).isoformat(),
            "overdue": utc(s.deadline_at) <= now,
        }, entitled))
    return {"v": BATCH_VERSION, "site_id": site.site.id, "at": now.isoformat(), "count": len(out), "occupants": out}
