"""The audit trail: append-only entries chained by sha256, and the verifier that finds the first broken link."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from ..clock import utc
from .tables import AuditEntry

GENESIS = "0" * 64


def _canonical(entry: AuditEntry) -> bytes:
    body = {
        "seq": entry.seq, "at": utc(entry.at).isoformat(), "actor_id": entry.actor_id,
        "actor_role": entry.actor_role, "action": entry.action, "entity": entry.entity,
        "entity_id": entry.entity_id, "stay_id": entry.stay_id, "before": entry.before, "after": entry.after,
        "corrects_seq": entry.corrects_seq,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256(prev_hash.encode() + _canonical(entry)).hexdigest()


def append(session: Session, *, at: datetime, actor_id: str, actor_role: str, action: str, entity: str,
           entity_id: str, stay_id: str | None = None, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, corrects_seq: int | None = None) -> AuditEntry:
    """Appends one entry. The caller's transaction holds the write lock, so the chain head cannot move under us."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(724201)"))
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).first()
    prev = last.hash if last else GENESIS
    seq = (last.seq or 0) + 1 if last else 1
    entry = AuditEntry(seq=seq, at=at, actor_id=actor_id, actor_role=actor_role, action=action, entity=entity,
                       entity_id=entity_id, stay_id=stay_id, before=_jsonable(before), after=_jsonable(after),
                       corrects_seq=corrects_seq, prev_hash=prev, hash="")
    entry.hash = entry_hash(prev, entry)
    session.add(entry)
    return entry


def verify(session: Session, batch: int = 5000) -> dict[str, Any]:
    """Walks the chain in order; reports the first entry whose link or content does not match."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    after = 0
    while True:
        rows = session.exec(select(AuditEntry).where(col(AuditEntry.seq) > after)
                            .order_by(col(AuditEntry.seq)).limit(batch)).all()
        if not rows:
            return {"ok": True, "entries": count}
        for e in rows:
            if e.seq != expected_seq or e.prev_hash != prev or entry_hash(prev, e) != e.hash:
                return {"ok": False, "entries": count, "first_broken_seq": expected_seq if e.seq != expected_seq
                        else e.seq}
            prev = e.hash
            expected_seq += 1
            count += 1
            after = e.seq or 0


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_default, ensure_ascii=False))


def _default(o: Any) -> Any:
    if isinstance(o, datetime):
        return utc(o).isoformat()
    if hasattr(o, "isoformat"):
        return o.isoformat()
    return str(o)
