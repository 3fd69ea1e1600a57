"""The one base of every device adapter: availability, last seen, and the event sink behind the device's intake.

The MQTT base (``devices/mqtt_device.py``), the serial base (``devices/serial_device.py``) and the camera
(``devices/camera/adapter.py``) subclass :class:`AdapterBase`; before it each kept its own copy of these. Every event
goes through the device's :class:`~devices.intake.Intake` (rate limit, bounded queue, duplicates folded, shed
counted) and then to the sink; an async sink's awaitables run one after another, in arrival order.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

from devices.base import Availability, AvailabilityChanged, DeviceEvent, EventSink
from devices.intake import Intake
from devices.kinds import DeviceOptions

log = logging.getLogger(__name__)


def intake_options(options: Mapping[str, Any] | None) -> DeviceOptions:
    """The intake's options out of a device's options (the rest belong to its kind; the registry and the site
    configuration check those against the kind's model)."""
    opts = dict(options or {})
    return DeviceOptions.model_validate({k: v for k, v in opts.items() if k in DeviceOptions.model_fields})


class AdapterBase:
    """Availability, last seen and the event sink, shared by every adapter. ``clock`` stamps ``last_seen`` and
    the events the base emits (wall-clock seconds)."""

    kind: ClassVar[str] = ""

    def __init__(self, device_id: str, sink: EventSink | None, *, options: Mapping[str, Any] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.device_id = device_id
        self._sink = sink
        self._clock = clock
        self._availability = Availability.UNKNOWN
        self._last_seen: float | None = None
        opts = intake_options(options)
        self.intake = Intake(self._deliver, rate_per_s=opts.intake_rate_per_s, burst=opts.intake_burst,
                             queue_max=opts.intake_queue_max, name=f"{self.kind} {device_id}")
        self._pending: collections.deque[Awaitable[Any]] = collections.deque()
        self._sink_task: asyncio.Task[None] | None = None

    # --- Adapter protocol ----------------------------------------------------------------------------------------

    @property
    def availability(self) -> Availability:
        return self._availability

    @property
    def last_seen(self) -> float | None:
        return self._last_seen

    # --- for subclasses ------------------------------------------------------------------------------------------

    def _seen(self) -> None:
        """The device itself just said something valid."""
        self._last_seen = self._clock()

    def _set_availability(self, value: Availability, detail: str = "") -> bool:
        """Sets availability; an actual change is logged and emitted (True)."""
        if value == self._availability:
            return False
        self._availability = value
        log.info("%s %s: %s %s", self.kind, self.device_id, value.value, detail)
        self.emit(AvailabilityChanged(self.device_id, self.kind, self._clock(), availability=value, detail=detail))
        return True

    def emit(self, event: DeviceEvent) -> None:
        """Hand an event to the sink through the device's intake."""
        self.intake.put(event)

    def _deliver(self, event: DeviceEvent) -> None:
        if self._sink is None:
            return
        try:
            result = self._sink(event)
        except Exception:  # a broken sink must not stop the device
            log.exception("%s %s: event sink failed on %s", self.kind, self.device_id, type(event).__name__)
            return
        if result is not None and inspect.isawaitable(result):
            self._pending.append(result)
            if self._sink_task is None or self._sink_task.done():
                self._sink_task = asyncio.get_running_loop().create_task(self._run_pending())

    async def _run_pending(self) -> None:
        while self._pending:
            aw = self._pending.popleft()
            try:
                await aw
            except Exception:
                log.exception("%s %s: async event sink failed", self.kind, self.device_id)

    async def _stop_events(self) -> None:
        """At stop: what the intake still holds goes to the sink; then the sink's pending work is let go."""
        await self.intake.stop()
        if self._sink_task is not None:
            self._sink_task.cancel()
            await asyncio.gather(self._sink_task, return_exceptions=True)
            self._sink_task = None
        while self._pending:
            aw = self._pending.popleft()
            if inspect.iscoroutine(aw):
                aw.close()

    def device_status(self) -> dict[str, Any]:
        """Availability, last seen and what the intake took and shed (for the registry's snapshot and metrics)."""
        return {"id": self.device_id, "kind": self.kind, "availability": self._availability.value,
                "last_seen": self._last_seen, "intake": self.intake.snapshot()}
