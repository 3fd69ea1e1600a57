"""Committed changes followed by device side effects, after the commit: an interview room's door locks for the
interview and unlocks after it; the alarm beacons strobe while a critical alarm is raised. A stay or staff change
also refreshes who wears which wristband (the presence tracker). A device that fails here is logged: the change it
follows is already on the record."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session, select

from devices.base import DeviceError
from devices.registry import DeviceRegistry

from ..domain.alarms import AlarmState
from ..settings import SiteConfig
from ..store.db import Database
from ..store.tables import Alarm, Interview
from .presence import PresenceTracker, Spawn

log = logging.getLogger(__name__)

STAY_CHANGES = frozenset({"stay_registered", "stay_exited", "stay_placed", "interview_started", "interview_ended",
                          "activity_started", "activity_ended", "temporary_leave_started", "stay_searched_on_return",
                          "correction", "staff_tag_set", "exit_started", "appropriate_adult_recorded",
                          "appropriate_adult_left"})
ALARM_CHANGES = frozenset({"alarm_raised", "alarm_acknowledged", "alarm_resolved", "alarm_escalated"})


class Reactions:
    def __init__(self, site: SiteConfig, db: Database, registry: DeviceRegistry, presence: PresenceTracker,
                 spawn: Spawn) -> None:
        self.site, self.db, self.registry, self.presence, self._spawn = site, db, registry, presence, spawn

    def on_committed(self, ev: dict[str, Any]) -> None:
        t = ev.get("type")
        if t in STAY_CHANGES:
            self._spawn(self._after_stay_change(ev))
        elif t in ALARM_CHANGES:
            data = ev.get("data") or {}
            if t == "alarm_resolved":
                self.presence.alarm_resolved(str(data.get("kind")), data.get("details") or {})
            self._spawn(self._beacons())

    async def _after_stay_change(self, ev: dict[str, Any]) -> None:
        await self.presence.refresh_tags()
        self.presence.mark_all_rooms()
        t, data = ev.get("type"), ev.get("data") or {}
        room_id = data.get("room_id")
        room = self.site.room(room_id) if room_id else None
        if room is not None and room.door_lock_id and t == "interview_started":
            await self._door(room.door_lock_id, lock=True)
        if t == "interview_ended":
            def room_of(s: Session) -> str | None:
                iv = s.get(Interview, data.get("interview_id"))
                return iv.room_id if iv is not None else None

            iv_room = await self.db.read(room_of)
            r = self.site.room(iv_room) if iv_room else None
            if r is not None and r.door_lock_id:
                await self._door(r.door_lock_id, lock=False)
        await self.presence.check_rooms()

    async def _door(self, door_id: str, lock: bool) -> None:
        try:
            adapter: Any = self.registry.get(door_id)
            await (adapter.lock() if lock else adapter.unlock())
        except (KeyError, DeviceError) as exc:
            log.warning("door %s not %s: %s", door_id, "locked" if lock else "unlocked", exc)

    async def _beacons(self) -> None:
        critical = await self.db.read(lambda s: s.exec(select(Alarm.id).where(
            Alarm.severity == "critical", Alarm.state == AlarmState.RAISED.value)).first())
        for d in self.site.devices:
            if d.kind != "alarm_beacon":
                continue
            try:
                adapter: Any = self.registry.get(d.id)
                await (adapter.on(pattern="strobe", severity="critical") if critical else adapter.off())
            except (KeyError, DeviceError) as exc:
                log.warning("beacon %s not switched: %s", d.id, exc)
