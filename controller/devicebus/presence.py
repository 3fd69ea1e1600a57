"""Live locations from the wristband readers, and rule 8 on them (《公安机关执法办案管理中心建设规范》: a subject is
never alone with a single officer, never outside the rooms of their stay, never unguarded where a guard is required).

Presence reports arrive at reader rate; only a zone change is published and marks its rooms for a check, and a
burst of changes costs one check of the rooms that changed. Findings become alarms through ``services/alarms.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from devices.wristband_reader.adapter import TagAbsent, TagPresent, TagRemoved

from ..clock import Clock
from ..domain import presence as rules8
from ..domain.actor import Actor
from ..hub import Hub
from ..services import alarms
from ..services.common import OPEN
from ..services.sightings import TagSightings
from ..settings import SiteConfig
from ..store.db import Database, UnitOfWork
from ..store.tables import Alarm, AppropriateAdultRecord, Staff, Stay

SYSTEM = Actor.system("devicebus")
Spawn = Callable[[Coroutine[Any, Any, Any]], None]


@dataclass
class Tag:
    tag_id: str
    zone: str
    seen_at: datetime


@dataclass(frozen=True)
class StayHere:
    case_no: str
    state: str
    allowed: frozenset[str]


class PresenceTracker:
    def __init__(self, site: SiteConfig, db: Database, clock: Clock, hub: Hub, spawn: Spawn,
                 sightings: TagSightings | None = None) -> None:
        self.site, self.db, self.clock, self.hub, self._spawn = site, db, clock, hub, spawn
        self.sightings = sightings if sightings is not None else TagSightings()  # read by the services
        self.tags: dict[str, Tag] = {}
        self.tag_owner: dict[str, tuple[str, str]] = {}  # tag -> ("stay"|"staff"|"officer"|"visitor", id)
        self._stays: dict[str, StayHere] = {}
        self._grace: dict[str, rules8.GraceTracker] = {}
        self._dirty_rooms: set[str] = set()
        self._check_scheduled = False
        self._unknown_alarmed: set[str] = set()

    # --- what the readers report -----------------------------------------------------------------------------

    def on_present(self, ev: TagPresent) -> None:
        now = self.clock.now()
        old = self.tags.get(ev.tag_id)
        self.tags[ev.tag_id] = Tag(ev.tag_id, ev.zone, now)
        self.sightings.saw(ev.tag_id, ev.zone, now)  # e.g. an appropriate adult proven present in a room
        if old is not None and old.zone == ev.zone:
            return  # the same place again: nothing for the API, nothing to check
        owner = self.tag_owner.get(ev.tag_id)
        self.hub.publish([{"type": "location", "tag_id": ev.tag_id, "zone": ev.zone,
                           "from": old.zone if old else None, "owner": owner[0] if owner else None,
                           "owner_id": owner[1] if owner else None, "at": now.isoformat(), "t_sent": ev.ts}])
        self._dirty_rooms.add(ev.zone)
        if old is not None:
            self._dirty_rooms.add(old.zone)
        if owner is None and ev.tag_id not in self._unknown_alarmed:
            self._unknown_alarmed.add(ev.tag_id)  # one DB round trip per unknown tag, not one per report
            self._spawn(self.db.write(SYSTEM, lambda uow: alarms.raise_unless_open(
                uow, "unknown_tag", f"unknown_tag:{ev.tag_id}", room_id=ev.zone, device_id=ev.device_id,
                tag_id=ev.tag_id)))
        self._schedule_check()

    def on_absent(self, ev: TagAbsent) -> None:
        self.sightings.gone(ev.tag_id, ev.zone)
        cur = self.tags.get(ev.tag_id)
        if cur is not None and cur.zone == ev.zone:
            del self.tags[ev.tag_id]
            self._dirty_rooms.add(ev.zone)
            self._schedule_check()

    def on_removed(self, ev: TagRemoved) -> str | None:
        """A wristband cut or taken off: an alarm for its stay. Returns that stay's id."""
        owner = self.tag_owner.get(ev.tag_id)
        stay_id = owner[1] if owner and owner[0] == "stay" else None
        self._spawn(self.db.write(SYSTEM, lambda uow: alarms.raise_unless_open(
            uow, "tag_removed", f"tag_removed:{ev.tag_id}", stay_id=stay_id, room_id=ev.zone, device_id=ev.device_id,
            tag_id=ev.tag_id, reason=ev.reason)))
        return stay_id

    def stays_in(self, room_id: str | None) -> list[str]:
        """The stays whose wristband is in the room now (a panic button names them)."""
        here = sorted(t for t, tag in self.tags.items()
                      if tag.zone == room_id and self.tag_owner.get(t, ("", ""))[0] == "stay")
        return [self.tag_owner[t][1] for t in here]

    def tags_in(self, room_id: str) -> dict[str, datetime]:
        """The tags a reader last reported in ``room_id`` and when (a welfare check's proof of presence)."""
        return {t.tag_id: t.seen_at for t in self.tags.values() if t.zone == room_id}

    def alarm_resolved(self, kind: str, details: dict[str, Any]) -> None:
        if kind == "unknown_tag":
            self._unknown_alarmed.discard(details.get("tag_id") or "")

    # --- rule 8 ----------------------------------------------------------------------------------------------

    def _schedule_check(self) -> None:
        """Coalesces rule-8 checks: a burst of presence events costs one check of the rooms that changed."""
        if not self._check_scheduled:
            self._check_scheduled = True
            asyncio.get_running_loop().call_soon(lambda: self._spawn(self.check_rooms()))

    async def refresh_tags(self) -> None:
        """Who wears which tag, from the open stays and the staff: after every committed change to either."""
        def load(s: Session) -> tuple[dict[str, tuple[str, str]], dict[str, StayHere]]:
            owners: dict[str, tuple[str, str]] = {}
            stays: dict[str, StayHere] = {}
            for st in s.exec(select(Stay).where(col(Stay.state).in_(OPEN))).all():
                if st.wristband_id:
                    owners[st.wristband_id] = ("stay", st.id)
                stays[st.id] = StayHere(st.case_no, st.state,
                                        frozenset(r for r in (st.room_id, st.waiting_room_id) if r))
            for p in s.exec(select(Staff).where(Staff.tag_id != None)).all():  # noqa: E711
                if p.tag_id:
                    owners[p.tag_id] = ("officer" if "case_officer" in p.roles else "staff", p.id)
            # a visitor tag issued to an appropriate adult is known (not an unknown tag), and is neither subject
            # nor staff for rule 8
            for a in s.exec(select(AppropriateAdultRecord).where(AppropriateAdultRecord.tag_id != None,  # noqa: E711
                                                                 AppropriateAdultRecord.left_at == None)).all():  # noqa: E711
                if a.stay_id in stays:  # the tag goes back with the stay's exit
                    owners[str(a.tag_id)] = ("visitor", a.id)
            return owners, stays

        self.tag_owner, self._stays = await self.db.read(load)
        self._unknown_alarmed -= set(self.tag_owner)

    def mark_all_rooms(self) -> None:
        self._dirty_rooms |= {t.zone for t in self.tags.values()}

    async def check_rooms(self, rooms: set[str] | None = None) -> list[rules8.Finding]:
        self._check_scheduled = False
        targets = rooms if rooms is not None else self._dirty_rooms
        self._dirty_rooms = set()
        now = self.clock.now()
        due: list[rules8.Finding] = []
        by_zone: dict[str, list[Tag]] = {}
        for tag in self.tags.values():  # one pass over the tags per check, not one per room
            if tag.zone in targets:
                by_zone.setdefault(tag.zone, []).append(tag)
        for room_id in targets:
            room = self.site.room(room_id)
            if room is None:
                continue
            owners = [self.tag_owner[t.tag_id] for t in by_zone.get(room_id, ()) if t.tag_id in self.tag_owner]
            view = rules8.room_presence(room_id, room.kind, "guard_required" in room.restrictions, owners,
                                        self._stays)
            tracker = self._grace.setdefault(room_id, rules8.GraceTracker())
            due += tracker.update(rules8.findings(view), now)
        for f in due:
            await self.db.write(SYSTEM, _raiser(f))
        return due

    async def tick(self) -> None:
        """From the scheduler: grace periods run out with time even when no tag moves."""
        await self.check_rooms({t.zone for t in self.tags.values()})


def _raiser(f: rules8.Finding) -> Callable[[UnitOfWork], Alarm | None]:
    return lambda uow: alarms.raise_unless_open(uow, f.kind, f.key, stay_id=f.stay_id, room_id=f.room_id, **f.details)
