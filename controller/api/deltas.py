"""Typed deltas for the live socket: after a commit, the current REST shape of what it changed.

The hub carries committed changes as the unit of work records them (``stay_placed``, ``alarm_raised`` …: the sync
feed's shape). A page that only knew those would have to load ``/rooms``, ``/stays`` and ``/alarms`` again after each
one. ``LiveDeltas`` listens to the hub instead and, once per burst of commits, reads the changed stays, alarms,
approvals and rooms as the REST lists show them and delivers one typed delta per changed thing (docs/API.md
"WebSocket"): the page replaces its copy of that thing and needs no reload.

- ``stay.updated`` {stay}: the ``GET /stays`` row (an exited stay too: it leaves the open list)
- ``room.occupancy`` {room}: the ``GET /rooms`` row, only for rooms whose row changed
- ``alarm.raised`` / ``alarm.updated`` / ``alarm.resolved`` {alarm}: the ``GET /alarms`` row
- ``approval.requested`` / ``approval.updated`` {approval}: the ``GET /approvals`` row
- ``presence.moved`` {stay_id | staff_id, room_id, from_room_id}: a wristband seen in another room
- ``device.availability`` {device}: a device's availability changed

Deltas go through the same per-role filter as every other live event (``visibility.live_filter`` and, for a case
officer limited to his cases, ``visibility.case_scope``), each socket numbering what it sends (``hub.Feed``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from ..services import alarms, approvals, rooms, views
from ..store.tables import Alarm, Approval, Stay

log = logging.getLogger(__name__)
VERSION = 1
Event = dict[str, Any]


@dataclass
class Touched:
    """What the commits since the last read changed."""

    stays: set[str] = field(default_factory=set)
    alarms: set[str] = field(default_factory=set)
    raised: set[str] = field(default_factory=set)  # alarms first raised by one of these commits
    approvals: set[str] = field(default_factory=set)
    requested: set[str] = field(default_factory=set)  # approvals first asked for by one of these commits
    rooms: bool = False

    def __bool__(self) -> bool:
        return bool(self.stays or self.alarms or self.approvals or self.rooms)


class LiveDeltas:
    """Collects what committed changes touched and delivers the deltas; keeps the last room rows (to send only the
    rooms that changed) and the last place of every wristband (to tell a socket that opens where everyone is)."""

    def __init__(self, container: Any) -> None:
        self.c = container
        self._touched = Touched()
        self._rooms: dict[str, Event] | None = None  # room id -> the row last delivered
        self.locations: dict[str, Event] = {}  # tag id -> its last presence.moved
        self._task: asyncio.Task[None] | None = None
        self.flushes = 0
        container.hub.on_event(self._on_event)

    # --- the hub's events -----------------------------------------------------------------------------------

    def _on_event(self, ev: Event) -> None:
        kind = ev.get("type")
        if kind == "location":
            self._moved(ev)
        elif kind == "device_availability":
            self.c.hub.deliver([self._device(ev)])
        elif "entity" in ev:  # a committed change (UnitOfWork.record)
            t = self._touched
            entity, entity_id, stay_id = ev.get("entity"), ev.get("entity_id"), ev.get("stay_id")
            if stay_id:
                t.stays.add(str(stay_id))
            if entity == "stay" and entity_id:
                t.stays.add(str(entity_id))
            elif entity == "alarm" and entity_id:
                t.alarms.add(str(entity_id))
                if kind == "alarm_raised":
                    t.raised.add(str(entity_id))
            elif entity == "approval" and entity_id:
                t.approvals.add(str(entity_id))
                if kind == "approval_requested":
                    t.requested.add(str(entity_id))
            # who is in which room, places taken and welfare checks due all follow from stays and checks
            t.rooms = True
            self._schedule()

    def _moved(self, ev: Event) -> None:
        owner, owner_id = ev.get("owner"), ev.get("owner_id")
        delta: Event = {"type": "presence.moved", "v": VERSION, "tag_id": ev.get("tag_id"),
                        "owner": "stay" if owner == "stay" else ("staff" if owner else None),
                        "stay_id": owner_id if owner == "stay" else None,
                        "staff_id": owner_id if owner and owner != "stay" else None,
                        "room_id": ev.get("zone"), "from_room_id": ev.get("from"), "at": ev.get("at")}
        self.locations[str(ev.get("tag_id"))] = delta
        self.c.hub.deliver([delta])

    def _device(self, ev: Event) -> Event:
        spec = next((d for d in self.c.site.devices if d.id == ev.get("device_id")), None)
        return {"type": "device.availability", "v": VERSION, "at": ev.get("at"),
                "device": {"id": ev.get("device_id"), "kind": ev.get("kind"),
                           "room_id": spec.room_id if spec is not None else None,
                           "availability": ev.get("availability"), "detail": ev.get("detail")}}

    def replay(self, offer: Any) -> None:
        """Where every wristband was last seen, offered to one new socket (through its own filter)."""
        for delta in list(self.locations.values()):
            offer(delta)

    # --- reading what changed --------------------------------------------------------------------------------

    def _schedule(self) -> None:
        """One flush in flight at a time: commits arriving meanwhile are read by its next round, in order."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._touched:
            touched, self._touched = self._touched, Touched()
            try:
                events = await self.c.db.read(functools.partial(self._read, touched=touched))
            except Exception:  # a read that failed (shutdown, a locked file): pages reload on their next connect
                log.warning("live deltas not read", exc_info=True)
                return
            self.flushes += 1
            gone = {e["stay"]["id"] for e in events if e["type"] == "stay.updated" and e["stay"]["state"] == "exited"}
            if gone:  # the wristband comes off at exit: no longer anyone's place (on the loop, like _moved)
                self.locations = {t: loc for t, loc in self.locations.items() if loc.get("stay_id") not in gone}
            if events:
                self.c.hub.deliver(events)

    def _read(self, s: Session, touched: Touched) -> list[Event]:
        now = self.c.clock.now()
        at = now.isoformat()
        out: list[Event] = []
        rows = [st for st in (s.get(Stay, sid) for sid in sorted(touched.stays)) if st is not None]
        for row in views.stay_rows(s, rows):
            out.append({"type": "stay.updated", "v": VERSION, "at": at, "stay": row})
        for aid in sorted(touched.alarms):
            a = s.get(Alarm, aid)
            if a is None:
                continue
            view = alarms.alarm_view(a)
            kind = ("alarm.resolved" if view["state"] == "resolved" else
                    "alarm.raised" if aid in touched.raised else "alarm.updated")
            out.append({"type": kind, "v": VERSION, "at": at, "alarm": view})
        for apid in sorted(touched.approvals):
            ap = s.get(Approval, apid)
            if ap is not None:
                out.append({"type": "approval.requested" if apid in touched.requested else "approval.updated",
                            "v": VERSION, "at": at, "approval": approvals.view(ap, now)})
        if touched.rooms:  # only the rooms whose row changed (all of them the first time: nothing to compare)
            current = {r["id"]: r for r in rooms.list_rooms(s, self.c.ctx)}
            last = self._rooms
            out += [{"type": "room.occupancy", "v": VERSION, "at": at, "room": room}
                    for rid, room in current.items() if last is None or last.get(rid) != room]
            self._rooms = current
        return out
