"""Rooms, welfare checks, care records, lockers and corrections: the centre's floor as staff see it."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from ..clock import utc
from ..domain.errors import NotFound, RuleViolation, invalid
from ..domain.identity import check_sex_matches
from ..domain.rules import is_minor, validate_resident_id
from ..domain.stay import StayState, ensure_open
from ..store.db import UnitOfWork
from ..store.tables import AuditEntry, CareRecord, Locker, Stay, WelfareCheck
from . import alarms
from .commands import CareIn, Correction, OpenLocker, WelfareCheckIn
from .common import HOLDING, OPEN, load_stay
from .context import SiteContext
from .correction_values import validate_value


def list_rooms(session: Session, ctx: SiteContext) -> list[dict[str, Any]]:
    """Every room with who belongs to it: ``occupant_stay_ids`` is everyone who is in it or holds a place in it
    (a waiting room keeps the place of a subject away at an interview or activity, and placement counts that place
    against its capacity), so the list and ``places_taken`` agree with what ``ROOM_FULL`` counts. ``away`` says
    where each place holder who is not in the room is now; ``present_stay_ids`` is who is in the room itself."""
    present: dict[str, list[str]] = {}
    holders: dict[str, list[tuple[str, str | None]]] = {}
    rows = session.exec(select(Stay.id, Stay.room_id, Stay.waiting_room_id, Stay.state)
                        .where(col(Stay.state).in_(OPEN))).all()
    for sid, room_id, waiting_room_id, state in rows:
        if room_id:
            present.setdefault(room_id, []).append(sid)
        if waiting_room_id and state in HOLDING:  # the places common.occupants (the capacity check) counts
            holders.setdefault(waiting_room_id, []).append((sid, room_id))
    out = []
    for r in ctx.config.rooms:
        due = alarms.next_welfare_due(session, ctx, r.id) if r.kind in ("waiting", "sobering") else None
        here = present.get(r.id, [])
        held = holders.get(r.id, [])
        away = [{"stay_id": sid, "room_id": at, "room_name": _room_name(ctx, at), "room_name_en": _room_name_en(ctx, at)}
                for sid, at in held if at != r.id]
        occupants = list(dict.fromkeys([*here, *(sid for sid, _ in held)]))
        out.append({"id": r.id, "name": r.name, "name_en": r.name_en, "kind": r.kind, "capacity": r.capacity,
                    "restrictions": list(r.restrictions), "occupant_stay_ids": occupants,
                    "present_stay_ids": here, "away": away,
                    "places_taken": len(held) if held or r.kind in ("waiting", "sobering") else len(here),
                    "next_welfare_check_due": due.isoformat() if due else None,
                    "recorder_id": r.recorder_id, "door_lock_id": r.door_lock_id})
    return out


def _room_name(ctx: SiteContext, room_id: str | None) -> str | None:
    return next((r.name for r in ctx.config.rooms if r.id == room_id), None)


def _room_name_en(ctx: SiteContext, room_id: str | None) -> str | None:
    return next((r.name_en for r in ctx.config.rooms if r.id == room_id), None)


def welfare_check(uow: UnitOfWork, ctx: SiteContext, room_id: str, cmd: WelfareCheckIn) -> dict[str, Any]:
    room = ctx.room(room_id)
    if room.kind not in ("waiting", "sobering"):
        raise RuleViolation("ROOM_NOT_HOLDING", "该房间不是候问室", "not a waiting or sobering room")
    ids = [s.id for s in uow.session.exec(select(Stay).where(Stay.room_id == room_id,
                                                             col(Stay.state).in_(OPEN))).all()]
    wc = WelfareCheck(id=f"wc-{uuid.uuid4().hex[:10]}", room_id=room_id, staff_id=uow.actor.id, at=uow.now,
                      observation=cmd.observation, note=cmd.note, occupant_stay_ids=ids)
    uow.session.add(wc)
    uow.record("welfare_checked", entity="room", entity_id=room_id,
               after={"check_id": wc.id, "observation": cmd.observation, "note": cmd.note, "occupants": ids})
    alarms.resolve_matching(uow, "已巡查 / checked", kinds=["welfare_check_late"], room_id=room_id)
    return {"id": wc.id, "room_id": room_id, "at": uow.now.isoformat(), "observation": cmd.observation,
            "occupant_stay_ids": ids}


def care(uow: UnitOfWork, stay_id: str, cmd: CareIn) -> dict[str, Any]:
    stay = load_stay(uow.session, stay_id)
    ensure_open(StayState(stay.state))
    rec = CareRecord(id=f"care-{uuid.uuid4().hex[:10]}", stay_id=stay.id, kind=cmd.kind, at=uow.now,
                     by_id=uow.actor.id, note=cmd.note)
    uow.session.add(rec)
    uow.record("care_recorded", entity="stay", entity_id=stay.id, stay_id=stay.id,
               after={"care_id": rec.id, "kind": cmd.kind, "note": cmd.note})
    return {"id": rec.id, "kind": rec.kind, "at": uow.now.isoformat()}


def locker_view(lk: Locker) -> dict[str, Any]:
    return {"id": lk.id, "board": lk.board, "bus": lk.bus, "channel": lk.channel, "size": lk.size,
            "state": lk.state, "stay_id": lk.stay_id, "door_open": lk.door_open, "item_present": lk.item_present}


def list_lockers(session: Session) -> list[dict[str, Any]]:
    return [locker_view(lk) for lk in session.exec(select(Locker).order_by(Locker.id)).all()]


def sync_lockers(uow: UnitOfWork, ctx: SiteContext) -> int:
    """Makes the locker table match the site config's banks (new compartments added; none deleted)."""
    added = 0
    for locker_id, bank, ch in ctx.config.locker_ids():
        if uow.session.get(Locker, locker_id) is None:
            uow.session.add(Locker(id=locker_id, bus=bank.bus, board=bank.address, channel=ch, size=bank.size))
            added += 1
    # evidence lockers and file cabinets (site ``storage_locations``) are never offered for personal property
    reserved = 0
    for loc in ctx.config.storage_locations:
        lk = uow.session.get(Locker, loc.locker_id) if loc.locker_id else None
        if lk is not None and lk.state == "free" and lk.stay_id is None:
            lk.state = "reserved"
            uow.session.add(lk)
            reserved += 1
    if added or reserved:
        uow.record("lockers_configured", entity="site", entity_id=ctx.site_id,
                   after={"added": added, "reserved": reserved}, live=False)
    return added


def record_locker_open(uow: UnitOfWork, locker_id: str, cmd: OpenLocker) -> dict[str, Any]:
    """Rule 6: every opening names its operator and reason (the device command follows the commit)."""
    lk = uow.session.get(Locker, locker_id)
    if lk is None:
        raise NotFound("locker", locker_id, "储物柜")
    uow.record("locker_opened", entity="locker", entity_id=lk.id, stay_id=lk.stay_id,
               after={"reason": cmd.reason, "operator_id": uow.actor.id, "board": lk.board, "channel": lk.channel})
    return locker_view(lk)


def record_locker_failure(uow: UnitOfWork, locker_id: str, exc: Exception) -> None:
    lk = uow.session.get(Locker, locker_id)
    uow.record("locker_open_failed", entity="locker", entity_id=locker_id, stay_id=lk.stay_id if lk else None,
               after={"error": str(exc), "code": getattr(exc, "code", "DEVICE_ERROR")})


_FIELDS = {"subject.name": "subject_name", "subject.address": "address", "subject.ethnicity": "ethnicity",
           "case.summary": "case_summary", "case.case_no": "case_no", "flags": "flags", "subject.sex": "sex",
           "subject.birth_date": "birth_date"}


def correct(uow: UnitOfWork, stay_id: str, cmd: Correction) -> dict[str, Any]:
    """Rule 10: a correction is a new entry pointing at the one it corrects; nothing is edited in place."""
    s = uow.session
    stay = load_stay(s, stay_id)
    target = s.get(AuditEntry, cmd.corrects_seq)
    if target is None or target.stay_id != stay.id:
        raise NotFound("audit entry of this stay", str(cmd.corrects_seq), "本记录的历史条目")
    value = validate_value(cmd.field, cmd.value)
    if cmd.field in ("subject.sex", "subject.birth_date"):
        _check_identity(stay, cmd.field, value, uow.now.date())
    before: dict[str, Any]
    if cmd.field in _FIELDS:
        attr = _FIELDS[cmd.field]
        before = {cmd.field: getattr(stay, attr)}
        setattr(stay, attr, value if attr != "flags" else {**(stay.flags or {}), **value})
    else:
        section, key = cmd.field.split(".")
        rec = dict(getattr(stay, section) or {})
        before = {cmd.field: rec.get(key)}
        rec[key] = value
        setattr(stay, section, rec)
    stay.version += 1
    s.add(stay)
    uow.record("correction", entity="stay", entity_id=stay.id, stay_id=stay.id, before=before,
               after={cmd.field: value, "reason": cmd.reason}, corrects_seq=cmd.corrects_seq)
    return {"stay_id": stay.id, "field": cmd.field, "corrects_seq": cmd.corrects_seq}


def _check_identity(stay: Stay, field: str, value: Any, today: date) -> None:
    """A corrected sex or birth date must agree with the resident identity number, as at registration."""
    sex = value if field == "subject.sex" else stay.sex
    birth = value if field == "subject.birth_date" else stay.birth_date
    if birth > today:
        raise invalid("INVALID_DATE", "出生日期不能晚于今天", "birth date is in the future", field=field)
    if stay.id_type == "resident_id":
        validate_resident_id(stay.id_number, birth)
        check_sex_matches(stay.id_number, sex)
    if field == "subject.birth_date":
        stay.is_minor = is_minor(birth, today)


def timeline(session: Session, stay_id: str) -> list[dict[str, Any]]:
    rows = session.exec(select(AuditEntry).where(AuditEntry.stay_id == stay_id).order_by(col(AuditEntry.seq))).all()
    return [{"seq": e.seq, "at": utc(e.at).isoformat(), "action": e.action, "actor_id": e.actor_id,
             "actor_role": e.actor_role, "entity": e.entity, "entity_id": e.entity_id, "before": e.before,
             "after": e.after, "corrects_seq": e.corrects_seq} for e in rows]
