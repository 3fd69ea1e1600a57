"""Presence in the bridge process: every wristband report lands here, at reader rate, and what leaves for the
controller is coalesced -- who moved where (the last zone of each tag per flush) and rule 8's outcomes.

Rule 8 (《公安机关执法办案管理中心建设规范》: a subject is never alone with a single officer, never outside the
rooms of their stay, never unguarded where a guard is required; 《公安机关办理刑事案件程序规定》第203条) is decided
by ``controller.domain.presence`` on the rooms that changed, with the roster and the time the controller sends
(:class:`~controller.bridge.messages.Roster`): the bridge reads no database and writes none; the controller's
services raise the alarms the findings call for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from devices.wristband_reader.adapter import TagAbsent, TagPresent

from ..domain import presence as rules8
from ..settings import SiteConfig
from .messages import FindingMsg, LocationChange, PresenceBatch, Roster


@dataclass
class _Tag:
    zone: str
    device_id: str


class BridgePresence:
    def __init__(self, site: SiteConfig) -> None:
        self.site = site
        self.tags: dict[str, _Tag] = {}
        self.roster: Roster | None = None
        self._grace: dict[str, rules8.GraceTracker] = {}
        self._pending: dict[str, LocationChange] = {}  # tag -> its latest change since the last flush
        self._dirty: set[str] = set()
        self.reports = 0

    # --- reader reports (10 Hz per tag; nothing leaves the bridge here) -------------------------------------

    def on_present(self, ev: TagPresent) -> bool:
        """Whether the tag moved (a change for the controller)."""
        self.reports += 1
        old = self.tags.get(ev.tag_id)
        if old is not None and old.zone == ev.zone:
            return False
        self.tags[ev.tag_id] = _Tag(ev.zone, ev.device_id)
        self._changed(ev.tag_id, ev.zone, old.zone if old else None, ev.device_id, ev.ts)
        return True

    def on_absent(self, ev: TagAbsent) -> bool:
        self.reports += 1
        cur = self.tags.get(ev.tag_id)
        if cur is not None and cur.zone == ev.zone:
            del self.tags[ev.tag_id]
            self._changed(ev.tag_id, None, ev.zone, ev.device_id, ev.ts)
            return True
        return False

    def _changed(self, tag_id: str, zone: str | None, old: str | None, device_id: str, ts: float) -> None:
        first = self._pending.get(tag_id)
        # coalesced: a tag that moved twice before the flush is one change from where the controller last saw it
        from_zone = first.from_zone if first is not None else old
        self._pending[tag_id] = LocationChange(tag_id=tag_id, zone=zone, from_zone=from_zone, device_id=device_id,
                                               t_sent=ts)
        self._dirty |= {z for z in (zone, old) if z}

    # --- what the controller tells us -----------------------------------------------------------------------

    def set_roster(self, roster: Roster) -> None:
        """The controller sends it after every committed stay or staff change and on each scheduler tick (with
        its time: grace periods run on the controller's clock, as they do in-process)."""
        self.roster = roster
        if roster.check_all:
            self._dirty |= {t.zone for t in self.tags.values()}

    # --- the flush: what leaves for the controller, moves first -------------------------------------------

    def take_moves(self) -> PresenceBatch | None:
        """The tags that moved since the last flush (each once, from where the controller last saw it), with the
        count of reports they stand for; sent before rule 8 is judged, so no screen waits for the judging."""
        if not self._pending:
            return None
        batch = PresenceBatch(changes=list(self._pending.values()), reports=self.reports, sent_at=time.time())
        self._pending.clear()
        self.reports = 0
        return batch

    def take_findings(self) -> PresenceBatch | None:
        """Rule 8 on the rooms that changed (or on every occupied room when the roster asked): the conditions
        past their grace, once each."""
        findings = self._check() if self._dirty else []
        reports, self.reports = self.reports, 0
        if not findings:
            return None
        return PresenceBatch(findings=findings, reports=reports, sent_at=time.time())

    def _check(self) -> list[FindingMsg]:
        roster = self.roster
        if roster is None:
            return []  # no roster yet: nobody is known, nothing to judge (the rooms stay marked)
        targets, self._dirty = self._dirty, set()
        by_zone: dict[str, list[str]] = {}
        for tag_id, tag in self.tags.items():
            if tag.zone in targets:
                by_zone.setdefault(tag.zone, []).append(tag_id)
        due: list[rules8.Finding] = []
        for room_id in targets:
            room = self.site.room(room_id)
            if room is None:
                continue
            owners = [roster.tag_owner[t] for t in by_zone.get(room_id, ()) if t in roster.tag_owner]
            view = rules8.room_presence(room_id, room.kind, "guard_required" in room.restrictions, owners,
                                        roster.stays)
            due += self._grace.setdefault(room_id, rules8.GraceTracker()).update(rules8.findings(view), roster.now)
        return [FindingMsg(kind=f.kind, key=f.key, stay_id=f.stay_id, room_id=f.room_id, details=f.details)
                for f in due]
