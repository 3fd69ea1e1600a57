"""The devicebus with its devices in the bridge process (``[bridge] mode = "process"``): the controller keeps the
handlers, the ports and the reactions, and every database write (through the services); the adapters, the
wristband stream and rule 8 run in ``python -m controller.bridge`` (README, "Processes").

- :class:`RemotePresence`: who is where arrives coalesced from the bridge (a change per tag that moved, never every
  10 Hz report) and is applied as the in-process tracker applies a reader's report (the live location message, an
  unknown tag's alarm); rule 8's findings arrive decided and become alarms through ``services/alarms.py``. The
  bridge judges on the roster sent from here -- who wears which wristband, where each open stay may be, and the
  controller's clock -- after every committed stay or staff change and on each scheduler tick.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from devices.wristband_reader.adapter import TagAbsent, TagPresent

from ..bridge import messages as m
from ..clock import Clock
from ..domain import presence as rules8
from ..hub import Hub
from ..services import alarms
from ..services.sightings import TagSightings
from ..settings import SiteConfig
from ..store.db import Database, UnitOfWork
from ..store.tables import Alarm
from .presence import SYSTEM, PresenceTracker, Spawn


class RemotePresence(PresenceTracker):
    """The presence tracker fed by the bridge's coalesced batches; rule 8 is decided in the bridge."""

    def __init__(self, site: SiteConfig, db: Database, clock: Clock, hub: Hub, spawn: Spawn,
                 sightings: TagSightings | None = None) -> None:
        super().__init__(site, db, clock, hub, spawn, sightings)
        self.send_roster: Callable[[m.Roster], None] = lambda roster: None  # the bridge client's, set by the bus

    def _schedule_check(self) -> None:
        return None  # rule 8 runs in the bridge, on the rooms that changed there

    async def check_rooms(self, rooms: set[str] | None = None) -> list[rules8.Finding]:
        self._dirty_rooms = set()
        return []

    async def refresh_tags(self) -> None:
        await super().refresh_tags()
        self._send_roster(check_all=True)

    async def tick(self) -> None:
        """From the scheduler: the bridge checks every occupied room with our time (grace periods run out)."""
        self._send_roster(check_all=True)
        self._hold_sightings()

    def tags_in(self, room_id: str) -> dict[str, datetime]:
        """A tag the bridge holds in a room is there now: its batches carry changes only, and a tag that leaves
        (or that the reader stops seeing) arrives as an absence."""
        now = self.clock.now()
        return {t.tag_id: now for t in self.tags.values() if t.zone == room_id}

    def _hold_sightings(self) -> None:
        """Coalesced presence sends a change, not every report: a tag still held where the bridge last put it was
        seen there now (what the services' presence windows ask, e.g. the appropriate adult at an interview)."""
        now = self.clock.now()
        for t in self.tags.values():
            self.sightings.saw(t.tag_id, t.zone, now)

    def _send_roster(self, check_all: bool) -> None:
        stays = {sid: m.StayHere(case_no=st.case_no, state=st.state, allowed=sorted(st.allowed))
                 for sid, st in self._stays.items()}
        self.send_roster(m.Roster(tag_owner=dict(self.tag_owner), stays=stays, now=self.clock.now(),
                                  check_all=check_all))

    def apply(self, batch: m.PresenceBatch) -> None:
        for ch in batch.changes:
            if ch.zone is None:
                if ch.from_zone is not None:
                    self.on_absent(TagAbsent(ch.device_id, "wristband_reader", ch.t_sent, tag_id=ch.tag_id,
                                             zone=ch.from_zone, event_id=""))
            else:
                self.on_present(TagPresent(ch.device_id, "wristband_reader", ch.t_sent, tag_id=ch.tag_id,
                                           zone=ch.zone, rssi=0.0, event_id=""))
        for f in batch.findings:
            self._spawn(self.db.write(SYSTEM, _raiser(f)))


def _raiser(f: m.FindingMsg) -> Callable[[UnitOfWork], Alarm | None]:
    return lambda uow: alarms.raise_unless_open(uow, f.kind, f.key, stay_id=f.stay_id, room_id=f.room_id, **f.details)
