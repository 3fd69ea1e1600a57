"""What the controller and the device bridge say to each other over the site's broker: pydantic models, each with
a version field ``v`` so either side refuses a message of a version it does not know instead of misreading it.

Topics (all under ``hcc/<site>/bridge/<instance>/``, see ``wire.py``; QoS 1):

- ``cmd`` (controller -> bridge): a :class:`Command` with its ``request_id``; the bridge executes it at most once;
- ``result/<request_id>`` (bridge -> controller): its :class:`CommandResult`;
- ``event`` (bridge -> controller): a :class:`DeviceEventMsg` (what a device reported, typed by its event class);
- ``presence`` (bridge -> controller): :class:`PresenceBatch` -- coalesced location changes and rule-8 findings;
- ``devices`` (bridge -> controller, retained): :class:`DeviceTable`, every device's availability;
- ``availability`` (bridge, retained, also its last will): "online" / "offline";
- ``roster`` (controller -> bridge, retained): :class:`Roster`, who wears which wristband and where each open stay
  may be, with the controller's time (rule 8 runs on the controller's clock, a test clock included).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

VERSION: Literal[1] = 1

Op = Literal["locker_open", "recorder_start", "recorder_stop", "door_lock", "door_unlock", "beacon_on", "beacon_off",
             "camera_capture"]


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    v: Literal[1] = VERSION


class Command(_Msg):
    request_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    op: Op
    device_id: str
    args: dict[str, Any] = Field(default_factory=dict)
    expires_at: float  # epoch seconds: past it the bridge refuses to execute (the caller has given up)


class CommandResult(_Msg):
    request_id: str
    ok: bool
    code: str | None = None  # a DeviceError code, BRIDGE_EXPIRED or BRIDGE_INDETERMINATE
    message: str = ""
    message_zh: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    replayed: bool = False  # the answer of an earlier execution of the same request id (not executed again)


class DeviceEventMsg(_Msg):
    event_type: str  # a key of ``codec.EVENT_TYPES`` (the event class the bridge's adapter emitted)
    fields: dict[str, Any]


class DeviceRow(_Msg):
    id: str
    kind: str
    room_id: str | None = None
    availability: str
    last_seen: float | None = None
    detail: str = ""


class DeviceTable(_Msg):
    devices: list[DeviceRow]


class LocationChange(_Msg):
    tag_id: str
    zone: str | None  # None: the tag left every reader's zone
    from_zone: str | None
    device_id: str
    t_sent: float  # when the reader reported it (epoch seconds), for publish-to-screen latency


class FindingMsg(_Msg):
    kind: str
    key: str
    stay_id: str | None
    room_id: str
    details: dict[str, Any] = Field(default_factory=dict)


class PresenceBatch(_Msg):
    changes: list[LocationChange] = Field(default_factory=list)
    findings: list[FindingMsg] = Field(default_factory=list)
    reports: int = 0  # how many reader reports this batch stands for
    sent_at: float = 0.0  # the bridge's clock when it sent the batch (the presence lag in /metrics)


class StayHere(_Msg):
    case_no: str
    state: str
    allowed: list[str]


class Roster(_Msg):
    tag_owner: dict[str, tuple[str, str]]  # tag -> ("stay" | "staff" | "officer", id)
    stays: dict[str, StayHere]
    now: datetime  # the controller's clock
    check_all: bool = False  # every occupied room is to be checked again (a stay changed)


def encode(msg: _Msg) -> bytes:
    return msg.model_dump_json().encode()
