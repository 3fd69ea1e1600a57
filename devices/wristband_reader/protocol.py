"""Wristband reader messages (JSON over MQTT, both roles). Topics under ``hcc/<site>/wristband_reader/<reader id>/``:

``event/presence``   a tag is seen in the reader's zone: ``{v, event_id, ts, tag_id, reader_id, zone, rssi}``
``event/absent``     a tag is no longer seen in the zone:  ``{v, event_id, ts, tag_id, reader_id, zone}``
``event/tag_removed`` the tag's strap was opened or cut:   ``{v, event_id, ts, tag_id, reader_id, zone, reason}``

``zone`` is the room id the reader covers; ``rssi`` is in dBm. No commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from devices.mqtt_proto import EventMessage

KIND = "wristband_reader"
MAX_TAG_ID = 64


@dataclass(frozen=True, kw_only=True)
class TagEventMessage(EventMessage):
    tag_id: str
    reader_id: str
    zone: str

    def __post_init__(self) -> None:
        EventMessage.__post_init__(self)
        if not self.tag_id or len(self.tag_id) > MAX_TAG_ID:
            raise ValueError(f"tag_id must be 1..{MAX_TAG_ID} characters")


@dataclass(frozen=True, kw_only=True)
class PresenceMsg(TagEventMessage):
    rssi: float


@dataclass(frozen=True, kw_only=True)
class AbsentMsg(TagEventMessage):
    pass


@dataclass(frozen=True, kw_only=True)
class TagRemovedMsg(TagEventMessage):
    reason: Literal["opened", "cut", "tamper"] = "cut"


EVENTS: dict[str, type[EventMessage]] = {"presence": PresenceMsg, "absent": AbsentMsg, "tag_removed": TagRemovedMsg}
