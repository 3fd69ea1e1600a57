"""The device bridge process (``python -m controller.bridge``): it owns every adapter of the site (the device
registry), the presence tracker and rule 8, so device I/O and the 10 Hz wristband stream never run on the API's
event loop. It reads no database and writes none: what the devices report leaves as typed messages
(``messages.py``) on the site's broker, and the controller's services write.

- commands arrive on ``bridge/<instance>/cmd`` and run at most once (``journal.py``); the result goes to
  ``result/<request_id>``;
- device events go to ``event``; wristband reports stay here: a tag that moved leaves in ``presence`` before
  any more reports are read (with the other moves already read, coalesced per tag); rule 8 is judged every
  ``FLUSH_S`` on the rooms the moves changed (and for grace periods running out), and its findings follow in a
  batch of their own -- judging per move had been a sixth of the bridge's CPU at 2,500 reports/s;
- every device's availability is kept retained in ``devices``; the bridge's own in ``availability`` (its last
  will says "offline" when it dies).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from devices import mqtt_proto
from devices.base import Availability, AvailabilityChanged, DeviceError, DeviceEvent
from devices.registry import DeviceRegistry, DeviceSpec, RegistryContext
from devices.transport.mqtt import MqttLink
from devices.wristband_reader.adapter import TagAbsent, TagPresent

from ..settings import SiteConfig
from .client import LOCAL_KINDS
from .codec import encode_event
from .journal import Journal
from .messages import Command, CommandResult, DeviceRow, DeviceTable, PresenceBatch, Roster, encode
from .presence import BridgePresence
from .wire import BridgeTopics, read_secret

log = logging.getLogger(__name__)
FLUSH_S = 0.05  # rule 8 is judged this often, on the rooms moves changed and for the grace periods running out


class BridgeServer:
    def __init__(self, site: SiteConfig, data_dir: Path) -> None:
        self.site = site
        self.topics = BridgeTopics.for_site(site.site.id, data_dir)
        password = read_secret(site.mqtt.password_file)
        # every device but the cameras, which the controller keeps for now (client.LOCAL_KINDS)
        self.registry = DeviceRegistry([d for d in site.devices if d.kind not in LOCAL_KINDS], self.on_device_event, site=site.site.id,
                                       factories={"lock_board": self._lock_board_factory},
                                       mqtt_username=site.mqtt.username, mqtt_password=password,
                                       device_keys_dir=site.mqtt.device_keys_dir,
                                       require_keys=site.site.production,  # as the in-process devicebus
                                       # persistent: what a device publishes while the bridge restarts is kept
                                       # by the broker and delivered after (deduplicated by event id)
                                       mqtt_options={"clean_session": False})
        # A persistent session (fixed client id, clean_session=False): commands sent while the bridge is down wait
        # in the broker and arrive when it is back; the journal keeps any of them from running twice.
        self.link = MqttLink(site.mqtt.url, site=site.site.id, client_id=self.topics.client_id("bridge"),
                             availability_topic=self.topics.availability, username=site.mqtt.username,
                             password=password, clean_session=False)
        self.journal = Journal(data_dir / "bridge-commands.jsonl")
        self.presence = BridgePresence(site)
        self._inflight: dict[str, asyncio.Future[CommandResult]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._flush_due = False  # a flush is queued on the loop (a tag moved)
        self._rows: dict[str, DeviceRow] = {}
        self.events_out = 0
        self.commands_run = 0

    def _lock_board_factory(self, spec: DeviceSpec, ctx: RegistryContext) -> Any:
        from devices.lock_board.adapter import LockBoardAdapter
        from devices.lock_board.protocol import BoardSpec

        boards = [BoardSpec(address=b.address, channels=b.channels, latch_polarity=b.latch_polarity)
                  for b in self.site.locker_banks if b.bus == spec.id]
        return LockBoardAdapter(spec.id, spec.url, spec.options, boards=boards, on_event=ctx.sink)

    # --- lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.link.subscribe(self.topics.cmd, self._on_command)
        self.link.subscribe(self.topics.roster, self._on_roster)
        self.link.add_connection_listener(self._on_link)
        await self.link.start()
        self._flusher = asyncio.get_running_loop().create_task(self._flush_loop(), name="bridge-presence")
        await self.registry.start_all()

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.registry.stop_all()
        for t in list(self._tasks):
            t.cancel()
        await self.link.stop()
        self.journal.close()

    def _on_link(self, up: bool) -> None:
        if up:
            self._publish_table()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- device events --------------------------------------------------------------------------------------

    def on_device_event(self, ev: DeviceEvent) -> None:
        if isinstance(ev, TagPresent):
            if self.presence.on_present(ev):
                self._flush_soon()
            return
        if isinstance(ev, TagAbsent):
            if self.presence.on_absent(ev):
                self._flush_soon()
            return
        if isinstance(ev, AvailabilityChanged):
            self._availability(ev)
        self.events_out += 1
        self.link.publish(self.topics.event, encode(encode_event(ev)))

    def _availability(self, ev: AvailabilityChanged) -> None:
        spec = next((d for d in self.site.devices if d.id == ev.device_id), None)
        if spec is None:
            return
        if not spec.url.startswith(("mqtt://", "mqtts://")):
            # serial devices and cameras have no MQTT client of their own: their availability, retained, under
            # their topics, as the in-process devicebus does (the same account, the same ACL lines)
            site, up = self.site.site.id, ev.availability != Availability.OFFLINE
            self.link.publish(mqtt_proto.availability_topic(site, ev.kind, ev.device_id),
                              "online" if up else "offline", retain=True)
            self.link.publish(mqtt_proto.device_topic(site, ev.kind, ev.device_id, "state"), json.dumps(
                {"v": 1, "availability": Availability(ev.availability).value, "detail": ev.detail}), retain=True)
        self._publish_table()

    def table(self) -> DeviceTable:
        rows = [DeviceRow(id=r["id"], kind=r["kind"], room_id=r.get("room_id"), availability=r["availability"],
                          last_seen=r.get("last_seen"), detail=r.get("detail") or "")
                for r in self.registry.snapshot()]
        return DeviceTable(devices=rows)

    def _publish_table(self) -> None:
        self.link.publish(self.topics.devices, encode(self.table()), retain=True)

    def _flush_soon(self) -> None:
        """A tag moved: it leaves before any more reports are read. The reader links read bursts of messages per
        wake-up; this one stops after the move (``cut_read``) and the flush runs next, before the loop polls
        again, so a move never waits for the reports read after it (the moves already read share its batch)."""
        for link in self.registry.links:
            link.cut_read()
        if not self._flush_due:
            self._flush_due = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_due = False
        self._send(self.presence.take_moves())

    def _send(self, batch: PresenceBatch | None) -> None:
        if batch is not None:
            self.link.publish(self.topics.presence, encode(batch), now=True)

    async def _flush_loop(self) -> None:
        while True:  # rule 8, every FLUSH_S: on the rooms the moves changed, and what time alone brings (grace)
            await asyncio.sleep(FLUSH_S)
            self._send(self.presence.take_findings())

    def _on_roster(self, topic: str, payload: bytes) -> None:
        try:
            roster = Roster.model_validate_json(payload)
        except ValidationError as exc:
            log.warning("bad roster refused: %s", exc.errors()[:1])
            return
        self.presence.set_roster(roster)

    # --- commands -------------------------------------------------------------------------------------------

    def _on_command(self, topic: str, payload: bytes) -> None:
        try:
            cmd = Command.model_validate_json(payload)
        except ValidationError as exc:
            log.warning("bad command refused: %s", exc.errors()[:1])
            return
        self._spawn(self._answer(cmd))

    async def _answer(self, cmd: Command) -> None:
        result = await self.execute(cmd)
        self.link.publish(self.topics.result(cmd.request_id), encode(result))

    async def execute(self, cmd: Command) -> CommandResult:
        """At most once per request id: a repeat gets the first answer (or waits for it while it runs)."""
        running = self._inflight.get(cmd.request_id)
        if running is not None:
            return (await asyncio.shield(running)).model_copy(update={"replayed": True})
        known = self.journal.known(cmd.request_id)
        if known is not None:
            return known
        if cmd.expires_at < time.time():
            return CommandResult(request_id=cmd.request_id, ok=False, code="BRIDGE_EXPIRED",
                                 message="the command expired before the bridge received it",
                                 message_zh="命令已过期，未执行")
        fut: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._inflight[cmd.request_id] = fut
        try:
            self.journal.start(cmd.request_id)  # on disk before the device is driven
            result = await self._run(cmd)
            self.journal.finish(result)
            fut.set_result(result)
            return result
        finally:
            self._inflight.pop(cmd.request_id, None)
            if not fut.done():
                fut.cancel()

    async def _run(self, cmd: Command) -> CommandResult:
        self.commands_run += 1
        a = cmd.args
        timeout = max(0.5, cmd.expires_at - time.time())
        try:
            adapter: Any = self.registry.get(cmd.device_id)
        except KeyError as exc:
            return CommandResult(request_id=cmd.request_id, ok=False, code="DEVICE_UNAVAILABLE", message=str(exc),
                                 message_zh="设备不在线", data={"device_id": cmd.device_id})
        data: dict[str, Any] = {}
        try:
            async with asyncio.timeout(timeout):
                if cmd.op == "locker_open":
                    await adapter.unlock(int(a["board"]), int(a["channel"]))
                elif cmd.op == "recorder_start":
                    started = await adapter.start_recording(str(a["room_id"]), str(a["stay_id"]))
                    data = dataclasses.asdict(started)
                elif cmd.op == "recorder_stop":
                    stopped = await adapter.stop_recording(str(a["recording_id"]))
                    data = dataclasses.asdict(stopped)
                elif cmd.op == "door_lock":
                    await adapter.lock()
                elif cmd.op == "door_unlock":
                    await adapter.unlock()
                elif cmd.op == "beacon_on":
                    await adapter.on(pattern=a.get("pattern", "flash"), severity=a.get("severity", "critical"))
                elif cmd.op == "beacon_off":
                    await adapter.off()
                else:  # camera_capture: not carried yet (the capture service keeps its in-process camera)
                    return CommandResult(request_id=cmd.request_id, ok=False, code="BRIDGE_UNSUPPORTED",
                                         message=f"{cmd.op} is not carried by the bridge", message_zh="不支持的命令")
        except DeviceError as exc:
            return CommandResult(request_id=cmd.request_id, ok=False, code=exc.code, message=str(exc),
                                 message_zh=exc.message_zh,
                                 data={"device_id": cmd.device_id, "device_code": getattr(exc, "device_code", None),
                                       "error": type(exc).__name__})
        except TimeoutError:
            return CommandResult(request_id=cmd.request_id, ok=False, code="DEVICE_TIMEOUT", message_zh="设备无响应",
                                 message=f"{cmd.op} on {cmd.device_id}: no answer before the command expired",
                                 data={"device_id": cmd.device_id, "error": "DeviceTimeout"})
        return CommandResult(request_id=cmd.request_id, ok=True, data=data)


async def serve(site: SiteConfig, data_dir: Path, ready: asyncio.Event | None = None) -> None:
    """Runs the bridge until SIGTERM/SIGINT; prints ``bridge ready`` once its broker link is up."""
    import signal

    server = BridgeServer(site, data_dir)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    with contextlib.suppress(TimeoutError):
        await server.link.wait_connected(30)
    # the adapters, the site and the imported modules live as long as the process: out of the collector's sight,
    # so the collections the 10 Hz reports bring walk only what they allocate (as the controller does)
    gc.collect()
    gc.freeze()
    print(f"bridge ready pid={os.getpid()}", flush=True)
    from ..systemd import Notifier

    notifier = Notifier()
    notifier.ready("bridge ready")
    await stop.wait()
    await notifier.stopping()
    await server.stop()
