"""The controller's end of the device bridge: a small typed request/response helper over the site's broker, and
a registry whose adapters are stand-ins that send :class:`~controller.bridge.messages.Command` s.

- :meth:`BridgeClient.command` publishes a command with a fresh request id and awaits its result; while it waits,
  a bridge that comes back online (restarted) gets the same command again -- the bridge's journal makes that
  at-most-once -- and past ``timeout_s`` the caller gets a ``DeviceTimeout`` (the command has expired by then, so
  the bridge will not execute it late either).
- a failed result is raised as the ``DeviceError`` subclass of its code, so the services' failure contracts
  (``services/lockers.py``, rule 3's ``RecordingNotConfirmed``) read the same as in-process.
- device events arrive decoded into their dataclasses for the devicebus's typed dispatch; presence arrives
  coalesced; every device's availability is the bridge's retained table, and all of them turn offline for the
  screens when the bridge itself is gone (its last will).

The session is persistent (fixed client id, ``clean_session=False``): what the bridge publishes while the
controller is down is delivered when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from devices import mqtt_proto
from devices.base import (
    Availability,
    AvailabilityChanged,
    DeviceError,
    DeviceEvent,
    DeviceRejected,
    DeviceTimeout,
    DeviceUnavailable,
    DeviceUnverified,
)
from devices.recorder import protocol as rp
from devices.registry import DeviceRegistry
from devices.transport.mqtt import MqttLink
from devices.trust import DEFAULT_THRESHOLD

from ..settings import SiteConfig
from .codec import UnknownEventType, decode_event
from .messages import (
    Command,
    CommandResult,
    DeviceEventMsg,
    DeviceRow,
    DeviceTable,
    Op,
    PresenceBatch,
    Roster,
    encode,
)
from .wire import BridgeTopics, read_secret

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT_S = 15.0
# With no broker link at all a command cannot even be handed over: it waits this long for the link (a broker
# restart) and then fails as "device unavailable", as an unplugged device does in-process, instead of holding a
# kiosk for the whole command timeout. With the link up and the bridge restarting, it waits in the broker.
LINK_GRACE_S = 3.0
BRIDGE_DOWN = "设备桥接进程离线 / device bridge offline"

_ERRORS: dict[str, type[DeviceError]] = {c.code: c for c in (DeviceTimeout, DeviceRejected, DeviceUnverified,
                                                             DeviceUnavailable)}


class LagHistogram:
    """How late wristband moves arrive, by stage (``reader``: the reader's report to the bridge's send;
    ``bridge``: the bridge's send to the controller): a Prometheus histogram for ``/metrics``. Both clocks are this
    PC's (the bridge runs beside the controller); a reader's own clock may be off, so ``reader`` is as good as the
    site's time sync."""

    BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}  # stage -> count per bucket (the last: above every bound)
        self.sums: dict[str, float] = {}

    def observe(self, stage: str, seconds: float) -> None:
        seconds = max(0.0, seconds)
        counts = self.counts.setdefault(stage, [0] * (len(self.BUCKETS) + 1))
        counts[next((i for i, b in enumerate(self.BUCKETS) if seconds <= b), len(self.BUCKETS))] += 1
        self.sums[stage] = self.sums.get(stage, 0.0) + seconds

    def cumulative(self, stage: str) -> list[tuple[str, int]]:
        """``(le, count)`` pairs as Prometheus wants them, ``+Inf`` last."""
        out, total = [], 0
        for bound, n in zip((*(f"{b:g}" for b in self.BUCKETS), "+Inf"), self.counts.get(stage, ()), strict=True):
            total += n
            out.append((bound, total))
        return out


def error_of(device_id: str, res: CommandResult) -> DeviceError:
    """The DeviceError a failed result stands for, with the bridge's code and Chinese message."""
    exc = _ERRORS.get(res.code or "", DeviceError)(res.message or res.code or "", device_id=device_id)
    exc.code = res.code or DeviceError.code
    exc.message_zh = res.message_zh or DeviceError.message_zh
    exc.device_code = res.data.get("device_code")  # type: ignore[attr-defined]
    return exc


class BridgeClient:
    def __init__(self, site: SiteConfig, data_dir: Path, sink: Callable[[DeviceEvent], None],
                 on_presence: Callable[[PresenceBatch], None], *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.site, self.sink, self.on_presence, self.timeout_s = site, sink, on_presence, timeout_s
        self.topics = BridgeTopics.for_site(site.site.id, data_dir)
        self.link = MqttLink(site.mqtt.url, site=site.site.id, client_id=self.topics.client_id("controller"),
                             username=site.mqtt.username, password=read_secret(site.mqtt.password_file),
                             clean_session=False)
        self._pending: dict[str, tuple[asyncio.Future[CommandResult], bytes]] = {}
        self.rows: dict[str, DeviceRow] = {}
        self.bridge_online = False
        self._online = asyncio.Event()
        self.events_in = 0
        self.batches_in = 0
        self.bad_messages = 0
        self.resent = 0
        # answers no caller waited for any more (its timeout had passed, or a repeat), by code; BRIDGE_EXPIRED = a
        # command that sat in a stalled broker past its expiry and that the bridge refused to run
        self.late_results: dict[str, int] = {}
        self.presence_lag = LagHistogram()  # how late moves reach us, by stage
        self._last_roster: bytes | None = None
        for topic, handler in ((self.topics.results, self._on_result), (self.topics.event, self._on_event),
                               (self.topics.presence, self._on_presence), (self.topics.devices, self._on_table),
                               (self.topics.availability, self._on_bridge)):
            self.link.subscribe(topic, handler)
        self.link.add_connection_listener(self._on_link)

    async def start(self) -> None:
        await self.link.start()

    async def stop(self) -> None:
        for fut, _ in self._pending.values():
            if not fut.done():
                fut.cancel()
        await self.link.stop()

    async def wait_bridge(self, timeout_s: float) -> bool:
        """Bounded wait until the bridge says it is online (start-up; tests)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._online.wait(), timeout_s)
        return self.bridge_online

    # --- commands -------------------------------------------------------------------------------------------

    async def command(self, op: Op, device_id: str, args: dict[str, Any] | None = None,
                      timeout_s: float | None = None) -> CommandResult:
        """Runs ``op`` on the bridge's adapter for ``device_id``; raises the DeviceError of a failed result."""
        timeout = timeout_s or self.timeout_s
        if not self.link.connected:
            try:
                await asyncio.wait_for(self._online.wait(), min(timeout, LINK_GRACE_S))
            except TimeoutError:
                raise DeviceUnavailable(f"{op} on {device_id}: the controller has no broker link to the device bridge",
                                        device_id=device_id) from None
        cmd = Command(request_id=mqtt_proto.new_id().replace("-", ""), op=op, device_id=device_id,
                      args=args or {}, expires_at=time.time() + timeout)
        payload = encode(cmd)
        fut: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._pending[cmd.request_id] = (fut, payload)
        try:
            self.link.publish(self.topics.cmd, payload)  # a link down now: resent on reconnect (_on_link)
            try:
                res = await asyncio.wait_for(fut, timeout)
            except TimeoutError:
                raise DeviceTimeout(f"no answer from the device bridge for {op} on {device_id} in {timeout:g}s",
                                    device_id=device_id) from None
        finally:
            self._pending.pop(cmd.request_id, None)
        if not res.ok:
            raise error_of(device_id, res)
        return res

    def _resend(self) -> None:
        # The same request ids: the bridge answers a command it already ran from its journal, never runs it twice.
        for _, payload in list(self._pending.values()):
            if self.link.publish(self.topics.cmd, payload):
                self.resent += 1

    def _on_link(self, up: bool) -> None:
        if up:
            self._resend()
            if self._last_roster is not None:
                self.link.publish(self.topics.roster, self._last_roster, retain=True)

    def _on_result(self, topic: str, payload: bytes) -> None:
        try:
            res = CommandResult.model_validate_json(payload)
        except ValidationError:
            self.bad_messages += 1
            return
        pending = self._pending.get(res.request_id)
        if pending is None:
            code = "OK" if res.ok else (res.code or "FAILED")
            self.late_results[code] = self.late_results.get(code, 0) + 1
            log.warning("device bridge answered request %s, which no caller waits for any more: %s",
                        res.request_id, code)
        elif not pending[0].done():
            pending[0].set_result(res)

    # --- what the bridge reports ----------------------------------------------------------------------------

    def _on_event(self, topic: str, payload: bytes) -> None:
        try:
            ev = decode_event(DeviceEventMsg.model_validate_json(payload))
        except (ValidationError, UnknownEventType) as exc:
            self.bad_messages += 1
            log.warning("bridge event refused: %s", str(exc)[:200])
            return
        self.events_in += 1
        if isinstance(ev, AvailabilityChanged) and ev.device_id in self.rows:
            self.rows[ev.device_id] = self.rows[ev.device_id].model_copy(update={
                "availability": Availability(ev.availability).value, "detail": ev.detail, "last_seen": ev.ts})
        self.sink(ev)

    def _on_presence(self, topic: str, payload: bytes) -> None:
        try:
            batch = PresenceBatch.model_validate_json(payload)
        except ValidationError:
            self.bad_messages += 1
            return
        self.batches_in += 1
        if batch.sent_at:
            now = time.time()
            self.presence_lag.observe("bridge", now - batch.sent_at)
            for ch in batch.changes:
                self.presence_lag.observe("reader", batch.sent_at - ch.t_sent)
        self.on_presence(batch)

    def _on_table(self, topic: str, payload: bytes) -> None:
        try:
            table = DeviceTable.model_validate_json(payload)
        except ValidationError:
            self.bad_messages += 1
            return
        for row in table.devices:
            old = self.rows.get(row.id)
            self.rows[row.id] = row
            if old is None or old.availability != row.availability:
                # a (re)started controller or bridge: the devicebus hears each device's availability once more
                self.sink(AvailabilityChanged(row.id, row.kind, availability=Availability(row.availability),
                                              detail=row.detail))

    def _on_bridge(self, topic: str, payload: bytes) -> None:
        up = payload == mqtt_proto.AVAILABILITY_ONLINE
        was, self.bridge_online = self.bridge_online, up
        if up:
            self._online.set()
        else:
            self._online.clear()
        if up and not was:
            self._resend()
        if not up and was:
            # the bridge is gone: no device can be reached until it is back (the supervisor restarts it)
            for device_id, row in list(self.rows.items()):
                if row.availability != Availability.OFFLINE.value:
                    self.rows[device_id] = row.model_copy(update={"availability": Availability.OFFLINE.value,
                                                                  "detail": BRIDGE_DOWN})
                    self.sink(AvailabilityChanged(device_id, row.kind, availability=Availability.OFFLINE,
                                                  detail=BRIDGE_DOWN))

    # --- to the bridge --------------------------------------------------------------------------------------

    def send_roster(self, roster: Roster) -> None:
        """Retained, so a restarted bridge has it at once."""
        self._last_roster = encode(roster)
        self.link.publish(self.topics.roster, self._last_roster, retain=True)

    def snapshot(self) -> list[dict[str, Any]]:
        """Like ``DeviceRegistry.snapshot``: config order, availability and last seen of each device."""
        out = []
        for d in self.site.devices:
            row = self.rows.get(d.id)
            # no word from the bridge about a device: "connecting" while the bridge is up (its row is coming), but
            # with the bridge down nothing reaches the device: offline, as an unplugged device reads in-process
            unheard = Availability.UNKNOWN.value if self.bridge_online else Availability.OFFLINE.value
            out.append({"id": d.id, "kind": d.kind, "room_id": d.room_id,
                        "availability": row.availability if row else unheard,
                        "last_seen": row.last_seen if row else None,
                        "detail": (row.detail if row else "") or ("" if self.bridge_online else BRIDGE_DOWN)})
        return out


# --- stand-ins for the adapters the services' ports and the reactions call ------------------------------------


class _Remote:
    def __init__(self, client: BridgeClient, device_id: str, kind: str) -> None:
        self.client, self.device_id, self.kind = client, device_id, kind

    @property
    def availability(self) -> Availability:
        row = self.client.rows.get(self.device_id)
        return Availability(row.availability) if row else Availability.UNKNOWN

    @property
    def last_seen(self) -> float | None:
        row = self.client.rows.get(self.device_id)
        return row.last_seen if row else None

    async def start(self) -> None:  # the bridge starts the real adapter
        return None

    async def stop(self) -> None:
        return None


class RemoteLockBoard(_Remote):
    async def unlock(self, board: int, channel: int) -> None:
        await self.client.command("locker_open", self.device_id, {"board": board, "channel": channel})


class RemoteRecorder(_Remote):
    async def start_recording(self, room_id: str, stay_id: str) -> rp.StartResult:
        res = await self.client.command("recorder_start", self.device_id, {"room_id": room_id, "stay_id": stay_id})
        return rp.StartResult(**res.data)

    async def stop_recording(self, recording_id: str) -> rp.StopResult:
        res = await self.client.command("recorder_stop", self.device_id, {"recording_id": recording_id})
        return rp.StopResult(**res.data)


class RemoteDoorLock(_Remote):
    async def lock(self) -> None:
        await self.client.command("door_lock", self.device_id)

    async def unlock(self) -> None:
        await self.client.command("door_unlock", self.device_id)


class RemoteBeacon(_Remote):
    async def on(self, *, pattern: str = "flash", severity: str = "critical") -> None:
        await self.client.command("beacon_on", self.device_id, {"pattern": pattern, "severity": severity})

    async def off(self) -> None:
        await self.client.command("beacon_off", self.device_id)


_REMOTES: dict[str, type[_Remote]] = {"lock_board": RemoteLockBoard, "recorder": RemoteRecorder,
                                      "door_lock": RemoteDoorLock, "alarm_beacon": RemoteBeacon}


class _Watch:
    threshold = DEFAULT_THRESHOLD  # the bridge's registry counts unknown sources; the alarm says how many it took


LOCAL_KINDS = frozenset({"capture_camera"})  # kept in the controller's process for now (frames are large)


class RemoteRegistry:
    """What the devicebus reads of a ``DeviceRegistry``, with the adapters in the bridge process; the cameras
    (``LOCAL_KINDS``) stay in ``local``, a registry of the controller's own."""

    def __init__(self, client: BridgeClient, local: DeviceRegistry | None = None) -> None:
        self.client, self.local = client, local
        self.watch = _Watch()
        self.skipped: dict[str, str] = {}
        self._adapters: dict[str, _Remote] = {d.id: _REMOTES[d.kind](client, d.id, d.kind)
                                              for d in client.site.devices if d.kind in _REMOTES}

    def get(self, device_id: str) -> Any:
        if device_id in self._adapters:
            return self._adapters[device_id]
        if self.local is not None:
            return self.local.get(device_id)
        raise KeyError(f"no adapter for device {device_id!r} in the controller (it is in the bridge)")

    def devices(self) -> list[Any]:
        return [*self._adapters.values(), *(self.local.devices() if self.local is not None else [])]

    @property
    def links(self) -> list[MqttLink]:
        return []  # the bridge announces the serial devices' availability itself

    async def start_all(self) -> None:
        await self.client.start()
        if self.local is not None:
            await self.local.start_all()

    async def stop_all(self) -> None:
        if self.local is not None:
            await self.local.stop_all()
        await self.client.stop()

    def snapshot(self) -> list[dict[str, Any]]:
        local = {r["id"]: r for r in self.local.snapshot()} if self.local is not None else {}
        return [local.get(r["id"], r) for r in self.client.snapshot()]
