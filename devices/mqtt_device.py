"""What every MQTT device adapter shares: topic subscriptions, availability from the device's own topic, bad-input
accounting, deduplication and commands. Availability, last seen and the event sink (behind the device's intake)
come from :class:`~devices.adapter.AdapterBase`, as for the serial adapters and the camera.

A kind's adapter (``devices/<kind>/adapter.py``) subclasses :class:`MqttDeviceAdapter`, names its event and state
messages (from its ``protocol.py``) and turns decoded messages into device-neutral events.

Availability: ``UNKNOWN`` until the retained availability topic is read; then ``ONLINE``/``OFFLINE`` as the device (or
its last will) says; ``DEGRADED`` while a kind reports a problem (a recorder whose heartbeats stopped); ``OFFLINE``
while the controller's own link to the broker is down. ``last_seen`` is the local time of the last valid message the
device itself sent (a will published by the broker does not count).

Bad input (malformed, oversized, wrong version, unknown event names, unknown fields) is counted per reason in
``bad_input``, logged once per reason, and never reaches the event sink. Unknown fields are stripped and the rest
of the message is delivered (see ``devices/mqtt_proto.py`` for why).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from devices import mqtt_proto as proto
from devices.adapter import AdapterBase
from devices.base import Availability, BadInputCounter, CodecError, EventSink
from devices.transport.mqtt import MqttLink

log = logging.getLogger(__name__)

M = TypeVar("M", bound=proto.Message)
C = TypeVar("C", bound=proto.Command)


class MqttDeviceAdapter(AdapterBase):
    """Base of the MQTT adapters. Subclasses set ``kind``, ``EVENTS`` (event name -> message class), ``STATE`` (the
    retained state message class, or None) and override :meth:`on_event` / :meth:`on_state`."""

    EVENTS: ClassVar[Mapping[str, type[proto.EventMessage]]] = {}
    STATE: ClassVar[type[proto.StateMessage] | None] = None

    def __init__(
        self,
        device_id: str,
        link: MqttLink,
        sink: EventSink,
        *,
        room_id: str | None = None,
        options: Mapping[str, Any] | None = None,
        command_timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(proto.check_id(device_id, "device id"), sink, options=options, clock=clock)
        self.link = link
        self.room_id = room_id
        self.options = dict(options or {})
        self.command_timeout_s = float(self.options.get("command_timeout_s", command_timeout_s))
        self.bad_input = BadInputCounter()
        self._prefix = proto.device_topic(link.site, self.kind, device_id)
        self._reported: bool | None = None  # what the availability topic last said
        self._degraded = ""
        self._undo: list[Callable[[], None]] = []
        self.state: proto.StateMessage | None = None

    # --- Adapter protocol ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to the device's topics; the shared link is started by its owner (the registry)."""
        if self._undo:
            return
        sub = self.link.subscribe
        self._undo.append(sub(f"{self._prefix}/availability", self._on_availability))
        self._undo.append(sub(f"{self._prefix}/event/+", self._on_event_msg))
        if self.STATE is not None:
            self._undo.append(sub(f"{self._prefix}/state", self._on_state_msg))
        self._undo.append(self.link.add_connection_listener(self._on_link))
        if not self.link.connected:
            self._refresh("MQTT broker not connected")

    async def stop(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        await self._stop_events()

    # --- inbound -------------------------------------------------------------------------------------------

    def _on_link(self, up: bool) -> None:
        # On reconnect the retained availability arrives again; until then we do not know.
        self._reported = None if up else self._reported
        self._refresh("" if up else "MQTT broker not connected")

    def _on_availability(self, topic: str, payload: bytes) -> None:
        try:
            online = proto.decode_availability(payload)
        except CodecError as exc:
            self.bad(getattr(exc, "reason", "bad_availability"), str(exc))
            return
        if online:
            self._seen()
        self._reported = online
        self._refresh("device reported online" if online else "device offline (reported or last will)")

    def _on_event_msg(self, topic: str, payload: bytes) -> None:
        name = topic.rsplit("/", 1)[-1]
        cls = self.EVENTS.get(name)
        if cls is None:
            self.bad("unknown_event", name[:40])
            return
        msg = self.decode(cls, payload)
        if msg is None:
            return
        if not self.link.dedup.first_time(msg.event_id):
            return  # QoS 1 redelivery or a device that sent twice: one event_id, one event
        self._seen()
        self.on_event(name, msg)

    def _on_state_msg(self, topic: str, payload: bytes) -> None:
        assert self.STATE is not None
        if not payload:
            return  # a retained message being cleared
        msg = self.decode(self.STATE, payload)
        if msg is None:
            return
        self._seen()
        previous, self.state = self.state, msg
        self.on_state(msg, previous)

    def decode(self, cls: type[M], payload: bytes) -> M | None:
        """Decode or count: returns None for bad input (counted, logged once per reason)."""
        try:
            decoded = proto.decode(cls, payload)
        except CodecError as exc:
            self.bad(getattr(exc, "reason", "malformed"), str(exc))
            return None
        if decoded.unknown:
            self.bad("unknown_field", ",".join(decoded.unknown))
        return decoded.msg

    def bad(self, reason: str, detail: str = "") -> None:
        if self.bad_input.note(reason):
            log.warning("%s %s: bad input (%s) %s; further ones are only counted", self.kind, self.device_id,
                        reason, detail[:120])

    # --- for subclasses ------------------------------------------------------------------------------------

    def on_event(self, name: str, msg: proto.EventMessage) -> None:
        """A new (deduplicated) event message; emit device-neutral events with :meth:`emit`."""

    def on_state(self, msg: proto.StateMessage, previous: proto.StateMessage | None) -> None:
        """A state snapshot (retained on connect, then on every change)."""

    def set_degraded(self, reason: str) -> None:
        """Mark (reason) or clear ("") a kind-specific problem; availability becomes DEGRADED while online."""
        self._degraded = reason
        self._refresh(reason or "recovered")

    def _refresh(self, detail: str) -> None:
        if not self.link.connected:
            new = Availability.OFFLINE
        elif self._reported is None:
            new = Availability.UNKNOWN
        elif not self._reported:
            new = Availability.OFFLINE
        elif self._degraded:
            new = Availability.DEGRADED
            detail = self._degraded
        else:
            new = Availability.ONLINE
        self._set_availability(new, detail)

    async def command(self, name: str, make: Callable[[str, str, float], proto.Command],
                      timeout_s: float | None = None) -> proto.Reply:
        """Send ``cmd/<name>`` built by ``make(request_id, reply_to, expires_at)`` and return the OK reply.
        Raises DeviceUnavailable, DeviceTimeout or DeviceRejected (see ``MqttLink.request``)."""
        return await self.link.request(
            f"{self._prefix}/cmd/{name}",
            lambda rid, reply_to, expires_at: proto.encode(make(rid, reply_to, expires_at)),
            timeout_s=self.command_timeout_s if timeout_s is None else timeout_s,
            device_id=self.device_id,
        )

    def snapshot(self) -> dict[str, Any]:
        return self.device_status() | {"room_id": self.room_id, "bad_input": dict(self.bad_input.counts)}
