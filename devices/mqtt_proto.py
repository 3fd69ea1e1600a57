"""The MQTT device protocol every MQTT kind shares: topic grammar, JSON envelopes and strict, pure decoding.

Topics (DESIGN.md, "MQTT topics")::

    hcc/<site>/<kind>/<id>/availability          "online" | "offline", retained, the client's last will
    hcc/<site>/<kind>/<id>/state                 retained JSON snapshot
    hcc/<site>/<kind>/<id>/event/<name>          QoS 1, carries event_id and ts
    hcc/<site>/<kind>/<id>/cmd/<name>            QoS 1, carries request_id, reply_to, expires_at
    hcc/<site>/<kind>/<id>/reply/<request_id>    {v, request_id, ok, code, detail, data}

A reply travels under the asked device's own prefix, which the broker's ACL lets that device alone write: a reply is
accepted only on the topic of the device that was asked and only when it names the request id it answers.

Payload policy (applies to every kind, both roles):

- at most ``MAX_PAYLOAD_BYTES`` (64 KiB), UTF-8 JSON, an object, with an integer ``v`` in ``SUPPORTED_VERSIONS``;
  anything else raises :class:`MessageError` (a :class:`CodecError`) with a stable ``reason``.
- every declared field is type-checked (``bool`` is never accepted as a number, NaN/Infinity are refused, strings
  are bounded); a missing required field is an error.
- unknown extra fields are *tolerated and reported*: the message decodes, the extra names are returned in
  :attr:`Decoded.unknown` and never reach the handler. Receivers count them as bad input ("unknown_field") and log
  once. Tolerating them lets a device firmware add a field without taking the centre down; refusing the whole
  message would turn a harmless addition into a lost panic-button press.

Decoders raise nothing but :class:`MessageError`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from devices.base import CodecError

VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_STR = 512
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
TOPIC_ROOT = "hcc"

# What every broker of a site is told beyond its listeners and accounts (the generated site include, the demo's and
# the simulator's brokers; systemd/mosquitto/hcc.conf carries the same lines, a unit test checks it does):
BROKER_SETTINGS = (
    # a burst of presence reports while a subscriber is busy is queued for it, not dropped (mosquitto: 1000)
    "max_queued_messages 100000",
    # QoS 1 messages sent to one subscriber ahead of its acknowledgements (mosquitto: 20): the device bridge
    # takes every reader's 10 Hz reports, and with 20 at a time each round of PUBACKs, when the PC is busy,
    # held the next reports back in the broker (presence on screen 100 ms and more late at 2,500 reports/s)
    "max_inflight_messages 1000",
)

AVAILABILITY_ONLINE = b"online"
AVAILABILITY_OFFLINE = b"offline"


class MessageError(CodecError):
    """A payload that is not a valid message. ``reason`` is a short stable name used to count bad input per kind."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


# --- topics ----------------------------------------------------------------------------------------------------


def check_id(value: str, what: str = "id") -> str:
    if not ID_RE.match(value):
        raise ValueError(f"{what} {value!r} must match [a-z0-9][a-z0-9-]*")
    return value


def device_topic(site: str, kind: str, device_id: str, *rest: str) -> str:
    """``hcc/<site>/<kind>/<id>/<rest...>``; ids are checked so a typo cannot widen a subscription."""
    check_id(site, "site")
    check_id(device_id, "device id")
    return "/".join((TOPIC_ROOT, site, kind, device_id, *rest))


def availability_topic(site: str, kind: str, device_id: str) -> str:
    return device_topic(site, kind, device_id, "availability")


def controller_topic(site: str, *rest: str) -> str:
    check_id(site, "site")
    return "/".join((TOPIC_ROOT, site, "controller", *rest))


def reply_topic(site: str, request_id: str) -> str:
    """The old shared reply topic; only simulators' tests address it directly. The controller asks for
    :func:`device_reply_topic`."""
    return controller_topic(site, "reply", request_id)


def device_reply_topic(device_prefix: str, request_id: str) -> str:
    """``<device prefix>/reply/<request_id>``: writable by that device alone (the generated ACL)."""
    return f"{device_prefix}/reply/{request_id}"


def reply_filter(site: str) -> str:
    """Every device's replies: ``hcc/<site>/+/+/reply/+``."""
    check_id(site, "site")
    return "/".join((TOPIC_ROOT, site, "+", "+", "reply", "+"))


def new_id() -> str:
    """A fresh event/request id: a UUID4 in its canonical lowercase form (matches ``[a-z0-9-]``)."""
    return str(uuid.uuid4())


# --- envelopes -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Message:
    v: int = VERSION


@dataclass(frozen=True, kw_only=True)
class EventMessage(Message):
    """Every event: a unique ``event_id`` (receivers deduplicate by it) and the device's ``ts`` (epoch seconds)."""

    event_id: str
    ts: float

    def __post_init__(self) -> None:
        if not self.event_id or len(self.event_id) > 128:
            raise ValueError("event_id must be 1..128 characters")


@dataclass(frozen=True, kw_only=True)
class StateMessage(Message):
    ts: float


@dataclass(frozen=True, kw_only=True)
class Command(Message):
    """Every command. A device drops a command whose ``expires_at`` (epoch seconds) has passed, without executing
    or answering it: an unlock must never fire late."""

    request_id: str
    reply_to: str
    expires_at: float

    def __post_init__(self) -> None:
        if not ID_RE.match(self.request_id):
            raise ValueError("request_id must match [a-z0-9-]")
        if not self.reply_to.startswith(TOPIC_ROOT + "/") or "+" in self.reply_to or "#" in self.reply_to:
            raise ValueError("reply_to must be a plain hcc/ topic")


@dataclass(frozen=True, kw_only=True)
class Reply(Message):
    """The device's answer on ``reply_to``. ``code`` is ``"OK"`` or a stable error code; ``data`` carries results."""

    request_id: str
    ok: bool
    code: str = "OK"
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


M = TypeVar("M", bound=Message)


@dataclass(frozen=True, slots=True)
class Decoded(Generic[M]):
    msg: M
    unknown: tuple[str, ...] = ()


# --- encoding / decoding ---------------------------------------------------------------------------------------


def encode(msg: Message) -> bytes:
    return json.dumps(dataclasses.asdict(msg), separators=(",", ":"), ensure_ascii=False).encode()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def load_object(payload: bytes) -> dict[str, Any]:
    """Bytes -> JSON object with a supported ``v``; raises MessageError otherwise."""
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise MessageError("malformed", "payload is not bytes")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise MessageError("oversized", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        obj = json.loads(bytes(payload).decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise MessageError("malformed", str(exc)[:100]) from None
    if not isinstance(obj, dict):
        raise MessageError("not_object", type(obj).__name__)
    if "v" not in obj:
        raise MessageError("missing_v")
    v = obj["v"]
    if not isinstance(v, int) or isinstance(v, bool):
        raise MessageError("bad_v", repr(v)[:40])
    if v not in SUPPORTED_VERSIONS:
        raise MessageError("unsupported_v", str(v))
    return obj


Checker = Callable[[Any, str], Any]


def _checker(tp: Any) -> Checker:
    """A checker for one declared field type, built once per message class (decoding is on the hot path)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(inner) != 1:  # pragma: no cover - our messages use only ``X | None``
            raise TypeError(f"unsupported field type {tp}")
        check_inner = _checker(inner[0])
        return lambda value, name: None if value is None else check_inner(value, name)
    if origin is Literal:
        allowed = frozenset(typing.get_args(tp))

        def check_literal(value: Any, name: str) -> Any:
            if isinstance(value, str) and value in allowed:
                return value
            raise MessageError("bad_field", f"{name}={str(value)[:40]!r}")

        return check_literal
    if tp is bool:
        return _typed(lambda v: isinstance(v, bool), "bool")
    if tp is int:
        return _typed(lambda v: type(v) is int and -(2**53) <= v <= 2**53, "int")
    if tp is float:
        def check_float(value: Any, name: str) -> Any:
            if type(value) is float and math.isfinite(value):
                return value
            if type(value) is int and -(2**53) <= value <= 2**53:  # a huge int would overflow float()
                return float(value)
            raise MessageError("bad_field", f"{name}: expected a finite number")

        return check_float
    if tp is str:
        return _typed(lambda v: isinstance(v, str) and len(v) <= MAX_STR, "str")
    if origin is dict or tp is dict:
        return _typed(lambda v: isinstance(v, dict), "object")
    raise TypeError(f"unsupported field type {tp}")  # pragma: no cover


def _typed(ok: Callable[[Any], bool], what: str) -> Checker:
    def check(value: Any, name: str) -> Any:
        if ok(value):
            return value
        raise MessageError("bad_field", f"{name}: expected {what}")

    return check


_PLANS: dict[type, tuple[tuple[str, Checker, bool], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, Checker, bool], ...]:
    plan = _PLANS.get(cls)
    if plan is None:
        hints = typing.get_type_hints(cls)
        plan = tuple(
            (f.name, _checker(hints[f.name]),
             f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
            for f in dataclasses.fields(cls)
        )
        _PLANS[cls] = plan
    return plan


def from_object(cls: type[M], obj: dict[str, Any]) -> Decoded[M]:
    """A decoded JSON object -> ``cls``; unknown keys are returned, not passed on."""
    plan = _plan(cls)
    kwargs: dict[str, Any] = {}
    for name, check, required in plan:
        if name in obj:
            kwargs[name] = check(obj[name], name)
        elif required:
            raise MessageError("missing_field", name)
    unknown: tuple[str, ...] = ()
    if len(kwargs) != len(obj):
        unknown = tuple(sorted(str(k)[:40] for k in obj if k not in kwargs))
    try:
        msg = cls(**kwargs)
    except (TypeError, ValueError) as exc:  # __post_init__ checks of a kind
        raise MessageError("bad_field", str(exc)[:100]) from None
    return Decoded(msg, unknown)


def decode(cls: type[M], payload: bytes) -> Decoded[M]:
    """Bytes -> message of ``cls``; raises MessageError (a CodecError) and nothing else."""
    return from_object(cls, load_object(payload))


def decode_availability(payload: bytes) -> bool:
    """``online`` -> True, ``offline`` -> False; anything else raises MessageError."""
    p = bytes(payload).strip()
    if p == AVAILABILITY_ONLINE:
        return True
    if p == AVAILABILITY_OFFLINE:
        return False
    raise MessageError("bad_availability", repr(p[:20]))
