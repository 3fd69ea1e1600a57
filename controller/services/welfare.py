"""Welfare of each stay: meal and night-rest timers with their ``meal_due`` / ``rest_due`` alarms, the welfare-check
interval by risk with its reasons, and welfare checks accepted only from a checker shown to be in the room.

Rules and sources in ``domain/welfare.py``; intervals in the site file (``[welfare]``, ``[timing]``).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from ..auth import token_hash
from ..clock import utc
from ..domain import welfare as rules
from ..domain.alarms import AlarmState
from ..domain.errors import RuleViolation
from ..domain.stay import StayState
from ..store.db import UnitOfWork
from ..store.tables import Alarm, AuthSession, CareRecord, Kiosk, Staff, Stay
from . import alarms, rooms
from .commands import CareIn, WelfareCheckIn
from .common import OPEN, load_stay, stays_in_states
from .context import SiteContext

# in the secure area: the timers stop while the subject is out on temporary leave
IN_AREA = tuple(s for s in OPEN if s != StayState.ON_TEMPORARY_LEAVE.value)


def night(ctx: SiteContext) -> rules.NightWindow:
    w = ctx.config.welfare
    return rules.NightWindow(start=time.fromisoformat(w.night_rest_start), end=time.fromisoformat(w.night_rest_end),
                             min_rest=timedelta(hours=w.night_rest_min_hours), tz=ZoneInfo(ctx.config.site.timezone))


def _care_times(session: Session, stay_id: str, kind: str) -> list[datetime]:
    return [utc(a) for a in session.exec(select(CareRecord.at).where(CareRecord.stay_id == stay_id,
                                                                     CareRecord.kind == kind)
                                         .order_by(col(CareRecord.at))).all()]


def _last_care(session: Session, stay_ids: list[str]) -> dict[tuple[str, str], datetime]:
    """The last meal and rest of each stay, in one query (the sweep runs every few seconds over every stay)."""
    if not stay_ids:
        return {}
    rows = session.exec(select(CareRecord.stay_id, CareRecord.kind, func.max(CareRecord.at))
                        .where(col(CareRecord.stay_id).in_(stay_ids), col(CareRecord.kind).in_(["meal", "rest"]))
                        .group_by(col(CareRecord.stay_id), col(CareRecord.kind))).all()
    return {(sid, kind): utc(at) for sid, kind, at in rows}


def meal_due(ctx: SiteContext, stay: Stay, last_meal: datetime | None) -> datetime:
    return rules.meal_due_at(last_meal or utc(stay.entered_at),
                             timedelta(hours=ctx.config.welfare.meal_interval_hours), night(ctx))


def rest_due(ctx: SiteContext, stay: Stay, now: datetime, last_rest: datetime | None) -> datetime | None:
    return rules.rest_due_at(utc(stay.entered_at), now, night(ctx), [last_rest] if last_rest else [])


def status(session: Session, ctx: SiteContext, stay_id: str, now: datetime) -> dict[str, Any]:
    """``GET /stays/{id}/welfare``: the meal and rest timers and the welfare-check interval with its reasons."""
    stay = load_stay(session, stay_id)
    w = ctx.config.welfare
    meals = _care_times(session, stay.id, "meal")
    rests = _care_times(session, stay.id, "rest")
    nw = night(ctx)
    window = nw.around(now)
    in_area = stay.state in IN_AREA
    open_kinds = set(session.exec(select(Alarm.kind).where(Alarm.stay_id == stay.id, col(Alarm.kind).in_(
        ["meal_due", "rest_due"]), Alarm.state != AlarmState.RESOLVED.value)).all())
    room_due = (alarms.next_welfare_due(session, ctx, stay.room_id)
                if stay.room_id and ctx.config.room(stay.room_id) is not None else None)
    rest_at = rest_due(ctx, stay, now, rests[-1] if rests else None) if in_area else None
    return {
        "stay_id": stay.id, "now": now.isoformat(), "active": in_area,
        "meal": {"interval_hours": w.meal_interval_hours, "last_at": meals[-1].isoformat() if meals else None,
                 "due_at": meal_due(ctx, stay, meals[-1] if meals else None).isoformat() if in_area else None,
                 "alarm_open": "meal_due" in open_kinds},
        "rest": {"window": {"start": w.night_rest_start, "end": w.night_rest_end},
                 "min_hours": w.night_rest_min_hours, "in_window": window is not None,
                 "window_ends_at": window[1].isoformat() if window else None,
                 "next_window_at": nw.next_start(now).isoformat(),
                 "last_at": rests[-1].isoformat() if rests else None,
                 "due_at": rest_at.isoformat() if rest_at else None, "alarm_open": "rest_due" in open_kinds},
        "welfare_check": {**alarms.check_interval(ctx, [stay]).view(),
                          "room_id": stay.room_id, "room_next_due": room_due.isoformat() if room_due else None},
    }


def _open_alarm(session: Session, kind: str, stay_id: str) -> bool:
    return session.exec(select(Alarm.id).where(Alarm.kind == kind, Alarm.stay_id == stay_id,
                                               Alarm.state != AlarmState.RESOLVED.value)).first() is not None


def sweep(uow: UnitOfWork, ctx: SiteContext) -> int:
    """Raises ``meal_due`` and ``rest_due`` for each stay in the area whose meal or night rest is late; at most one
    open alarm per stay and kind (a recorded meal or rest resolves it)."""
    s, now, changes = uow.session, uow.now, 0
    stays = stays_in_states(s, IN_AREA)
    last = _last_care(s, [st.id for st in stays])
    for stay in stays:
        due_meal = meal_due(ctx, stay, last.get((stay.id, "meal")))
        if now >= due_meal and not _open_alarm(s, "meal_due", stay.id):
            if alarms.raise_alarm(uow, "meal_due", f"meal_due:{stay.id}:{due_meal.isoformat()}", stay_id=stay.id,
                                  room_id=stay.room_id, due_at=due_meal.isoformat(),
                                  source="《刑事诉讼法》第119条第3款"):
                changes += 1
        due_rest = rest_due(ctx, stay, now, last.get((stay.id, "rest")))
        if due_rest is not None and now >= due_rest and not _open_alarm(s, "rest_due", stay.id):
            if alarms.raise_alarm(uow, "rest_due", f"rest_due:{stay.id}:{due_rest.isoformat()}", stay_id=stay.id,
                                  room_id=stay.room_id, due_at=due_rest.isoformat(),
                                  min_hours=ctx.config.welfare.night_rest_min_hours,
                                  source="《刑事诉讼法》第119条第3款"):
                changes += 1
    return changes


def record_care(uow: UnitOfWork, ctx: SiteContext, stay_id: str, cmd: CareIn) -> dict[str, Any]:
    """A meal, water, rest... given (recorded by whoever is signed in); a meal or rest resolves its alarm."""
    out = rooms.care(uow, stay_id, cmd)
    if cmd.kind in ("meal", "rest"):
        note = "已供餐 / meal given" if cmd.kind == "meal" else "已安排休息 / rest given"
        alarms.resolve_matching(uow, note, kinds=[f"{cmd.kind}_due"], stay_id=stay_id)
    return out


def room_has_reader(ctx: SiteContext, room_id: str) -> bool:
    return any(d.kind == "wristband_reader" and d.room_id == room_id for d in ctx.config.devices)


def presence(session: Session, ctx: SiteContext, room_id: str, staff_id: str, tags_here: dict[str, datetime],
             session_token: str | None) -> rules.Presence:
    """What is known, now, of the signed-in checker in ``room_id``: their own tag (from the staff record) and when
    a reader last reported it there (``tags_here``, the devicebus's live view), or the room of the kiosk the session
    was opened on (an enrolled, unrevoked kiosk: its token was checked at sign-in)."""
    person = session.get(Staff, staff_id)
    tag = person.tag_id if person is not None else None
    kiosk_room = None
    if session_token is not None:
        sess = session.get(AuthSession, token_hash(session_token))
        kiosk = session.get(Kiosk, sess.kiosk_id) if sess is not None and sess.kiosk_id else None
        if kiosk is not None and not kiosk.revoked:
            kiosk_room = kiosk.room_id
    return rules.Presence(room_has_reader=room_has_reader(ctx, room_id), staff_tag_id=tag,
                          tag_seen_at=tags_here.get(tag) if tag else None, kiosk_room_id=kiosk_room)


def record_check(uow: UnitOfWork, ctx: SiteContext, room_id: str, cmd: WelfareCheckIn,
                 tags_here: dict[str, datetime], session_token: str | None) -> dict[str, Any]:
    """A welfare check by the signed-in staff member, accepted only when they are shown to be in the room."""
    room = ctx.room(room_id)
    if room.kind not in ("waiting", "sobering"):
        raise RuleViolation("ROOM_NOT_HOLDING", "该房间不是候问室", "not a waiting or sobering room")
    p = presence(uow.session, ctx, room_id, uow.actor.id, tags_here, session_token)
    shown_by = rules.check_present(room_id, p, uow.now, timedelta(seconds=ctx.config.welfare.presence_window_s))
    return rooms.welfare_check(uow, ctx, room_id, cmd, shown_by=shown_by)
