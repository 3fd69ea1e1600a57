"""Where each wristband or visitor tag was last reported: filled by the devicebus from the wristband readers, read
by the services that need a person proven present in a room (the appropriate adult at an interview).

Kept in memory like the devicebus's live locations: a reading is about now, and after a restart the readers report
again. Only what a reader reported is here, never a location typed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Sighting:
    tag_id: str
    zone: str  # the reader's room id
    seen_at: datetime


@dataclass
class TagSightings:
    last: dict[str, Sighting] = field(default_factory=dict)

    def saw(self, tag_id: str, zone: str, at: datetime) -> None:
        self.last[tag_id] = Sighting(tag_id, zone, at)

    def gone(self, tag_id: str, zone: str) -> None:
        """The reader of ``zone`` no longer sees the tag (it left or was taken off)."""
        cur = self.last.get(tag_id)
        if cur is not None and cur.zone == zone:
            del self.last[tag_id]

    def seen_in(self, tag_id: str, zone: str, now: datetime, within: timedelta) -> bool:
        """The tag's last report puts it in ``zone`` no longer than ``within`` ago."""
        cur = self.last.get(tag_id)
        return cur is not None and cur.zone == zone and timedelta(0) <= now - cur.seen_at <= within
