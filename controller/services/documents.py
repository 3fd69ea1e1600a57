"""The data behind each printed document of a stay (入区登记表, 人身安全检查记录, 随身物品清单, 出区交接单, 全程记录).

A document kind is one data function here (a session and a stay in, a plain dict out) plus one template in
``controller/documents/templates.py``; ``KINDS`` names both halves. 涉案财物清单 joins the same way once the case
property feature (issue 14) has its table: one function reading it, one template laying it out.

Identity numbers leave this module masked unless the reader's role may see them (``may_see_identity``). Generating
a document is itself recorded: ``record_generated`` writes the PDF's sha256 to the audit trail (and the outbox), so
a printed page can later be checked against the record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from ..clock import utc
from ..domain.errors import NotFound, RuleViolation
from ..store.db import UnitOfWork
from ..store.tables import (
    Activity,
    Alarm,
    AuditEntry,
    CareRecord,
    Interview,
    Leave,
    PropertyItem,
    Staff,
    Stay,
    WelfareCheck,
)

# Who may read a subject's full identity number on paper or on screen: the staff who handle the person and the
# case. The system administrator keeps the machine running and reads masked numbers only (need to know).
IDENTITY_ROLES = frozenset({"custody_staff", "case_officer", "supervisor"})


def may_see_identity(roles: Iterable[str]) -> bool:
    return bool(IDENTITY_ROLES & set(roles))


def mask_number(number: str | None) -> str | None:
    """The first 6 (area) and last 2 characters; everything that identifies the person within the area hidden."""
    if not number:
        return number
    if len(number) <= 8:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 8) + number[-2:]


def _iso(v: datetime | None) -> str | None:
    return utc(v).isoformat() if v is not None else None


def _names(session: Session, ids: Iterable[str]) -> dict[str, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {p.id: p.name for p in session.exec(select(Staff).where(col(Staff.id).in_(wanted))).all()}


def _subject(stay: Stay, full_id: bool) -> dict[str, Any]:
    return {"name": stay.subject_name, "id_type": stay.id_type,
            "id_number": stay.id_number if full_id else mask_number(stay.id_number),
            "id_masked": not full_id, "sex": stay.sex, "birth_date": stay.birth_date.isoformat(),
            "nationality": stay.nationality, "ethnicity": stay.ethnicity, "address": stay.address,
            "is_minor": stay.is_minor}


def _head(session: Session, stay: Stay, full_id: bool) -> dict[str, Any]:
    officers = _names(session, [*(stay.case_officer_ids or []), stay.registered_by, stay.custodian_id or ""])
    return {
        "stay_id": stay.id, "state": stay.state, "subject": _subject(stay, full_id), "role": stay.role,
        "identity_source": stay.identity_source, "manual_entry_reason": stay.manual_entry_reason,
        "case_no": stay.case_no, "case_kind": stay.case_kind, "case_summary": stay.case_summary,
        "legal_basis": stay.legal_basis, "basis_started_at": _iso(stay.basis_started_at),
        "entered_at": _iso(stay.entered_at), "deadline_at": _iso(stay.deadline_at),
        "extension_ground": stay.extension_ground, "exited_at": _iso(stay.exited_at),
        "disposition": stay.disposition, "wristband_id": stay.wristband_id, "flags": dict(stay.flags or {}),
        "case_officers": [officers.get(i, i) for i in stay.case_officer_ids or []],
        "registered_by": officers.get(stay.registered_by, stay.registered_by),
        "custodian": officers.get(stay.custodian_id, stay.custodian_id) if stay.custodian_id else None,
        "locker_id": stay.locker_id,
    }


def registration_data(session: Session, stay: Stay, full_id: bool) -> dict[str, Any]:
    return _head(session, stay, full_id)


def search_data(session: Session, stay: Stay, full_id: bool) -> dict[str, Any]:
    records = list(stay.searches or ([stay.search] if stay.search else []))
    exit_search = (stay.exit_record or {}).get("exit_search")
    names = _names(session, [r.get(k) or "" for r in records for k in ("checker_id", "witness_id", "by")]
                   + [(exit_search or {}).get("checker_id") or ""])
    out = []
    for r in records:
        out.append({"at": r.get("at"), "checker": names.get(r.get("checker_id") or "", r.get("checker_id")),
                    "witness": names.get(r.get("witness_id") or "", r.get("witness_id")),
                    "gate_result": r.get("gate_result"), "gate_zones": r.get("gate_zones") or [],
                    "handheld_result": r.get("handheld_result"), "findings": r.get("findings") or {}})
    if exit_search:
        checker = names.get(exit_search.get("checker_id") or "", exit_search.get("checker_id"))
        out.append({"at": (stay.exit_record or {}).get("at"), "checker": checker, "witness": None,
                    "gate_result": None, "gate_zones": [], "handheld_result": None,
                    "findings": exit_search.get("findings") or {}, "exit": True})
    return {**_head(session, stay, full_id), "searches": out}


def property_data(session: Session, stay: Stay, full_id: bool) -> dict[str, Any]:
    items = session.exec(select(PropertyItem).where(PropertyItem.stay_id == stay.id)
                         .order_by(col(PropertyItem.id))).all()
    return {**_head(session, stay, full_id),
            "items": [{"description": i.description, "quantity": i.quantity, "category": i.category,
                       "disposition": i.disposition, "document_no": i.document_no,
                       "receiver_name": i.receiver_name,
                       "receiver_id_number": i.receiver_id_number if full_id else mask_number(i.receiver_id_number),
                       "disposed_at": _iso(i.disposed_at)} for i in items],
            "intake_signature_id": stay.intake_signature_id,
            "exit_signature_id": (stay.exit_record or {}).get("signature_id")}


def exit_data(session: Session, stay: Stay, full_id: bool) -> dict[str, Any]:
    if stay.state not in ("exiting", "exited"):
        raise RuleViolation("DOCUMENT_NOT_READY", "该人员尚未办理出区，无法生成出区交接单",
                            "the exit has not started: no handover sheet yet", status=409, state=stay.state)
    data = property_data(session, stay, full_id)
    record = stay.exit_record or {}
    by = record.get("by")
    data["exit"] = {"at": record.get("at"), "by": _names(session, [by]).get(by, by) if by else None,
                    "findings": (record.get("exit_search") or {}).get("findings") or {}}
    data["leaves"] = _leaves(session, stay)
    return data


def _leaves(session: Session, stay: Stay) -> list[dict[str, Any]]:
    rows = session.exec(select(Leave).where(Leave.stay_id == stay.id).order_by(col(Leave.left_at))).all()
    names = _names(session, [r.approved_by for r in rows])
    return [{"reason": r.reason, "approver": names.get(r.approved_by, r.approved_by), "left_at": _iso(r.left_at),
             "returned_at": _iso(r.returned_at)} for r in rows]


def _span_seconds(start: Any, end: Any) -> float:
    a = utc(datetime.fromisoformat(start)) if isinstance(start, str) else start
    b = utc(datetime.fromisoformat(end)) if isinstance(end, str) else end
    return max(0.0, (b - a).total_seconds()) if a is not None and b is not None else 0.0


def custody_record_data(session: Session, stay: Stay, full_id: bool) -> dict[str, Any]:
    """The whole stay: every audited step in order, interviews with their recording spans and gaps, welfare
    checks of the rooms the subject was in while there, care given, alarms about the subject."""
    data = property_data(session, stay, full_id)
    data["searches"] = search_data(session, stay, full_id)["searches"]
    timeline = session.exec(select(AuditEntry).where(AuditEntry.stay_id == stay.id)
                            .order_by(col(AuditEntry.seq))).all()
    interviews = session.exec(select(Interview).where(Interview.stay_id == stay.id)
                              .order_by(col(Interview.started_at))).all()
    names = _names(session, [e.actor_id for e in timeline] + [o for iv in interviews for o in iv.officer_ids])
    data["timeline"] = [{"seq": e.seq, "at": _iso(e.at), "action": e.action,
                         "actor": names.get(e.actor_id, e.actor_id), "room_id": (e.after or {}).get("room_id"),
                         "hash": e.hash} for e in timeline]
    data["interviews"] = [{
        "room_id": iv.room_id, "officers": [names.get(o, o) for o in iv.officer_ids],
        "started_at": _iso(iv.started_at), "ended_at": _iso(iv.ended_at), "recording_id": iv.recording_id,
        "recording_span": iv.recording_span, "gaps": list(iv.gaps or []),
        "gap_seconds": sum(_span_seconds(g.get("from"), g.get("to") or _iso(iv.ended_at)) for g in iv.gaps or []),
        "appropriate_adult": (iv.appropriate_adult or {}).get("name") if iv.appropriate_adult else None,
    } for iv in interviews]
    data["activities"] = [{"kind": a.kind, "started_at": _iso(a.started_at), "ended_at": _iso(a.ended_at),
                           "result": a.result} for a in session.exec(
        select(Activity).where(Activity.stay_id == stay.id).order_by(col(Activity.started_at))).all()]
    data["care"] = [{"kind": c.kind, "at": _iso(c.at), "note": c.note} for c in session.exec(
        select(CareRecord).where(CareRecord.stay_id == stay.id).order_by(col(CareRecord.at))).all()]
    # welfare checks that saw this subject: the check lists who was in the room at the time
    checks = session.exec(select(WelfareCheck).where(WelfareCheck.at >= stay.entered_at)
                          .order_by(col(WelfareCheck.at))).all()
    check_names = _names(session, [w.staff_id for w in checks])
    data["welfare_checks"] = [{"at": _iso(w.at), "room_id": w.room_id, "observation": w.observation,
                               "note": w.note, "by": check_names.get(w.staff_id, w.staff_id)}
                              for w in checks if stay.id in (w.occupant_stay_ids or [])]
    alarms = session.exec(select(Alarm).where(Alarm.stay_id == stay.id)
                          .order_by(col(Alarm.raised_at))).all()
    data["alarms"] = [{"kind": a.kind, "severity": a.severity, "state": a.state, "raised_at": _iso(a.raised_at),
                       "acknowledged_at": _iso(a.acknowledged_at), "resolved_at": _iso(a.resolved_at),
                       "note": a.note} for a in alarms]
    data["leaves"] = _leaves(session, stay)
    return data


DataFn = Callable[[Session, Stay, bool], dict[str, Any]]


@dataclass(frozen=True)
class DocumentKind:
    kind: str
    title: str  # the document's Chinese name, as printed and as the audit calls it
    data: DataFn
    roles: tuple[str, ...]


_ALL = ("custody_staff", "case_officer", "supervisor", "admin")
KINDS: dict[str, DocumentKind] = {k.kind: k for k in (
    DocumentKind("registration", "入区登记表", registration_data, _ALL),
    DocumentKind("security_check", "人身安全检查记录", search_data, _ALL),
    DocumentKind("property_list", "随身物品清单", property_data, _ALL),
    DocumentKind("exit_handover", "出区交接单", exit_data, _ALL),
    DocumentKind("custody_record", "办案区全程记录", custody_record_data, _ALL),
)}


def document_kind(kind: str) -> DocumentKind:
    found = KINDS.get(kind)
    if found is None:
        raise NotFound("document kind", kind, "文书种类")
    return found


def document_data(session: Session, kind: str, stay_id: str, roles: Iterable[str]) -> dict[str, Any]:
    spec = document_kind(kind)
    stay = session.get(Stay, stay_id)
    if stay is None:
        raise NotFound("stay", stay_id, "在区记录")
    return spec.data(session, stay, may_see_identity(roles))


def record_generated(uow: UnitOfWork, kind: str, stay_id: str, document_id: str, sha256: str,
                     size: int, masked: bool) -> dict[str, Any]:
    """The audit entry that ties a printed page to the record: the document's id (printed on it) and hash."""
    spec = document_kind(kind)
    after = {"kind": kind, "title": spec.title, "document_id": document_id, "sha256": sha256, "bytes": size,
             "identity_masked": masked}
    uow.record("document_generated", entity="document", entity_id=document_id, stay_id=stay_id, after=after,
               live=False)
    return after
