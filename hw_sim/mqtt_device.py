"""What every simulated MQTT device shares: its own paho client with its own last will, command handling in the
device role (through the kind's ``protocol.py``), and run-time faults.

Commands whose ``expires_at`` has passed when they would execute are dropped, never executed late and not answered.
A repeated ``request_id`` gets the cached reply again without executing twice.

Faults every MQTT sim supports:

``silent``      keeps the connection but sends nothing: no replies, events, states or heartbeats
``delayed``     replies, events and states go out after ``delay_s`` (default 1.0); a command whose deadline passes
                meanwhile is dropped at execution time
``offline``     the connection is cut without DISCONNECT, so the broker publishes the last will; clearing reconnects
``duplicate``   every event is published ``copies`` times (default 2) with the same event_id (tests deduplication)
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from devices import mqtt_proto as proto
from devices.base import BadInputCounter, CodecError
from devices.transport.mqtt import MqttLink
from hw_sim.base import DELAYED, OFFLINE, SILENT

log = logging.getLogger(__name__)

DUPLICATE = "duplicate"


class MqttSimDevice:
    kind: ClassVar[str] = ""
    FAULTS: ClassVar[tuple[str, ...]] = (SILENT, DELAYED, OFFLINE, DUPLICATE)
    COMMANDS: ClassVar[Mapping[str, type[proto.Command]]] = {}
    ACTIONS: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        device_id: str,
        *,
        url: str,
        site: str,
        room_id: str | None = None,
        options: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        credentials: Mapping[str, str] | None = None,
    ) -> None:
        self.device_id = proto.check_id(device_id, "device id")
        # The device's own broker account (username = device id) and signing key, from `devices credentials`;
        # None only on an open bench broker.
        creds = dict(credentials or {})
        self.key: bytes | None = bytes.fromhex(creds["key"]) if creds.get("key") else None
        self.url = url
        self.site = site
        self.room_id = room_id
        self.options = dict(options or {})
        self.clock = clock
        self.link = MqttLink(url, site=site, client_id=f"sim-{site}-{device_id}",
                             availability_topic=proto.availability_topic(site, self.kind, device_id),
                             backoff_max=1.0, username=device_id if "password" in creds else None,
                             password=creds.get("password"))
        self.faults: dict[str, dict[str, Any]] = {}
        self.bad_input = BadInputCounter()
        self.executed: collections.Counter[str] = collections.Counter()
        self.expired_dropped = 0
        self._replies: collections.OrderedDict[str, tuple[str, bytes]] = collections.OrderedDict()
        self._timers: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Event()
        self._undo: list[Callable[[], None]] = []

    # --- lifecycle -----------------------------------------------------------------------------------------

    def topic(self, *rest: str) -> str:
        return proto.device_topic(self.site, self.kind, self.device_id, *rest)

    async def start(self) -> None:
        if self.COMMANDS:
            self._undo.append(self.link.subscribe(self.topic("cmd", "+"), self._on_command))
        self._undo.append(self.link.add_connection_listener(self._on_link))
        await self.link.start()

    async def wait_ready(self, timeout_s: float = 5.0) -> None:
        await self.link.wait_connected(timeout_s)

    async def stop(self) -> None:
        for h in self._timers:
            h.cancel()
        self._timers.clear()
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for undo in self._undo:
            undo()
        self._undo.clear()
        await self.link.stop()

    def _on_link(self, up: bool) -> None:
        if up:
            self.on_connected()
        self._notify()

    def on_connected(self) -> None:
        """Publish what a real device publishes on (re)connect, e.g. its retained state."""

    # --- faults --------------------------------------------------------------------------------------------

    def set_fault(self, name: str, **params: Any) -> None:
        if name not in self.FAULTS:
            raise ValueError(f"{self.kind} does not support fault {name!r}; supported: {', '.join(self.FAULTS)}")
        self.faults[name] = params
        log.info("%s %s: fault %s on %s", self.kind, self.device_id, name, params or "")
        if name == OFFLINE:
            self._spawn(self.link.drop())
        self.on_fault(name, params)
        self._notify()

    def clear_fault(self, name: str | None = None) -> None:
        names = list(self.faults) if name is None else [name]
        for n in names:
            if self.faults.pop(n, None) is None:
                continue
            log.info("%s %s: fault %s off", self.kind, self.device_id, n)
            if n == OFFLINE:
                self.link.resume()
        self._notify()

    def on_fault(self, name: str, params: dict[str, Any]) -> None:
        """A kind reacts to a fault switched on (e.g. a door forced open now)."""

    # --- outbound ------------------------------------------------------------------------------------------

    def publish_event(self, name: str, msg: proto.EventMessage) -> None:
        copies = int(self.faults[DUPLICATE].get("copies", 2)) if DUPLICATE in self.faults else 1
        payload = proto.encode(msg)
        for _ in range(max(1, copies)):
            self._send(self.topic("event", name), payload, retain=False)

    def publish_state(self, msg: proto.StateMessage) -> None:
        self._send(self.topic("state"), proto.encode(msg), retain=True)

    def new_event_fields(self) -> dict[str, Any]:
        return {"event_id": proto.new_id(), "ts": self.clock()}

    def _send(self, topic: str, payload: bytes, *, retain: bool) -> None:
        if SILENT in self.faults:
            return
        if DELAYED in self.faults:
            self.later(float(self.faults[DELAYED].get("delay_s", 1.0)),
                       lambda: self.link.publish(topic, payload, retain=retain))
        else:
            self.link.publish(topic, payload, retain=retain)

    def later(self, delay_s: float, fn: Callable[[], Any]) -> asyncio.TimerHandle:
        """Run ``fn`` after ``delay_s`` on the loop timer; cancelled by :meth:`stop`."""
        handle: asyncio.TimerHandle

        def run() -> None:
            self._timers.discard(handle)
            fn()

        handle = asyncio.get_running_loop().call_later(delay_s, run)
        self._timers.add(handle)
        return handle

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- commands ------------------------------------------------------------------------------------------

    def _on_command(self, topic: str, payload: bytes) -> None:
        name = topic.rsplit("/", 1)[-1]
        cls = self.COMMANDS.get(name)
        if cls is None:
            self._bad("unknown_command", name)
            return
        try:
            decoded = proto.decode(cls, payload)
        except CodecError as exc:
            self._bad(getattr(exc, "reason", "malformed"), str(exc))
            return
        if decoded.unknown:
            self._bad("unknown_field", ",".join(decoded.unknown))
        cmd = decoded.msg
        if SILENT in self.faults:
            return
        cached = self._replies.get(cmd.request_id)
        if cached is not None:
            self._send(*cached, retain=False)  # a retry of a command already executed: same answer, no re-run
            return
        if DELAYED in self.faults:
            self.later(float(self.faults[DELAYED].get("delay_s", 1.0)), lambda: self._execute(name, cmd, False))
        else:
            self._execute(name, cmd, True)

    def _execute(self, name: str, cmd: proto.Command, send_delayed: bool) -> None:
        if cmd.expires_at <= self.clock():
            self.expired_dropped += 1
            log.info("%s %s: dropped expired %s (request %s)", self.kind, self.device_id, name, cmd.request_id)
            self._notify()
            return
        try:
            reply = self.handle_command(name, cmd)
        except Exception as exc:  # a sim bug must not kill the client; answer like a device would
            log.exception("%s %s: command %s failed", self.kind, self.device_id, name)
            reply = proto.Reply(request_id=cmd.request_id, ok=False, code="INTERNAL", detail=str(exc)[:200])
        self.executed[name] += 1
        payload = proto.encode(reply)
        self._replies[cmd.request_id] = (cmd.reply_to, payload)
        while len(self._replies) > 256:
            self._replies.popitem(last=False)
        if send_delayed:
            self._send(cmd.reply_to, payload, retain=False)
        else:
            self.link.publish(cmd.reply_to, payload)  # the delay was already served before executing
        self._notify()

    def handle_command(self, name: str, cmd: proto.Command) -> proto.Reply:
        raise NotImplementedError

    @staticmethod
    def ok(cmd: proto.Command, **data: Any) -> proto.Reply:
        return proto.Reply(request_id=cmd.request_id, ok=True, data=data)

    @staticmethod
    def refuse(cmd: proto.Command, code: str, detail: str = "") -> proto.Reply:
        return proto.Reply(request_id=cmd.request_id, ok=False, code=code, detail=detail)

    def _bad(self, reason: str, detail: str) -> None:
        if self.bad_input.note(reason):
            log.warning("%s %s: bad command input (%s) %s", self.kind, self.device_id, reason, detail[:120])

    # --- observation ---------------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()

    async def wait_until(self, pred: Callable[[], bool], timeout_s: float = 5.0) -> None:
        """Bounded wait until ``pred()`` holds after some change of this sim (commands, faults, link)."""
        async with asyncio.timeout(timeout_s):
            while not pred():
                self._changed.clear()
                await self._changed.wait()

    def state_info(self) -> dict[str, Any]:
        return {}

    def info(self) -> dict[str, Any]:
        return {
            "id": self.device_id, "kind": self.kind, "url": self.url, "room_id": self.room_id,
            "connected": self.link.connected, "faults": dict(self.faults), "supported_faults": list(self.FAULTS),
            "actions": list(self.ACTIONS), "executed": dict(self.executed), "expired_dropped": self.expired_dropped,
            "bad_input": dict(self.bad_input.counts), **self.state_info(),
        }
