"""The devicebus: device events -> service calls and live events; committed changes -> device commands.

It owns the device registry, fills the services' ports (recorder, lock board), keeps live locations from the
wristband readers and checks rule 8 on them, and follows committed changes with side effects: interview-room
doors lock for an interview, beacons light for critical alarms. Device side effects run after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from devices.base import Availability, AvailabilityChanged, DeviceError, DeviceEvent, DeviceUnavailable
from devices.registry import DeviceRegistry, DeviceSpec, RegistryContext

from .domain import presence as rules8
from .domain.alarms import AlarmState
from .services import alarms, interviews, lockers
from .services.common import OPEN
from .services.ports import NoDevice, RecordingNotConfirmed
from .store.db import Actor
from .store.tables import Alarm, Interview, Staff, Stay

log = logging.getLogger(__name__)
SYSTEM = Actor.system("devicebus")


@dataclass
class Tag:
    tag_id: str
    zone: str
    seen_at: datetime


class DeviceRecorderPort:
    """Rule 3 through the room's recorder: a recording id only on the recorder's own confirmation."""

    def __init__(self, bus: DeviceBus) -> None:
        self.bus = bus

    def _adapter(self, room_id: str) -> Any:
        room = self.bus.c.site.room(room_id)
        if room is None or room.recorder_id is None:
            raise RecordingNotConfirmed("该房间未配置录像设备 / no recorder configured for this room", room_id=room_id)
        try:
            return self.bus.registry.get(room.recorder_id)
        except KeyError as exc:
            raise RecordingNotConfirmed(f"录像设备不可用 / recorder unavailable: {exc}", room_id=room_id) from None

    async def start(self, room_id: str, stay_id: str) -> str:
        adapter = self._adapter(room_id)
        try:
            result = await adapter.start_recording(room_id, stay_id)
        except DeviceError as exc:
            raise RecordingNotConfirmed(f"{exc.message_zh} / {exc}", room_id=room_id, device_code=exc.code) from None
        return str(result.recording_id)

    async def stop(self, room_id: str, recording_id: str) -> dict[str, Any]:
        result = await self._adapter(room_id).stop_recording(recording_id)
        return {"recording_id": result.recording_id, "started_at": str(result.started_at),
                "ended_at": str(result.ended_at), "stop_confirmed": True}


class DeviceLockerPort:
    """Opens one compartment; the opening is expected for a while so the board's report is not 'forced'."""

    def __init__(self, bus: DeviceBus) -> None:
        self.bus = bus

    async def open(self, locker_id: str) -> None:
        where = self.bus.lockers.get(locker_id)
        if where is None:
            raise NoDevice(f"locker {locker_id} is on no lock board")
        bus_id, board, channel = where
        try:
            adapter: Any = self.bus.registry.get(bus_id)
        except KeyError:
            raise DeviceUnavailable(f"lock board {bus_id} is not running", device_id=bus_id) from None
        self.bus.expected_open[locker_id] = self.bus.c.clock.now() + timedelta(seconds=60)
        await adapter.unlock(board, channel)


class DeviceBus:
    def __init__(self, container: Any) -> None:
        self.c = container
        self.lockers: dict[str, tuple[str, int, int]] = {lid: (b.bus, b.address, ch)
                                                         for lid, b, ch in container.site.locker_ids()}
        self._by_position = {v: k for k, v in self.lockers.items()}
        self.expected_open: dict[str, datetime] = {}
        self.tags: dict[str, Tag] = {}
        self.tag_owner: dict[str, tuple[str, str]] = {}  # tag -> ("stay"|"staff", id)
        self._stays: dict[str, dict[str, Any]] = {}
        self.cards: dict[str, dict[str, Any]] = {}  # reader id -> last card read (kept in memory only)
        self.transits: dict[str, deque[dict[str, Any]]] = {}
        self._grace: dict[str, rules8.GraceTracker] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._dirty_rooms: set[str] = set()
        self._check_scheduled = False
        self.events_in = 0
        self.availability: dict[str, Availability] = {}
        self._unknown_alarmed: set[str] = set()
        self._starting: asyncio.Task[None] | None = None
        self.registry = DeviceRegistry(container.site.devices, self.on_device_event, site=container.site.site.id,
                                       factories={"lock_board": self._lock_board_factory},
                                       mqtt_username=container.site.mqtt.username,
                                       mqtt_password=_read_secret(container.site.mqtt.password_file))

    # --- construction --------------------------------------------------------------------------------------

    def _lock_board_factory(self, spec: DeviceSpec, ctx: RegistryContext) -> Any:
        from devices.lock_board.adapter import LockBoardAdapter
        from devices.lock_board.protocol import BoardSpec

        boards = [BoardSpec(address=b.address, channels=b.channels, latch_polarity=b.latch_polarity)
                  for b in self.c.site.locker_banks if b.bus == spec.id]
        return LockBoardAdapter(spec.id, spec.url, spec.options, boards=boards, on_event=ctx.sink)

    async def start(self) -> None:
        await self.refresh_tags()
        self.c.hub.on_event(self.on_committed)
        self.c.scheduler.extra.append(self.tick)
        # Connecting may take a while when a broker or port is absent: the API serves meanwhile (devices show
        # offline, and refuse commands with DEVICE_UNAVAILABLE) instead of holding up start-up.
        self._starting = asyncio.get_running_loop().create_task(self.registry.start_all(), name="devices-start")

    async def stop(self) -> None:
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._starting
        await self.registry.stop_all()
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        # the scheduler may run once more; keep tick harmless after stop
        with contextlib.suppress(ValueError):
            self.c.scheduler.extra.remove(self.tick)

    def snapshot(self) -> list[dict[str, Any]]:
        out = self.registry.snapshot()
        for row in out:
            ls = row.get("last_seen")
            row["last_seen"] = (datetime.fromtimestamp(ls).astimezone().isoformat()
                                if isinstance(ls, (int, float)) and ls > 1e9 else None)
        return out

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("devicebus task failed: %r", task.exception())

    def _live(self, ev: DeviceEvent, event: str, data: dict[str, Any], room_id: str | None = None) -> None:
        self.c.hub.publish([{"type": "device_event", "device_id": ev.device_id, "kind": ev.kind, "event": event,
                             "room_id": room_id or self._room_of(ev.device_id), "data": data,
                             "at": self.c.clock.now().isoformat()}])

    def _room_of(self, device_id: str) -> str | None:
        for d in self.c.site.devices:
            if d.id == device_id:
                return d.room_id
        return None

    # --- device events -> services -------------------------------------------------------------------------

    def on_device_event(self, ev: DeviceEvent) -> None:
        self.events_in += 1
        name = type(ev).__name__
        handler = getattr(self, f"_on_{name}", None)
        if handler is not None:
            handler(ev)
        elif isinstance(ev, AvailabilityChanged):
            self._on_AvailabilityChanged(ev)

    def _on_AvailabilityChanged(self, ev: AvailabilityChanged) -> None:
        self.c.hub.publish([{"type": "device_availability", "device_id": ev.device_id, "kind": ev.kind,
                             "availability": Availability(ev.availability).value, "detail": ev.detail,
                             "at": self.c.clock.now().isoformat()}])
        spec = next((d for d in self.c.site.devices if d.id == ev.device_id), None)
        if spec is not None and not spec.url.startswith("mqtt://"):
            self._announce(ev)
        if spec is None or not spec.required:
            return
        self.availability[ev.device_id] = Availability(ev.availability)
        if ev.availability == Availability.OFFLINE:
            self._spawn(self._offline_after_grace(ev.device_id, ev.kind, spec.room_id, ev.detail))
        elif ev.availability == Availability.ONLINE:
            self._spawn(self.c.db.write(SYSTEM, lambda uow: alarms.resolve_matching(
                uow, "设备已恢复在线 / device back online", kinds=["device_offline"], device_id=ev.device_id)))

    def _announce(self, ev: AvailabilityChanged) -> None:
        """Serial devices and cameras have no MQTT client of their own: the controller publishes their
        availability (retained) under their topics, so the site's MQTT view covers every device."""
        from devices import mqtt_proto

        for link in self.registry.links[:1]:
            site = self.c.site.site.id
            up = ev.availability != Availability.OFFLINE
            link.publish(mqtt_proto.availability_topic(site, ev.kind, ev.device_id), "online" if up else "offline",
                         retain=True)
            link.publish(mqtt_proto.device_topic(site, ev.kind, ev.device_id, "state"), json.dumps(
                {"v": 1, "availability": Availability(ev.availability).value, "detail": ev.detail}), retain=True)

    async def _offline_after_grace(self, device_id: str, kind: str, room_id: str | None, detail: str) -> None:
        """A device must stay offline for the grace period (real seconds) before it alarms: a reconnect at
        start-up or a broker blip is not an incident."""
        await asyncio.sleep(self.c.site.timing.device_offline_grace_s)
        if self.availability.get(device_id) != Availability.OFFLINE:
            return
        await self.c.db.write(SYSTEM, lambda uow: alarms.raise_unless_open(
            uow, "device_offline", f"device_offline:{device_id}", room_id=room_id, device_id=device_id,
            device_kind=kind, detail=detail))

    _on_BoardAvailabilityChanged = _on_AvailabilityChanged

    def _on_CardRead(self, ev: Any) -> None:
        card = ev.identity
        data = {"valid": ev.valid, "problems": list(ev.problems)}
        if card is not None:
            data |= {"name": card.name, "sex": card.sex, "ethnicity": card.nation, "address": card.address,
                     "birth_date": card.birth_date and card.birth_date.isoformat(), "id_number": card.id_number,
                     "authority": card.authority, "valid_from": card.valid_from and card.valid_from.isoformat(),
                     "valid_to": card.valid_to and card.valid_to.isoformat(), "no_expiry": card.no_expiry}
        self.cards[ev.device_id] = data
        self._live(ev, "card_read", data)

    def _on_CardRemoved(self, ev: Any) -> None:
        self._live(ev, "card_removed", {})

    def _on_CardReadFailed(self, ev: Any) -> None:
        self._live(ev, "card_read_failed", {"reason": ev.reason})

    def _on_GateTransit(self, ev: Any) -> None:
        data = {"counter": ev.counter, "alarm": ev.alarm, "zones": list(ev.zones), "at": self.c.clock.now().isoformat()}
        self.transits.setdefault(ev.device_id, deque(maxlen=50)).append(data)
        self._live(ev, "gate_transit", data)

    def gate_transit(self, gate_id: str, counter: int) -> dict[str, Any] | None:
        return next((t for t in self.transits.get(gate_id, ()) if t["counter"] == counter), None)

    def _on_BreathResult(self, ev: Any) -> None:
        self._live(ev, "breath_result", {"value_mg_100ml": ev.value_mg_100ml})

    def _on_LockerChanged(self, ev: Any) -> None:
        locker_id = self._by_position.get((ev.device_id, ev.board, ev.channel))
        if locker_id is None:
            return
        now = self.c.clock.now()
        expected = self.expected_open.get(locker_id)
        authorised = ev.cause == "unlock" or (expected is not None and expected >= now)
        self._live(ev, "locker_changed", {"locker_id": locker_id, "open": ev.open, "item_present": ev.item_present,
                                          "cause": ev.cause})

        report = lockers.DoorReport(locker_id, ev.device_id, ev.open, ev.item_present, ev.cause, authorised)
        if not ev.open:
            self.expected_open.pop(locker_id, None)
        self._spawn(self.c.db.write(SYSTEM, lambda uow: lockers.record_door(uow, report)))

    def _on_PanicPressed(self, ev: Any) -> None:
        room = ev.room_id or self._room_of(ev.device_id)
        here = sorted(t for t, tag in self.tags.items() if tag.zone == room and self.tag_owner.get(t, ("", ""))[0] == "stay")
        stay_ids = [self.tag_owner[t][1] for t in here]
        self._live(ev, "panic", {"room_id": room}, room)
        self._spawn(self.c.db.write(SYSTEM, lambda uow: alarms.raise_alarm(
            uow, "panic", f"panic:{ev.device_id}:{ev.event_id}", room_id=room, device_id=ev.device_id,
            stay_id=stay_ids[0] if stay_ids else None, stay_ids=stay_ids)))

    def _on_DoorForcedOpen(self, ev: Any) -> None:
        self._live(ev, "door_forced_open", {}, ev.room_id)
        self._spawn(self.c.db.write(SYSTEM, lambda uow: alarms.raise_unless_open(
            uow, "door_forced", f"door_forced:{ev.device_id}", room_id=ev.room_id, device_id=ev.device_id)))

    def _on_DoorStateChanged(self, ev: Any) -> None:
        self._live(ev, "door_state", {"door": ev.door, "lock": ev.lock}, ev.room_id)

    def _on_RecorderStatus(self, ev: Any) -> None:
        self._live(ev, "recording_status", {"recording": ev.recording, "recording_id": ev.recording_id,
                                            "stay_id": ev.stay_id}, ev.room_id)

    def _recording_lost(self, recording_id: str | None, room_id: str | None, detail: str) -> None:
        async def run() -> None:
            rid = recording_id
            if rid is None and room_id is not None:  # the recorder could not say which: the room's active one
                rid = await self.c.db.read(lambda s: s.exec(select(Interview.recording_id).where(
                    Interview.room_id == room_id, Interview.state == "active")).first())
            if rid:
                await self.c.db.write(SYSTEM, lambda uow: interviews.recording_failed(uow, rid, detail))

        self._spawn(run())

    def _on_RecordingFailed(self, ev: Any) -> None:
        self._live(ev, "recording_failed", {"recording_id": ev.recording_id, "code": ev.code, "detail": ev.detail},
                   ev.room_id)
        self._recording_lost(ev.recording_id, ev.room_id, f"{ev.code}: {ev.detail}")

    def _on_RecorderHeartbeatMissed(self, ev: Any) -> None:
        self._live(ev, "recorder_heartbeat_missed", {"limit_s": ev.limit_s}, ev.room_id)
        self._recording_lost(ev.recording_id, ev.room_id or self._room_of(ev.device_id),
                             f"heartbeat missed for {ev.limit_s:g}s")

    # --- wristbands and rule 8 -----------------------------------------------------------------------------

    def _on_TagPresent(self, ev: Any) -> None:
        now = self.c.clock.now()
        old = self.tags.get(ev.tag_id)
        self.tags[ev.tag_id] = Tag(ev.tag_id, ev.zone, now)
        if old is None or old.zone != ev.zone:
            owner = self.tag_owner.get(ev.tag_id)
            self.c.hub.publish([{"type": "location", "tag_id": ev.tag_id, "zone": ev.zone,
                                 "from": old.zone if old else None, "owner": owner[0] if owner else None,
                                 "owner_id": owner[1] if owner else None, "at": now.isoformat(),
                                 "t_sent": getattr(ev, "ts", None)}])
            self._dirty_rooms.add(ev.zone)
            if old is not None:
                self._dirty_rooms.add(old.zone)
            if owner is None and ev.tag_id not in self._unknown_alarmed:
                self._unknown_alarmed.add(ev.tag_id)  # one DB round trip per unknown tag, not one per report
                self._spawn(self.c.db.write(SYSTEM, lambda uow: alarms.raise_unless_open(
                    uow, "unknown_tag", f"unknown_tag:{ev.tag_id}", room_id=ev.zone, device_id=ev.device_id,
                    tag_id=ev.tag_id)))
            self._schedule_check()

    def _on_TagAbsent(self, ev: Any) -> None:
        cur = self.tags.get(ev.tag_id)
        if cur is not None and cur.zone == ev.zone:
            del self.tags[ev.tag_id]
            self._dirty_rooms.add(ev.zone)
            self._schedule_check()

    def _on_TagRemoved(self, ev: Any) -> None:
        owner = self.tag_owner.get(ev.tag_id)
        stay_id = owner[1] if owner and owner[0] == "stay" else None
        self._live(ev, "tag_removed", {"tag_id": ev.tag_id, "reason": ev.reason, "stay_id": stay_id}, ev.zone)
        self._spawn(self.c.db.write(SYSTEM, lambda uow: alarms.raise_unless_open(
            uow, "tag_removed", f"tag_removed:{ev.tag_id}", stay_id=stay_id, room_id=ev.zone, device_id=ev.device_id,
            tag_id=ev.tag_id, reason=ev.reason)))

    def _schedule_check(self) -> None:
        """Coalesces rule-8 checks: a burst of presence events costs one check of the rooms that changed."""
        if not self._check_scheduled:
            self._check_scheduled = True
            asyncio.get_running_loop().call_soon(lambda: self._spawn(self.check_rooms()))

    async def refresh_tags(self) -> None:
        def load(s: Any) -> tuple[dict[str, tuple[str, str]], dict[str, dict[str, Any]]]:
            owners: dict[str, tuple[str, str]] = {}
            stays: dict[str, dict[str, Any]] = {}
            for st in s.exec(select(Stay).where(col(Stay.state).in_(OPEN))).all():
                if st.wristband_id:
                    owners[st.wristband_id] = ("stay", st.id)
                stays[st.id] = {"case_no": st.case_no, "state": st.state,
                                "allowed": frozenset(r for r in (st.room_id, st.waiting_room_id) if r)}
            for p in s.exec(select(Staff).where(Staff.tag_id != None)).all():  # noqa: E711
                owners[p.tag_id] = ("officer" if "case_officer" in p.roles else "staff", p.id)
            return owners, stays

        self.tag_owner, self._stays = await self.c.db.read(load)
        self._unknown_alarmed -= set(self.tag_owner)

    async def check_rooms(self, rooms: set[str] | None = None) -> list[rules8.Finding]:
        self._check_scheduled = False
        targets = rooms if rooms is not None else self._dirty_rooms
        self._dirty_rooms = set()
        now = self.c.clock.now()
        due: list[rules8.Finding] = []
        by_zone: dict[str, list[Tag]] = {}
        for tag in self.tags.values():  # one pass over the tags per check, not one per room
            if tag.zone in targets:
                by_zone.setdefault(tag.zone, []).append(tag)
        for room_id in targets:
            room = self.c.site.room(room_id)
            if room is None:
                continue
            subjects, staff, officers = [], set(), set()
            for tag in by_zone.get(room_id, ()):
                owner = self.tag_owner.get(tag.tag_id)
                if owner is None:
                    continue
                kind, ident = owner
                if kind == "stay" and ident in self._stays:
                    st = self._stays[ident]
                    subjects.append(rules8.SubjectHere(ident, st["case_no"], st["allowed"],
                                                       st["state"] == "in_interview"))
                elif kind in ("staff", "officer"):
                    staff.add(ident)
                    if kind == "officer":
                        officers.add(ident)
            view = rules8.RoomPresence(room_id, room.kind, "guard_required" in room.restrictions, tuple(subjects),
                                       frozenset(staff), frozenset(officers))
            tracker = self._grace.setdefault(room_id, rules8.GraceTracker())
            due += tracker.update(rules8.findings(view), now)
        for f in due:
            await self.c.db.write(SYSTEM, lambda uow, f=f: alarms.raise_unless_open(
                uow, f.kind, f.key, stay_id=f.stay_id, room_id=f.room_id, **f.details))
        return due

    async def tick(self) -> None:
        """From the scheduler: grace periods run out with time even when no tag moves."""
        await self.check_rooms({t.zone for t in self.tags.values()})

    # --- committed changes -> device commands ---------------------------------------------------------------

    def on_committed(self, ev: dict[str, Any]) -> None:
        t = ev.get("type")
        if t in ("stay_registered", "stay_exited", "stay_placed", "interview_started", "interview_ended",
                 "activity_started", "activity_ended", "temporary_leave_started", "stay_searched_on_return",
                 "correction", "staff_tag_set", "exit_started"):
            self._spawn(self._after_stay_change(ev))
        elif t in ("alarm_raised", "alarm_acknowledged", "alarm_resolved", "alarm_escalated"):
            if t == "alarm_resolved" and (ev.get("data") or {}).get("kind") == "unknown_tag":
                self._unknown_alarmed.discard((ev["data"].get("details") or {}).get("tag_id"))
            self._spawn(self._beacons())

    async def _after_stay_change(self, ev: dict[str, Any]) -> None:
        await self.refresh_tags()
        self._dirty_rooms |= {t.zone for t in self.tags.values()}
        t, data = ev.get("type"), ev.get("data") or {}
        room_id = data.get("room_id")
        room = self.c.site.room(room_id) if room_id else None
        if room is not None and room.door_lock_id and t in ("interview_started",):
            await self._door(room.door_lock_id, lock=True)
        if t == "interview_ended":
            iv_room = await self.c.db.read(lambda s: (s.get(Interview, data.get("interview_id")) or Interview(
                id="", stay_id="", room_id="", started_at=self.c.clock.now())).room_id)
            r = self.c.site.room(iv_room) if iv_room else None
            if r is not None and r.door_lock_id:
                await self._door(r.door_lock_id, lock=False)
        await self.check_rooms()

    async def _door(self, door_id: str, lock: bool) -> None:
        try:
            adapter: Any = self.registry.get(door_id)
            await (adapter.lock() if lock else adapter.unlock())
        except (KeyError, DeviceError) as exc:
            log.warning("door %s not %s: %s", door_id, "locked" if lock else "unlocked", exc)

    async def _beacons(self) -> None:
        critical = await self.c.db.read(lambda s: s.exec(select(Alarm.id).where(
            Alarm.severity == "critical", Alarm.state == AlarmState.RAISED.value)).first())
        for d in self.c.site.devices:
            if d.kind != "alarm_beacon":
                continue
            try:
                adapter: Any = self.registry.get(d.id)
                await (adapter.on(pattern="strobe", severity="critical") if critical else adapter.off())
            except (KeyError, DeviceError) as exc:
                log.warning("beacon %s not switched: %s", d.id, exc)


def _read_secret(path: Any) -> str | None:
    if path is None:
        return None
    from pathlib import Path

    return Path(path).read_text(encoding="utf-8").strip()

