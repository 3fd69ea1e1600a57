"""Simulated wristband readers. Readers of one site share a :class:`TagField` that knows which reader sees each tag,
so moving a tag into a room makes the previous room's reader report it absent first."""

from __future__ import annotations

from typing import Any, ClassVar

from devices.wristband_reader import protocol as p
from hw_sim.mqtt_device import MqttSimDevice


class TagField:
    """Where every simulated tag is: tag id -> the reader that sees it."""

    def __init__(self) -> None:
        self.readers: dict[str, WristbandReaderSim] = {}
        self.where: dict[str, str] = {}


class WristbandReaderSim(MqttSimDevice):
    kind = p.KIND
    ACTIONS: ClassVar[tuple[str, ...]] = ("tag_move", "tag_leave", "tag_remove")

    def __init__(self, device_id: str, *, tag_field: TagField | None = None, **kw: Any) -> None:
        super().__init__(device_id, **kw)
        self.tag_field = tag_field if tag_field is not None else TagField()
        self.tag_field.readers[device_id] = self
        self.zone = self.room_id or device_id

    def _event(self, cls: type[p.TagEventMessage], tag_id: str, **extra: Any) -> p.TagEventMessage:
        return cls(tag_id=tag_id, reader_id=self.device_id, zone=self.zone, **extra, **self.new_event_fields())

    def tag_move(self, tag_id: str, rssi: float = -55.0) -> dict[str, Any]:
        """The tag walks into this reader's zone (the reader that saw it before reports it absent)."""
        previous = self.tag_field.where.get(tag_id)
        if previous is not None and previous != self.device_id and previous in self.tag_field.readers:
            self.tag_field.readers[previous].tag_leave(tag_id)
        self.tag_field.where[tag_id] = self.device_id
        self.publish_event("presence", self._event(p.PresenceMsg, tag_id, rssi=float(rssi)))
        return {"tag_id": tag_id, "from": previous, "to": self.device_id}

    def tag_leave(self, tag_id: str) -> dict[str, Any]:
        if self.tag_field.where.get(tag_id) == self.device_id:
            del self.tag_field.where[tag_id]
        self.publish_event("absent", self._event(p.AbsentMsg, tag_id))
        return {"tag_id": tag_id, "left": self.device_id}

    def tag_remove(self, tag_id: str, reason: str = "cut") -> dict[str, Any]:
        """The strap is opened or cut while the tag is in this zone."""
        self.publish_event("tag_removed", self._event(p.TagRemovedMsg, tag_id, reason=reason))
        return {"tag_id": tag_id, "reason": reason}

    def state_info(self) -> dict[str, Any]:
        return {"tags": sorted(t for t, r in self.tag_field.where.items() if r == self.device_id)}
