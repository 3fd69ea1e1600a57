"""The device registry and a typed dispatch table: each event class a device reports has one handler, registered
with its class (never looked up by name), so mypy checks that a handler takes the event it is given. Handlers turn
events into live events for the screens and into service calls; presence and the reactions to committed changes
live in their own rooms (``presence.py``, ``reactions.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlmodel import select

from devices import mqtt_proto
from devices.base import Availability, AvailabilityChanged, DeviceEvent, ReplyForged, UnknownSource
from devices.breathalyser.adapter import BreathResult
from devices.door_lock.adapter import DoorForcedOpen, DoorStateChanged
from devices.id_reader.adapter import CardRead, CardReadFailed, CardRemoved
from devices.lock_board.adapter import LockerChanged
from devices.metal_gate.adapter import GateTransit
from devices.panic_button.adapter import PanicPressed
from devices.recorder.adapter import RecorderHeartbeatMissed, RecorderStatus, RecordingFailed
from devices.registry import DeviceRegistry, DeviceSpec, RegistryContext
from devices.wristband_reader.adapter import TagAbsent, TagPresent, TagRemoved

from ..bridge.client import LOCAL_KINDS, BridgeClient, RemoteRegistry
from ..domain.actor import Actor
from ..services import alarms, interviews, lockers
from ..store.tables import Interview
from .ports import LockerPositions
from .presence import PresenceTracker, Tag
from .reactions import Reactions
from .remote import RemotePresence
from .tasks import Tasks

log = logging.getLogger(__name__)
SYSTEM = Actor.system("devicebus")
E = TypeVar("E", bound=DeviceEvent)


class Dispatch:
    """Event class -> handler. A subclass without its own entry uses its nearest base's (``__mro__`` order)."""

    def __init__(self) -> None:
        self._table: dict[type[DeviceEvent], Callable[[DeviceEvent], None]] = {}

    def on(self, kind: type[E], handler: Callable[[E], None]) -> None:
        self._table[kind] = cast(Callable[[DeviceEvent], None], handler)

    def __call__(self, ev: DeviceEvent) -> bool:
        for cls in type(ev).__mro__:
            handler = self._table.get(cls)
            if handler is not None:
                handler(ev)
                return True
        return False


class DeviceBus:
    def __init__(self, container: Any, *, bridged: bool = False) -> None:
        """``bridged``: the adapters, the wristband stream and rule 8 run in the bridge process (``remote.py``)."""
        self.c = container
        self.tasks = Tasks()
        self.positions = LockerPositions(container.site)
        self.cards: dict[str, dict[str, Any]] = {}  # reader id -> last card read (kept in memory only)
        self.transits: dict[str, deque[dict[str, Any]]] = {}
        self.breaths: dict[str, dict[str, Any]] = {}  # breathalyser id -> its last reading
        self.events_in = 0
        self.availability: dict[str, Availability] = {}
        self._starting: asyncio.Task[None] | None = None
        self.bridge: BridgeClient | None = None
        # the bridge's stand-ins offer what the ports and reactions call of a DeviceRegistry (duck-typed)
        self.registry: Any = self._remote_registry() if bridged else DeviceRegistry(
                                       container.site.devices, self.on_device_event, site=container.site.site.id,
                                       factories={"lock_board": self._lock_board_factory},
                                       mqtt_username=container.site.mqtt.username,
                                       mqtt_password=_read_secret(container.site.mqtt.password_file),
                                       device_keys_dir=container.site.mqtt.device_keys_dir,
                                       require_keys=container.site.site.production)
        # device alarms under a flood: one write in flight per device condition (services/alarms.py)
        self.alarm_gate = alarms.AlarmGate(lambda fn: self.c.db.write(SYSTEM, fn))
        self.presence = (RemotePresence if bridged else PresenceTracker)(
            container.site, container.db, container.clock, container.hub, self.tasks.spawn, container.sightings)
        if self.bridge is not None:
            presence = cast(RemotePresence, self.presence)
            presence.send_roster = self.bridge.send_roster
            self.bridge.on_presence = presence.apply
        registry: Any = self.registry
        self.reactions = Reactions(container.site, container.db, registry, self.presence, self.tasks.spawn)
        self.dispatch = Dispatch()
        d = self.dispatch
        d.on(AvailabilityChanged, self._availability)
        d.on(CardRead, self._card_read)
        d.on(CardRemoved, lambda ev: self._live(ev, "card_removed", {}))
        d.on(CardReadFailed, lambda ev: self._live(ev, "card_read_failed", {"reason": ev.reason}))
        d.on(GateTransit, self._gate_transit)
        d.on(BreathResult, self._breath_result)
        d.on(LockerChanged, self._locker_changed)
        d.on(PanicPressed, self._panic)
        d.on(DoorForcedOpen, self._door_forced)
        d.on(DoorStateChanged, lambda ev: self._live(ev, "door_state", {"door": ev.door, "lock": ev.lock}, ev.room_id))
        d.on(RecorderStatus, lambda ev: self._live(ev, "recording_status", {
            "recording": ev.recording, "recording_id": ev.recording_id, "stay_id": ev.stay_id}, ev.room_id))
        d.on(RecordingFailed, self._recording_failed)
        d.on(RecorderHeartbeatMissed, self._heartbeat_missed)
        d.on(TagPresent, self.presence.on_present)
        d.on(TagAbsent, self.presence.on_absent)
        d.on(TagRemoved, self._tag_removed)
        d.on(ReplyForged, self._reply_forged)
        d.on(UnknownSource, self._unknown_source)

    # --- what tests and the API read -------------------------------------------------------------------------

    @property
    def tags(self) -> dict[str, Tag]:
        return self.presence.tags

    @property
    def tag_owner(self) -> dict[str, tuple[str, str]]:
        return self.presence.tag_owner

    @property
    def lockers(self) -> dict[str, tuple[str, int, int]]:
        return self.positions.where

    def tags_in(self, room_id: str) -> dict[str, datetime]:
        return self.presence.tags_in(room_id)

    def gate_transit(self, gate_id: str, counter: int) -> dict[str, Any] | None:
        return next((t for t in self.transits.get(gate_id, ()) if t["counter"] == counter), None)

    def snapshot(self) -> list[dict[str, Any]]:
        out = self.registry.snapshot()
        for row in out:
            ls = row.get("last_seen")
            row["last_seen"] = (datetime.fromtimestamp(ls).astimezone().isoformat()
                                if isinstance(ls, (int, float)) and ls > 1e9 else None)
        return out

    # --- construction and lifecycle --------------------------------------------------------------------------

    def _remote_registry(self) -> RemoteRegistry:
        site = self.c.site
        self.bridge = BridgeClient(site, self.c.settings.data_dir, self.on_device_event, lambda batch: None,
                                   timeout_s=site.bridge.command_timeout_s)
        cameras = [d for d in site.devices if d.kind in LOCAL_KINDS]
        local = DeviceRegistry(cameras, self.on_device_event, site=site.site.id,
                               mqtt_username=site.mqtt.username, mqtt_password=_read_secret(site.mqtt.password_file),
                               device_keys_dir=site.mqtt.device_keys_dir,
                               require_keys=site.site.production) if cameras else None
        return RemoteRegistry(self.bridge, local)

    def _lock_board_factory(self, spec: DeviceSpec, ctx: RegistryContext) -> Any:
        from devices.lock_board.adapter import LockBoardAdapter
        from devices.lock_board.protocol import BoardSpec

        boards = [BoardSpec(address=b.address, channels=b.channels, latch_polarity=b.latch_polarity)
                  for b in self.c.site.locker_banks if b.bus == spec.id]
        return LockBoardAdapter(spec.id, spec.url, spec.options, boards=boards, on_event=ctx.sink)

    async def start(self) -> None:
        await self.presence.refresh_tags()
        self.c.hub.on_event(self.reactions.on_committed)
        self.c.scheduler.extra.append(self.presence.tick)
        # Connecting may take a while when a broker or port is absent: the API serves meanwhile (devices show
        # offline, and refuse commands with DEVICE_UNAVAILABLE) instead of holding up start-up.
        self._starting = asyncio.get_running_loop().create_task(self.registry.start_all(), name="devices-start")

    async def stop(self) -> None:
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._starting
        await self.registry.stop_all()
        await self.alarm_gate.drain()
        await self.tasks.cancel_all()
        # the scheduler may run once more; keep tick harmless after stop
        with contextlib.suppress(ValueError):
            self.c.scheduler.extra.remove(self.presence.tick)

    # --- device events ---------------------------------------------------------------------------------------

    def on_device_event(self, ev: DeviceEvent) -> None:
        self.events_in += 1
        if not self.dispatch(ev):
            log.debug("no handler for %s from %s", type(ev).__name__, ev.device_id)

    def _live(self, ev: DeviceEvent, event: str, data: dict[str, Any], room_id: str | None = None) -> None:
        self.c.hub.publish([{"type": "device_event", "device_id": ev.device_id, "kind": ev.kind, "event": event,
                             "room_id": room_id or self._room_of(ev.device_id), "data": data,
                             "at": self.c.clock.now().isoformat()}])

    def _room_of(self, device_id: str) -> str | None:
        return next((d.room_id for d in self.c.site.devices if d.id == device_id), None)

    def _availability(self, ev: AvailabilityChanged) -> None:
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
            self.tasks.spawn(self._offline_after_grace(ev.device_id, ev.kind, spec.room_id, ev.detail))
        elif ev.availability == Availability.ONLINE:
            self.tasks.spawn(self.c.db.write(SYSTEM, lambda uow: alarms.resolve_matching(
                uow, "设备已恢复在线 / device back online", kinds=["device_offline"], device_id=ev.device_id)))

    def _announce(self, ev: AvailabilityChanged) -> None:
        """Serial devices and cameras have no MQTT client of their own: the controller publishes their
        availability (retained) under their topics, so the site's MQTT view covers every device."""
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

    def _card_read(self, ev: CardRead) -> None:
        card = ev.identity
        data: dict[str, Any] = {"valid": ev.valid, "problems": list(ev.problems)}
        if card is not None:
            data |= {"name": card.name, "sex": card.sex, "ethnicity": card.nation, "address": card.address,
                     "birth_date": card.birth_date and card.birth_date.isoformat(), "id_number": card.id_number,
                     "authority": card.authority, "valid_from": card.valid_from and card.valid_from.isoformat(),
                     "valid_to": card.valid_to and card.valid_to.isoformat(), "no_expiry": card.no_expiry}
        self.cards[ev.device_id] = data
        self._live(ev, "card_read", data)

    def _gate_transit(self, ev: GateTransit) -> None:
        data = {"counter": ev.counter, "alarm": ev.alarm, "zones": list(ev.zones), "at": self.c.clock.now().isoformat()}
        self.transits.setdefault(ev.device_id, deque(maxlen=50)).append(data)
        self._live(ev, "gate_transit", data)

    def _breath_result(self, ev: BreathResult) -> None:
        # kept (in memory) so the stay can store the device's own reading, never a number typed in
        self.breaths[ev.device_id] = {"event_id": str(uuid.uuid4()), "value_mg_100ml": ev.value_mg_100ml,
                                      "device_ts": ev.device_ts, "received_at": self.c.clock.now().isoformat()}
        self._live(ev, "breath_result", {"value_mg_100ml": ev.value_mg_100ml})

    def _locker_changed(self, ev: LockerChanged) -> None:
        locker_id = self.positions.locker_at(ev.device_id, ev.board, ev.channel)
        if locker_id is None:
            return
        authorised = self.positions.authorised(locker_id, ev.cause, self.c.clock.now())
        self._live(ev, "locker_changed", {"locker_id": locker_id, "open": ev.open, "item_present": ev.item_present,
                                          "cause": ev.cause})
        report = lockers.DoorReport(locker_id, ev.device_id, ev.open, ev.item_present, ev.cause, authorised)
        if not ev.open:
            self.positions.closed(locker_id)
        self.tasks.spawn(self.c.db.write(SYSTEM, lambda uow: lockers.record_door(uow, report)))

    def _panic(self, ev: PanicPressed) -> None:
        room = ev.room_id or self._room_of(ev.device_id)
        stay_ids = self.presence.stays_in(room)
        # one open alarm per button, counting the presses (a flood is one alarm, not one write per message)
        # ``repeats``: presses the device's intake folded into this one under a flood (devices/intake.py)
        if self.alarm_gate.note("panic", f"panic:{ev.device_id}", ev.repeats, room_id=room, device_id=ev.device_id,
                                stay_id=stay_ids[0] if stay_ids else None, stay_ids=stay_ids):
            self._live(ev, "panic", {"room_id": room}, room)

    def _door_forced(self, ev: DoorForcedOpen) -> None:
        if self.alarm_gate.note("door_forced", f"door_forced:{ev.device_id}", ev.repeats, room_id=ev.room_id,
                                device_id=ev.device_id):
            self._live(ev, "door_forced_open", {}, ev.room_id)

    def _reply_forged(self, ev: ReplyForged) -> None:
        self.alarm_gate.note("device_forged", f"device_forged:{ev.device_id}", device_id=ev.device_id,
                             room_id=self._room_of(ev.device_id), reason=ev.reason)

    def _unknown_source(self, ev: UnknownSource) -> None:
        self.alarm_gate.note("device_unknown", f"device_unknown:{ev.device_id}", count=self.registry.watch.threshold,
                             source=ev.device_id, topic=ev.topic)

    def _recording_lost(self, recording_id: str | None, room_id: str | None, detail: str) -> None:
        async def run() -> None:
            rid = recording_id
            if rid is None and room_id is not None:  # the recorder could not say which: the room's active one
                rid = await self.c.db.read(lambda s: s.exec(select(Interview.recording_id).where(
                    Interview.room_id == room_id, Interview.state == "active")).first())
            if rid:
                found = rid
                await self.c.db.write(SYSTEM, lambda uow: interviews.recording_failed(uow, found, detail))

        self.tasks.spawn(run())

    def _recording_failed(self, ev: RecordingFailed) -> None:
        self._live(ev, "recording_failed", {"recording_id": ev.recording_id, "code": ev.code, "detail": ev.detail},
                   ev.room_id)
        self._recording_lost(ev.recording_id, ev.room_id, f"{ev.code}: {ev.detail}")

    def _heartbeat_missed(self, ev: RecorderHeartbeatMissed) -> None:
        self._live(ev, "recorder_heartbeat_missed", {"limit_s": ev.limit_s}, ev.room_id)
        self._recording_lost(ev.recording_id, ev.room_id or self._room_of(ev.device_id),
                             f"heartbeat missed for {ev.limit_s:g}s")

    def _tag_removed(self, ev: TagRemoved) -> None:
        stay_id = self.presence.on_removed(ev)
        self._live(ev, "tag_removed", {"tag_id": ev.tag_id, "reason": ev.reason, "stay_id": stay_id}, ev.zone)


def _read_secret(path: Path | str | None) -> str | None:
    return None if path is None else Path(path).read_text(encoding="utf-8").strip()
