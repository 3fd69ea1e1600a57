"""Alarm use cases: raise (deduplicated), acknowledge, resolve, escalate, repeat; and the periodic sweep of timers.

``sweep`` is what the scheduler runs: it derives every due timer from the database (deadline warnings and
overdue alarms, late welfare checks, unacknowledged escalation), so restarting the process loses nothing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from ..clock import utc
from ..domain import alarms as rules
from ..domain import welfare as welfare_rules
from ..domain.alarms import ALARM_KINDS, AlarmState
from ..domain.errors import NotFound
from ..domain.rules import warning_marks
from ..store.db import UnitOfWork
from ..store.tables import Alarm, Stay, WelfareCheck
from .common import OPEN, occupants, stays_in_states
from .context import SiteContext


def alarm_view(a: Alarm) -> dict[str, Any]:
    sev, zh, en = ALARM_KINDS.get(a.kind, (a.severity, a.kind, a.kind))
    return {"id": a.id, "kind": a.kind, "severity": a.severity, "title": zh, "title_en": en, "stay_id": a.stay_id,
            "room_id": a.room_id, "device_id": a.device_id, "raised_at": utc(a.raised_at).isoformat(),
            "state": a.state, "acknowledged_by": a.acknowledged_by,
            "acknowledged_at": a.acknowledged_at and utc(a.acknowledged_at).isoformat(),
            "resolved_by": a.resolved_by, "resolved_at": a.resolved_at and utc(a.resolved_at).isoformat(),
            "note": a.note, "escalated": a.escalated_at is not None, "repeat_count": a.repeat_count,
            "occurrences": a.occurrences,
            "details": a.details}


def raise_alarm(uow: UnitOfWork, kind: str, dedup_key: str, *, stay_id: str | None = None,
                room_id: str | None = None, device_id: str | None = None, **details: Any) -> Alarm | None:
    """Raises an alarm once per ``dedup_key``; a second raise of the same condition is a no-op."""
    if kind not in ALARM_KINDS:
        raise ValueError(f"unknown alarm kind {kind}")
    if uow.session.exec(select(Alarm.id).where(Alarm.dedup_key == dedup_key)).first() is not None:
        return None
    alarm = Alarm(id=f"alm-{uuid.uuid4().hex[:12]}", kind=kind, severity=rules.severity_of(kind),
                  state=AlarmState.RAISED.value, dedup_key=dedup_key, stay_id=stay_id, room_id=room_id,
                  device_id=device_id, details=details, raised_at=uow.now, last_notified_at=uow.now)
    uow.session.add(alarm)
    uow.session.flush()
    uow.record("alarm_raised", entity="alarm", entity_id=alarm.id, stay_id=stay_id, after=alarm_view(alarm))
    return alarm


def raise_or_count(uow: UnitOfWork, kind: str, key: str, count: int = 1, *, stay_id: str | None = None,
                   room_id: str | None = None, device_id: str | None = None, **details: Any) -> Alarm:
    """One open alarm per device condition ``key``: the first occurrence raises it, later ones (``count`` at once)
    add to its ``occurrences`` until it is resolved; after that the condition raises a new alarm."""
    open_ = uow.session.exec(select(Alarm).where(Alarm.kind == kind, col(Alarm.dedup_key).startswith(key + "@"),
                                                 Alarm.state != AlarmState.RESOLVED.value)).first()
    if open_ is not None:
        before = open_.occurrences
        open_.occurrences = before + count
        uow.session.add(open_)
        uow.record("alarm_repeated", entity="alarm", entity_id=open_.id, stay_id=open_.stay_id,
                   before={"occurrences": before}, after=alarm_view(open_))
        return open_
    alarm = raise_alarm(uow, kind, f"{key}@{uuid.uuid4().hex[:12]}", stay_id=stay_id, room_id=room_id,
                        device_id=device_id, **details)
    assert alarm is not None  # a fresh dedup key
    if count > 1:
        alarm.occurrences = count
        uow.session.add(alarm)
    return alarm


log = logging.getLogger(__name__)
Writer = Callable[[Callable[[UnitOfWork], Any]], Awaitable[Any]]


def _count_into(uow: UnitOfWork, *, kind: str, key: str, count: int, args: dict[str, Any]) -> Alarm:
    return raise_or_count(uow, kind, key, count, **args)


class AlarmGate:
    """Device alarms under a flood: at most one database write in flight per device condition.

    ``note(kind, key)`` counts an occurrence in memory; the first starts a write of :func:`raise_or_count`, and
    occurrences arriving while it runs are folded into one more write with their count. 5,000 presses of one panic
    button are one alarm with ``occurrences`` 5000 and a handful of writes, not 5,000 writes queued in front of
    every other request. The pending map holds one entry per condition (duplicates are merged, never queued), so
    its size is bounded by the site's devices and kinds; past ``max_conditions`` distinct conditions a new one is
    still written (it may be the critical one) but the oldest pending duplicate count is shed into the log.
    """

    def __init__(self, write: Writer, *, max_conditions: int = 4096) -> None:
        self._write = write
        self._max = max_conditions
        self._pending: dict[str, tuple[str, int, dict[str, Any]]] = {}  # key -> (kind, count, raise args)
        self._busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.noted = 0
        self.writes = 0

    def note(self, kind: str, key: str, count: int = 1, **args: Any) -> bool:
        """Counts ``count`` occurrences of condition ``key``; True when this one starts a new write (the caller
        may then announce it live), False when it was folded into one already under way."""
        self.noted += count
        pending = self._pending.get(key)
        if pending is not None:
            self._pending[key] = (kind, pending[1] + count, pending[2])
            return False
        if len(self._pending) >= self._max:
            old_key = next(iter(self._pending))
            old = self._pending.pop(old_key)
            log.warning("alarm gate full: %d further occurrences of %s only logged", old[1], old_key)
        self._pending[key] = (kind, count, args)
        if key in self._busy:
            return False
        self._busy.add(key)
        task = asyncio.get_running_loop().create_task(self._flush(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _flush(self, key: str) -> None:
        try:
            while key in self._pending:
                kind, count, args = self._pending.pop(key)
                self.writes += 1
                try:
                    await self._write(functools.partial(_count_into, kind=kind, key=key, count=count, args=args))
                except Exception:
                    log.exception("alarm %s (%d occurrences) not written", key, count)
        finally:
            self._busy.discard(key)

    async def drain(self) -> None:
        """Waits until every noted occurrence is written (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _load(session: Session, alarm_id: str) -> Alarm:
    a = session.get(Alarm, alarm_id)
    if a is None:
        raise NotFound("alarm", alarm_id, "报警")
    return a


def acknowledge(uow: UnitOfWork, alarm_id: str) -> dict[str, Any]:
    a = _load(uow.session, alarm_id)
    a.state = rules.acknowledge(AlarmState(a.state)).value
    a.acknowledged_by, a.acknowledged_at = uow.actor.id, uow.now
    uow.session.add(a)
    uow.record("alarm_acknowledged", entity="alarm", entity_id=a.id, stay_id=a.stay_id,
               before={"state": "raised"}, after=alarm_view(a))
    return alarm_view(a)


def resolve(uow: UnitOfWork, alarm_id: str, note: str) -> dict[str, Any]:
    a = _load(uow.session, alarm_id)
    before = a.state
    a.state = rules.resolve(AlarmState(a.state), note).value
    a.resolved_by, a.resolved_at, a.note = uow.actor.id, uow.now, note
    uow.session.add(a)
    uow.record("alarm_resolved", entity="alarm", entity_id=a.id, stay_id=a.stay_id, before={"state": before},
               after=alarm_view(a))
    return alarm_view(a)


def resolve_matching(uow: UnitOfWork, note: str, *, kinds: list[str], stay_id: str | None = None,
                     room_id: str | None = None, device_id: str | None = None) -> int:
    """Resolves open alarms a later action made moot (a welfare check done, a deadline extended)."""
    q = select(Alarm).where(col(Alarm.kind).in_(kinds), Alarm.state != AlarmState.RESOLVED.value)
    if stay_id is not None:
        q = q.where(Alarm.stay_id == stay_id)
    if room_id is not None:
        q = q.where(Alarm.room_id == room_id)
    if device_id is not None:
        q = q.where(Alarm.device_id == device_id)
    n = 0
    for a in uow.session.exec(q).all():
        before = a.state
        a.state, a.resolved_by, a.resolved_at, a.note = AlarmState.RESOLVED.value, uow.actor.id, uow.now, note
        uow.session.add(a)
        uow.record("alarm_resolved", entity="alarm", entity_id=a.id, stay_id=a.stay_id, before={"state": before},
                   after=alarm_view(a))
        n += 1
    return n


def list_alarms(session: Session, state: str | None = None, stay_id: str | None = None,
                limit: int = 500) -> list[dict[str, Any]]:
    q = select(Alarm)
    if state == "open":
        q = q.where(Alarm.state != AlarmState.RESOLVED.value)
    elif state:
        q = q.where(Alarm.state == state)
    if stay_id:
        q = q.where(Alarm.stay_id == stay_id)
    return [alarm_view(a) for a in session.exec(q.order_by(col(Alarm.raised_at).desc()).limit(limit)).all()]


def risk_minutes(ctx: SiteContext) -> dict[str, int]:
    """The site's welfare-check interval per risk (minutes); see ``domain/welfare.py``."""
    w, t = ctx.config.welfare, ctx.timing
    return {"self_harm_risk": w.check_self_harm_risk_minutes, "intoxicated": t.welfare_interval_intoxicated_minutes,
            "minor": w.check_minor_minutes, "pregnant": w.check_pregnant_minutes, "ill": w.check_ill_minutes,
            "injured": w.check_injured_minutes}


def check_interval(ctx: SiteContext, stays: list[Stay]) -> welfare_rules.CheckInterval:
    """The interval of the shortest risk among ``stays`` (else the site default), with the risks behind it."""
    return welfare_rules.check_interval((welfare_rules.risks(s.flags, s.is_minor) for s in stays),
                                        ctx.timing.welfare_interval_minutes, risk_minutes(ctx))


def welfare_interval(ctx: SiteContext, stays: list[Stay]) -> timedelta:
    return timedelta(minutes=check_interval(ctx, stays).minutes)


def next_welfare_due(session: Session, ctx: SiteContext, room_id: str, stays: list[Stay] | None = None):  # type: ignore[no-untyped-def]
    """When the next look into an occupied holding room is due: the last check (or first arrival) + interval."""
    stays = occupants(session, room_id) if stays is None else stays
    present = [s for s in stays if s.room_id == room_id]
    if not present:
        return None
    last = session.exec(select(WelfareCheck.at).where(WelfareCheck.room_id == room_id)
                        .order_by(col(WelfareCheck.at).desc()).limit(1)).first()
    since = min(utc(s.placed_at) for s in present if s.placed_at) if any(s.placed_at for s in present) else None
    start = max(filter(None, [last and utc(last), since]), default=None)
    return start + welfare_interval(ctx, present) if start else None


def sweep(uow: UnitOfWork, ctx: SiteContext) -> int:
    """Raises every alarm whose time has come; escalates and repeats unacknowledged ones. Returns changes made."""
    now, t, changes = uow.now, ctx.timing, 0
    s = uow.session
    for stay in stays_in_states(s, OPEN):
        deadline = utc(stay.deadline_at)
        key = deadline.isoformat()
        if now >= deadline:
            if raise_alarm(uow, "deadline_overdue", f"overdue:{stay.id}:{key}", stay_id=stay.id,
                           room_id=stay.room_id, deadline_at=key):
                changes += 1
            continue
        for minutes, at in warning_marks(deadline, t.warning_marks_minutes):
            if now >= at and now < deadline:
                # only the nearest passed mark raises; earlier marks passed while down are folded into it
                later = [m for m, a2 in warning_marks(deadline, t.warning_marks_minutes) if now >= a2 and m < minutes]
                if later:
                    continue
                if raise_alarm(uow, "deadline_warning", f"warn:{stay.id}:{key}:{minutes}", stay_id=stay.id,
                               room_id=stay.room_id, deadline_at=key, minutes_before=minutes):
                    changes += 1
    for room in ctx.config.rooms:
        if room.kind not in ("waiting", "sobering"):
            continue
        present = [st for st in occupants(s, room.id, sweep=True) if st.room_id == room.id]
        due = next_welfare_due(s, ctx, room.id, present)
        if due is not None and now > due:
            # the reasons the interval is what it is go with the alarm, so the guard sees why it was due
            why = check_interval(ctx, present).view()
            if raise_alarm(uow, "welfare_check_late", f"welfare:{room.id}:{due.isoformat()}", room_id=room.id,
                           due_at=due.isoformat(), interval_minutes=why["minutes"], reasons=why["reasons"]):
                changes += 1
    limit = timedelta(minutes=t.alarm_escalation_minutes)
    repeat = timedelta(minutes=t.overdue_repeat_minutes)
    # the details (JSON) are read only for the few escalated or repeated
    for a in s.exec(select(Alarm).where(Alarm.state == AlarmState.RAISED.value)
                    .options(defer(Alarm.details))).all():  # type: ignore[arg-type]
        if rules.due_for_escalation(AlarmState(a.state), utc(a.raised_at), a.escalated_at is not None, now, limit):
            a.escalated_at = now
            s.add(a)
            uow.record("alarm_escalated", entity="alarm", entity_id=a.id, stay_id=a.stay_id,
                       after={**alarm_view(a), "to_role": "supervisor"})
            changes += 1
        elif a.kind == "deadline_overdue" and rules.due_for_repeat(AlarmState(a.state), utc(a.last_notified_at),
                                                                    now, repeat):
            a.last_notified_at, a.repeat_count = now, a.repeat_count + 1
            s.add(a)
            uow.record("alarm_repeated", entity="alarm", entity_id=a.id, stay_id=a.stay_id, after=alarm_view(a))
            changes += 1
    return changes


def raise_unless_open(uow: UnitOfWork, kind: str, key: str, *, stay_id: str | None = None,
                      room_id: str | None = None, device_id: str | None = None, **details: Any) -> Alarm | None:
    """One open alarm per condition (``key``): a condition that persists raises again only after the previous
    alarm for it was resolved (device offline, door forced, rule-8 findings, unknown or removed tags)."""
    open_ = uow.session.exec(select(Alarm.id).where(Alarm.kind == kind, col(Alarm.dedup_key).startswith(key + "@"),
                                                    Alarm.state != AlarmState.RESOLVED.value)).first()
    if open_ is not None:
        return None
    return raise_alarm(uow, kind, f"{key}@{uuid.uuid4().hex[:12]}", stay_id=stay_id, room_id=room_id,
                       device_id=device_id, **details)
