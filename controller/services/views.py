"""Read models: the stay as docs/API.md shows it (subject, case, clock, steps, property, interviews, timeline)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from ..clock import utc
from ..domain.alarms import AlarmState
from ..store.tables import Activity, Alarm, CareRecord, Interview, Leave, PropertyItem, Stay
from .common import OPEN
from .interviews import interview_view
from .rooms import timeline


def _iso(v: Any) -> Any:
    return utc(v).isoformat() if v is not None else None


def stay_summary(stay: Stay) -> dict[str, Any]:
    return {
        "id": stay.id, "state": stay.state,
        "subject": {"name": stay.subject_name, "id_type": stay.id_type, "id_number": stay.id_number,
                    "sex": stay.sex, "birth_date": stay.birth_date.isoformat(), "nationality": stay.nationality,
                    "ethnicity": stay.ethnicity, "address": stay.address, "is_minor": stay.is_minor},
        "identity_source": stay.identity_source, "manual_entry_reason": stay.manual_entry_reason,
        "role": stay.role,
        "case": {"case_no": stay.case_no, "case_kind": stay.case_kind, "summary": stay.case_summary,
                 "offence_category": stay.offence_category, "spp_approval_no": stay.spp_approval_no},
        "legal_basis": stay.legal_basis, "basis_started_at": _iso(stay.basis_started_at),
        "entered_at": _iso(stay.entered_at), "deadline_at": _iso(stay.deadline_at),
        "extension_ground": stay.extension_ground, "room_id": stay.room_id,
        "waiting_room_id": stay.waiting_room_id, "placed_at": _iso(stay.placed_at),
        "case_officer_ids": stay.case_officer_ids, "wristband_id": stay.wristband_id, "flags": stay.flags,
        "disposition": stay.disposition, "exited_at": _iso(stay.exited_at), "version": stay.version,
    }


def stay_view(session: Session, stay: Stay, with_timeline: bool = True) -> dict[str, Any]:
    out = stay_summary(stay)
    items = session.exec(select(PropertyItem).where(PropertyItem.stay_id == stay.id)).all()
    out.update(
        search=stay.search, searches=stay.searches, collection=stay.collection, exit=stay.exit_record,
        property={"locker_id": stay.locker_id, "custodian_id": stay.custodian_id,
                  "items": [{"id": i.id, "description": i.description, "quantity": i.quantity,
                             "category": i.category, "photo_id": i.photo_id, "disposition": i.disposition,
                             "document_no": i.document_no,
                             "receiver": {"name": i.receiver_name} if i.receiver_name else None} for i in items]},
        interviews=[interview_view(iv) for iv in session.exec(
            select(Interview).where(Interview.stay_id == stay.id).order_by(col(Interview.started_at))).all()],
        activities=[{"id": a.id, "kind": a.kind, "performed_by_id": a.performed_by_id, "room_id": a.room_id,
                     "started_at": _iso(a.started_at), "ended_at": _iso(a.ended_at), "result": a.result}
                    for a in session.exec(select(Activity).where(Activity.stay_id == stay.id)).all()],
        leaves=[{"id": lv.id, "reason": lv.reason, "approved_by": lv.approved_by, "approval_id": lv.approval_id,
                 "escort_ids": lv.escort_ids, "note": lv.note, "left_at": _iso(lv.left_at), "returned_at": _iso(lv.returned_at)}
                for lv in session.exec(select(Leave).where(Leave.stay_id == stay.id)).all()],
        care=[{"id": c.id, "kind": c.kind, "at": _iso(c.at), "by_id": c.by_id, "note": c.note}
              for c in session.exec(select(CareRecord).where(CareRecord.stay_id == stay.id)).all()],
        open_alarm_ids=list(session.exec(select(Alarm.id).where(
            Alarm.stay_id == stay.id, Alarm.state != AlarmState.RESOLVED.value)).all()),
    )
    if with_timeline:
        out["timeline"] = timeline(session, stay.id)
    return out


def list_stays(session: Session, state: str | None, limit: int = 500, offset: int = 0,
               officer_id: str | None = None) -> list[dict[str, Any]]:
    """The ledger, newest first; with ``officer_id`` only the stays that name that case officer."""
    q = select(Stay)
    if state == "open":
        q = q.where(col(Stay.state).in_(OPEN))
    elif state == "closed":
        q = q.where(Stay.state == "exited")
    elif state:
        q = q.where(Stay.state == state)
    ordered = q.order_by(col(Stay.entered_at).desc())
    if officer_id is None:
        rows = list(session.exec(ordered.offset(offset).limit(limit)).all())
    else:  # the officers are a JSON list: filtered here, the same on SQLite and PostgreSQL
        mine = [r for r in session.exec(ordered).all() if officer_id in (r.case_officer_ids or [])]
        rows = mine[offset:offset + limit]
    ids = [r.id for r in rows]
    open_alarms: dict[str, list[str]] = {}
    if ids:
        for aid, sid in session.exec(select(Alarm.id, Alarm.stay_id).where(
                col(Alarm.stay_id).in_(ids), Alarm.state != AlarmState.RESOLVED.value)).all():
            open_alarms.setdefault(sid or "", []).append(aid)
    return [{**stay_summary(r), "open_alarm_ids": open_alarms.get(r.id, [])} for r in rows]
