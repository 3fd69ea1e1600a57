"""Rule 8 on live locations: who is in which room, and what is wrong with it. Pure: the devicebus feeds it.

A condition must hold for its grace period before it raises (a subject walked between rooms, an officer stepped
out for a moment); co-case contact and a removed tag raise at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

GUARDED_KINDS = frozenset({"interrogation", "inquiry", "activity", "medical", "search", "collection", "registration"})
INTERVIEW_KINDS = frozenset({"interrogation", "inquiry"})


@dataclass(frozen=True)
class SubjectHere:
    stay_id: str
    case_no: str
    allowed_rooms: frozenset[str]  # where the stay says they may be now
    in_interview: bool = False


@dataclass(frozen=True)
class RoomPresence:
    room_id: str
    kind: str
    guard_required: bool
    subjects: tuple[SubjectHere, ...] = ()
    staff_ids: frozenset[str] = frozenset()
    officer_ids: frozenset[str] = frozenset()


class StayFacts(Protocol):
    """What rule 8 needs of an open stay: its case, its state, and the rooms it may be in now."""

    @property
    def case_no(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def allowed(self) -> Iterable[str]: ...


def room_presence(room_id: str, kind: str, guard_required: bool, owners: Iterable[tuple[str, str]],
                  stays: Mapping[str, StayFacts]) -> RoomPresence:
    """Who is in a room, from the owners of the tags its reader reports there (``("stay" | "staff" | "officer" |
    "visitor", id)``) and the open stays: the same view in the controller and in the device bridge. A visitor, or
    a stay no longer open, counts as nobody."""
    subjects: list[SubjectHere] = []
    staff: set[str] = set()
    officers: set[str] = set()
    for owner_kind, ident in owners:
        st = stays.get(ident) if owner_kind == "stay" else None
        if st is not None:
            subjects.append(SubjectHere(ident, st.case_no, frozenset(st.allowed), st.state == "in_interview"))
        elif owner_kind in ("staff", "officer"):
            staff.add(ident)
            if owner_kind == "officer":
                officers.add(ident)
    return RoomPresence(room_id, kind, guard_required, tuple(subjects), frozenset(staff), frozenset(officers))


@dataclass(frozen=True)
class Finding:
    kind: str  # an alarm kind of domain.alarms
    key: str  # identifies the condition (one open alarm per key)
    stay_id: str | None
    room_id: str
    details: dict[str, Any] = field(default_factory=dict)


def findings(room: RoomPresence) -> list[Finding]:
    """Every rule-8 condition that holds in a room right now (before grace periods)."""
    out: list[Finding] = []
    if not room.subjects:
        return out
    if (room.kind in GUARDED_KINDS or room.guard_required) and not room.staff_ids:
        for s in room.subjects:
            out.append(Finding("unattended", f"unattended:{s.stay_id}:{room.room_id}", s.stay_id, room.room_id))
    if room.kind in INTERVIEW_KINDS and any(s.in_interview for s in room.subjects) and len(room.officer_ids) < 2:
        # 《公安机关办理刑事案件程序规定》第203条：讯问时侦查人员不得少于二人
        s = next(s for s in room.subjects if s.in_interview)
        out.append(Finding("lone_officer", f"lone_officer:{s.stay_id}:{room.room_id}", s.stay_id, room.room_id,
                           {"officers_present": sorted(room.officer_ids)}))
    by_case: dict[str, list[str]] = {}
    for s in room.subjects:
        by_case.setdefault(s.case_no, []).append(s.stay_id)
    for case_no, ids in by_case.items():
        if len(ids) > 1:
            ids = sorted(ids)
            out.append(Finding("co_case_contact", f"co_case:{room.room_id}:{','.join(ids)}", ids[0], room.room_id,
                               {"stay_ids": ids, "case_no": case_no}))
    for s in room.subjects:
        if room.room_id not in s.allowed_rooms:
            out.append(Finding("location_not_allowed", f"location:{s.stay_id}:{room.room_id}", s.stay_id,
                               room.room_id, {"allowed": sorted(s.allowed_rooms)}))
    return out


GRACE = {"unattended": timedelta(seconds=60), "lone_officer": timedelta(seconds=60),
         "co_case_contact": timedelta(0), "location_not_allowed": timedelta(seconds=120)}


@dataclass
class GraceTracker:
    """Remembers since when each condition has held; reports those past their grace, once each."""

    since: dict[str, datetime] = field(default_factory=dict)
    reported: set[str] = field(default_factory=set)

    def update(self, current: list[Finding], now: datetime,
               grace: dict[str, timedelta] | None = None) -> list[Finding]:
        grace = grace or GRACE
        keys = {f.key for f in current}
        for gone in set(self.since) - keys:  # the condition ended: it may raise again next time
            self.since.pop(gone, None)
            self.reported.discard(gone)
        due = []
        for f in current:
            start = self.since.setdefault(f.key, now)
            if f.key not in self.reported and now - start >= grace.get(f.kind, timedelta(0)):
                self.reported.add(f.key)
                due.append(f)
        return due
