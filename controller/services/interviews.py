"""Interviews (讯问/询问) and activities: start only on the recorder's confirmation; pauses log recording gaps."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from ..domain.actor import Actor
from ..domain.errors import NotFound, RuleViolation
from ..domain.rules import check_interview, check_sampler, check_vulnerable
from ..domain.stay import StayState, next_state
from ..store.db import Database, UnitOfWork
from ..store.tables import Activity, Interview, Stay
from . import alarms
from .attendance import check_attendance
from .commands import EndActivity, InterviewNote, StartActivity, StartInterview
from .common import load_stay, move, staff
from .context import SiteContext
from .overrun import ensure_within_deadline
from .ports import RecorderPort

log = logging.getLogger(__name__)


def _adult_view(adult: dict[str, Any] | None) -> dict[str, Any] | None:
    """The appropriate adult as shown and audited: never the full identity number (the BRIEF's rule)."""
    if not adult:
        return adult
    n = str(adult.get("id_number") or "")
    return {**adult, "id_number": f"{n[:3]}***********{n[-4:]}" if n else None}


def _room_busy(session: Session, room_id: str) -> bool:
    return session.exec(select(Interview.id).where(Interview.room_id == room_id,
                                                   Interview.state != "ended")).first() is not None


def _check(session: Session, ctx: SiteContext, stay_id: str, cmd: StartInterview, now: datetime) -> Stay:
    stay = load_stay(session, stay_id)
    next_state(StayState(stay.state), "interview_start")  # rule 2: search and collection come first
    ensure_within_deadline(stay, now, "interview")
    room = ctx.room(cmd.room_id)
    officers = [staff(session, oid, role="case_officer", field="officer_ids") for oid in dict.fromkeys(cmd.officer_ids)]
    check_interview(stay.role, room.kind, cmd.officer_ids, stay.is_minor, cmd.appropriate_adult is not None,
                    _room_busy(session, room.id))
    check_vulnerable(stay.is_minor, stay.sex, bool((stay.flags or {}).get("needs_interpreter")),
                     cmd.appropriate_adult.model_dump() if cmd.appropriate_adult else None,
                     [o.sex for o in officers], cmd.interpreter)
    check_attendance(session, cmd)
    return stay


async def start(db: Database, ctx: SiteContext, recorder: RecorderPort, actor: Actor, stay_id: str,
                cmd: StartInterview) -> dict[str, Any]:
    now = db.clock.now()
    await db.read(lambda s: _check(s, ctx, stay_id, cmd, now))
    recording_id = await recorder.start(cmd.room_id, stay_id)  # rule 3: no confirmation, no interview

    def write(uow: UnitOfWork) -> dict[str, Any]:
        stay = _check(uow.session, ctx, stay_id, cmd, uow.now)
        iv = Interview(id=f"iv-{uuid.uuid4().hex[:12]}", stay_id=stay.id, room_id=cmd.room_id,
                       officer_ids=list(dict.fromkeys(cmd.officer_ids)),
                       appropriate_adult=cmd.appropriate_adult.model_dump() if cmd.appropriate_adult else None,
                       interpreter=cmd.interpreter, recording_id=recording_id, started_at=uow.now)
        uow.session.add(iv)
        move(uow, stay, "interview_start", "interview_started",
             {"interview_id": iv.id, "room_id": cmd.room_id, "recording_id": recording_id,
              "officer_ids": iv.officer_ids, "appropriate_adult": _adult_view(iv.appropriate_adult),
              "interpreter": iv.interpreter},
             room_id=cmd.room_id, placed_at=uow.now)
        return {"interview_id": iv.id, "recording_id": recording_id}

    try:
        return await db.write(actor, write)
    except Exception:
        await recorder.stop(cmd.room_id, recording_id)  # nothing was written: do not leave it recording
        raise


def _interview(session: Session, interview_id: str) -> Interview:
    iv = session.get(Interview, interview_id)
    if iv is None:
        raise NotFound("interview", interview_id, "讯问/询问")
    return iv


def pause(uow: UnitOfWork, interview_id: str, reason: str | None, *, recording_failed: bool = False) -> Interview:
    iv = _interview(uow.session, interview_id)
    if iv.state != "active":
        raise RuleViolation("INTERVIEW_NOT_ACTIVE", "讯问/询问不在进行中", "the interview is not active", state=iv.state)
    iv.state = "paused"
    iv.gaps = [*(iv.gaps or []), {"from": uow.now.isoformat(), "to": None,
                                  "reason": reason or ("recording_failed" if recording_failed else "paused")}]
    if recording_failed:
        iv.recording_id = None
    uow.session.add(iv)
    uow.record("interview_paused", entity="interview", entity_id=iv.id, stay_id=iv.stay_id,
               after={"state": iv.state, "reason": reason, "recording_failed": recording_failed})
    return iv


def recording_failed(uow: UnitOfWork, recording_id: str, detail: str) -> Interview | None:
    """A recorder failure or lost heartbeat: pause the interview, log the gap, raise the alarm."""
    iv = uow.session.exec(select(Interview).where(Interview.recording_id == recording_id,
                                                  Interview.state == "active")).first()
    if iv is None:
        return None
    pause(uow, iv.id, f"recording_failed: {detail}", recording_failed=True)
    alarms.raise_alarm(uow, "recording_failed", f"recfail:{iv.id}:{recording_id}", stay_id=iv.stay_id,
                       room_id=iv.room_id, interview_id=iv.id, detail=detail)
    return iv


async def resume(db: Database, recorder: RecorderPort, actor: Actor, interview_id: str,
                 note: InterviewNote) -> dict[str, Any]:
    iv = await db.read(lambda s: _interview(s, interview_id))
    if iv.state != "paused":
        raise RuleViolation("INTERVIEW_NOT_PAUSED", "讯问/询问未暂停", "the interview is not paused", state=iv.state)
    now = db.clock.now()
    await db.read(lambda s: ensure_within_deadline(load_stay(s, iv.stay_id), now, "interview"))
    new_recording = None
    if iv.recording_id is None:  # the recording failed: nothing resumes until a recorder confirms again
        new_recording = await recorder.start(iv.room_id, iv.stay_id)

    def write(uow: UnitOfWork) -> dict[str, Any]:
        cur = _interview(uow.session, interview_id)
        if cur.state != "paused":
            raise RuleViolation("INTERVIEW_NOT_PAUSED", "讯问/询问未暂停", "the interview is not paused")
        ensure_within_deadline(load_stay(uow.session, cur.stay_id), uow.now, "interview")
        gaps = list(cur.gaps or [])
        if gaps and gaps[-1]["to"] is None:
            gaps[-1] = {**gaps[-1], "to": uow.now.isoformat()}
        cur.gaps, cur.state = gaps, "active"
        if new_recording:
            cur.recording_id = new_recording
        uow.session.add(cur)
        uow.record("interview_resumed", entity="interview", entity_id=cur.id, stay_id=cur.stay_id,
                   after={"state": "active", "recording_id": cur.recording_id, "note": note.reason})
        return interview_view(cur)

    return await db.write(actor, write)


async def end(db: Database, recorder: RecorderPort, actor: Actor, interview_id: str,
              note: InterviewNote) -> dict[str, Any]:
    iv = await db.read(lambda s: _interview(s, interview_id))
    if iv.state == "ended":
        raise RuleViolation("INTERVIEW_ENDED", "讯问/询问已结束", "the interview has ended")
    span: dict[str, Any] = {}
    if iv.recording_id:
        try:
            span = await recorder.stop(iv.room_id, iv.recording_id)
        except Exception as exc:  # the interview still ends; the missing span is on the record
            log.warning("recorder stop not confirmed for %s: %s", iv.id, exc)
            span = {"stop_confirmed": False, "error": str(exc)}

    def write(uow: UnitOfWork) -> dict[str, Any]:
        cur = _interview(uow.session, interview_id)
        stay = load_stay(uow.session, cur.stay_id)
        gaps = list(cur.gaps or [])
        if gaps and gaps[-1]["to"] is None:
            gaps[-1] = {**gaps[-1], "to": uow.now.isoformat()}
        cur.state, cur.ended_at, cur.gaps, cur.recording_span = "ended", uow.now, gaps, span or None
        uow.session.add(cur)
        move(uow, stay, "interview_end", "interview_ended",
             {"interview_id": cur.id, "recording_span": span, "gaps": gaps, "note": note.reason},
             room_id=stay.waiting_room_id, placed_at=uow.now)
        return interview_view(cur)

    return await db.write(actor, write)


def interview_view(iv: Interview) -> dict[str, Any]:
    from ..clock import utc

    return {"id": iv.id, "stay_id": iv.stay_id, "room_id": iv.room_id, "officer_ids": iv.officer_ids,
            "appropriate_adult": _adult_view(iv.appropriate_adult), "interpreter": iv.interpreter,
            "recording_id": iv.recording_id, "state": iv.state, "started_at": utc(iv.started_at).isoformat(),
            "ended_at": iv.ended_at and utc(iv.ended_at).isoformat(), "gaps": iv.gaps,
            "recording_span": iv.recording_span}


def start_activity(uow: UnitOfWork, ctx: SiteContext, stay_id: str, cmd: StartActivity) -> dict[str, Any]:
    s = uow.session
    stay = load_stay(s, stay_id)
    next_state(StayState(stay.state), "activity_start")
    if cmd.kind != "medical_check":  # the medical check is care, and the pre-transfer check an exit needs
        ensure_within_deadline(stay, uow.now, "activity")
    performer = staff(s, cmd.performed_by_id, field="performed_by_id")
    if cmd.kind == "drug_test":
        check_sampler(stay.sex, performer.sex)
    if cmd.room_id:
        ctx.room(cmd.room_id)
    act = Activity(id=f"act-{uuid.uuid4().hex[:12]}", stay_id=stay.id, kind=cmd.kind,
                   performed_by_id=performer.id, room_id=cmd.room_id, started_at=uow.now)
    move(uow, stay, "activity_start", "activity_started",
         {"activity_id": act.id, "kind": cmd.kind, "performed_by_id": performer.id, "room_id": cmd.room_id},
         room_id=cmd.room_id or stay.room_id, placed_at=uow.now)
    s.add(act)
    return {"activity_id": act.id}


def end_activity(uow: UnitOfWork, activity_id: str, cmd: EndActivity) -> dict[str, Any]:
    s = uow.session
    act = s.get(Activity, activity_id)
    if act is None:
        raise NotFound("activity", activity_id, "活动")
    if act.ended_at is not None:
        raise RuleViolation("ACTIVITY_ENDED", "该活动已结束", "the activity has ended")
    stay = load_stay(s, act.stay_id)
    act.ended_at, act.result = uow.now, cmd.result
    s.add(act)
    move(uow, stay, "activity_end", "activity_ended", {"activity_id": act.id, "kind": act.kind,
                                                        "result": cmd.result},
         room_id=stay.waiting_room_id, placed_at=uow.now)
    return {"activity_id": act.id, "result": act.result}
