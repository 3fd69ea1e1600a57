"""What every device adapter shares: availability, the error hierarchy, the event base and the adapter protocol.

Adapters emit device-neutral events (dataclasses below or subclasses in ``devices/<kind>/adapter.py``) through one
callback, and offer async commands. The controller's devicebus turns the events into service calls; nothing in
``devices/`` knows about stays, rooms or staff.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field, fields
from typing import ClassVar, Protocol, runtime_checkable


class Availability(enum.StrEnum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    DEGRADED = "degraded"  # answering, but with errors (garbled frames, retries, a failed sensor)
    OFFLINE = "offline"


class DeviceError(Exception):
    """Base of every device failure. ``code`` is stable and reaches the API's error shape."""

    code = "DEVICE_ERROR"
    message_zh = "设备故障"

    def __init__(self, message: str = "", *, device_id: str | None = None) -> None:
        super().__init__(message or self.__class__.__name__)
        self.device_id = device_id


class DeviceTimeout(DeviceError):
    """The device did not answer within its timeout, after every retry."""

    code = "DEVICE_TIMEOUT"
    message_zh = "设备无响应"


class DeviceRejected(DeviceError):
    """The device answered, and said no (a refused command, an error status)."""

    code = "DEVICE_REJECTED"
    message_zh = "设备拒绝执行"


class DeviceUnverified(DeviceRejected):
    """A reply that could not be proven to come from the device asked (missing or wrong signature)."""

    code = "DEVICE_UNVERIFIED"
    message_zh = "设备应答未通过验证"


class DeviceUnavailable(DeviceError):
    """The link to the device is down (port gone, broker unreachable, device offline)."""

    code = "DEVICE_UNAVAILABLE"
    message_zh = "设备不在线"


class CodecError(ValueError):
    """A codec's own error: bytes or JSON that are not a valid frame/message. The only exception decoders raise."""


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """Base of every event an adapter emits.

    ``repeats`` is how many reports of the same condition this one stands for: a device's intake folds duplicates
    into the newest when its queue is full (``devices/intake.py``). ``critical`` events (a panic press, a door forced
    open) are never the newest one dropped. Two events are duplicates when :meth:`condition` is equal: the same class
    and the same fields but for those in ``VOLATILE`` (time, message ids, signal strength).
    """

    critical: ClassVar[bool] = False
    VOLATILE: ClassVar[frozenset[str]] = frozenset({"ts", "repeats", "event_id", "device_ts"})

    device_id: str
    kind: str
    ts: float = field(default_factory=time.time)
    repeats: int = field(default=1, kw_only=True)

    def condition(self) -> Hashable:
        """What this event says about the device, without its time and ids (equal for duplicates)."""
        key = (type(self), *(getattr(self, name) for name in _condition_fields(type(self))))
        try:
            hash(key)
        except TypeError:  # a field that cannot be compared cheaply: the event is its own condition
            return (type(self), id(self))
        return key


_FIELDS: dict[type[DeviceEvent], tuple[str, ...]] = {}


def _condition_fields(cls: type[DeviceEvent]) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls) if f.name not in cls.VOLATILE)
    return names


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyForged(DeviceEvent):
    """A reply refused as not from the device that was asked: on another device's reply topic
    (``wrong_device``), naming another request (``wrong_request_id``), or unsigned/badly signed
    (``bad_signature``). ``device_id`` is the client whose topic carried it."""

    reason: str
    request_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownSource(DeviceEvent):
    """Messages under the site's tree from a device id the site does not list, or on a malformed topic.
    ``device_id`` names the source (``<kind>/<id>`` or the topic's first levels); ``count`` is how many so far."""

    topic: str
    count: int


@dataclass(frozen=True, slots=True)
class AvailabilityChanged(DeviceEvent):
    """Critical for the intake: the newest availability of a device is never the one dropped."""

    critical = True
    VOLATILE = DeviceEvent.VOLATILE | {"detail"}

    availability: Availability = Availability.UNKNOWN
    detail: str = ""


EventSink = Callable[[DeviceEvent], Awaitable[None] | None]


@runtime_checkable
class Adapter(Protocol):
    """The shape of every device adapter. Configured by a URL only, so hardware and simulator differ in the URL."""

    device_id: str
    kind: str

    @property
    def availability(self) -> Availability: ...

    @property
    def last_seen(self) -> float | None: ...

    async def start(self) -> None:
        """Connect and begin emitting events. Must not raise when the device is absent: retry later instead."""

    async def stop(self) -> None:
        """Release the link and cancel every task the adapter started."""


@dataclass(slots=True)
class BadInputCounter:
    """Counts bad input from a device per kind and says whether this is the first of its kind (log once per kind)."""

    counts: dict[str, int] = field(default_factory=dict)

    def note(self, kind: str) -> bool:
        n = self.counts.get(kind, 0) + 1
        self.counts[kind] = n
        return n == 1
