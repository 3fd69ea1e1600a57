"""Rule 8 on live locations (controller/domain/presence.py): each condition, and the grace periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from controller.domain.presence import (
    GRACE,
    Finding,
    GraceTracker,
    RoomPresence,
    SubjectHere,
    findings,
    room_presence,
)

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def subject(stay_id: str, case_no: str = "A1", allowed: tuple[str, ...] = ("r1",), interview: bool = False
            ) -> SubjectHere:
    return SubjectHere(stay_id, case_no, frozenset(allowed), interview)


def kinds(room: RoomPresence) -> list[str]:
    return [f.kind for f in findings(room)]


def test_an_empty_room_has_no_findings_even_unguarded() -> None:
    assert findings(RoomPresence("r1", "interrogation", guard_required=True)) == []


def test_a_subject_alone_in_a_guarded_kind_or_a_guard_required_room_is_unattended() -> None:
    alone = RoomPresence("r1", "medical", False, (subject("s1"),))
    assert [(f.kind, f.key, f.stay_id) for f in findings(alone)] == [("unattended", "unattended:s1:r1", "s1")]
    assert kinds(RoomPresence("r1", "waiting", True, (subject("s1"),))) == ["unattended"]
    assert kinds(RoomPresence("r1", "waiting", False, (subject("s1"),))) == []  # a waiting room needs no guard
    assert kinds(RoomPresence("r1", "medical", False, (subject("s1"),), staff_ids=frozenset({"p1"}))) == []


def test_an_interview_needs_two_officers_present() -> None:
    room = RoomPresence("r1", "interrogation", False, (subject("s1", interview=True),),
                        staff_ids=frozenset({"p1"}), officer_ids=frozenset({"p1"}))
    (lone,) = findings(room)
    assert lone.kind == "lone_officer" and lone.details == {"officers_present": ["p1"]}
    two = RoomPresence("r1", "interrogation", False, (subject("s1", interview=True),),
                       staff_ids=frozenset({"p1", "p2"}), officer_ids=frozenset({"p1", "p2"}))
    assert kinds(two) == []
    not_interviewing = RoomPresence("r1", "interrogation", False, (subject("s1"),), staff_ids=frozenset({"p1"}))
    assert kinds(not_interviewing) == []


def test_co_case_subjects_in_one_room_are_one_finding_naming_both() -> None:
    room = RoomPresence("r1", "waiting", False, (subject("s2"), subject("s1"), subject("s3", case_no="B")))
    (contact,) = findings(room)
    assert contact.kind == "co_case_contact" and contact.key == "co_case:r1:s1,s2" and contact.stay_id == "s1"
    assert contact.details == {"stay_ids": ["s1", "s2"], "case_no": "A1"}


def test_a_subject_where_the_stay_does_not_allow_them() -> None:
    room = RoomPresence("r9", "waiting", False, (subject("s1", allowed=("r1", "r2")),))
    (where,) = findings(room)
    assert where.kind == "location_not_allowed" and where.details == {"allowed": ["r1", "r2"]}


def test_grace_periods_delay_each_kind_and_report_once() -> None:
    unattended = Finding("unattended", "u:s1:r1", "s1", "r1")
    contact = Finding("co_case_contact", "c:r1", "s1", "r1")
    tracker = GraceTracker()
    assert tracker.update([unattended, contact], T0) == [contact]  # co-case contact has no grace
    assert tracker.update([unattended, contact], T0 + GRACE["unattended"] - timedelta(seconds=1)) == []
    assert tracker.update([unattended, contact], T0 + GRACE["unattended"]) == [unattended]
    assert tracker.update([unattended, contact], T0 + timedelta(hours=1)) == []  # once each


def test_a_condition_that_ends_starts_its_grace_again() -> None:
    unattended = Finding("unattended", "u:s1:r1", "s1", "r1")
    tracker = GraceTracker()
    tracker.update([unattended], T0)
    assert tracker.update([], T0 + timedelta(seconds=30)) == []  # the officer came back
    assert tracker.update([unattended], T0 + timedelta(seconds=40)) == []
    assert tracker.update([unattended], T0 + timedelta(seconds=99)) == []
    assert tracker.update([unattended], T0 + timedelta(seconds=100)) == [unattended]


def test_a_site_may_pass_its_own_grace_table() -> None:
    where = Finding("location_not_allowed", "l:s1:r9", "s1", "r9")
    assert GraceTracker().update([where], T0, {"location_not_allowed": timedelta(0)}) == [where]
    assert GraceTracker().update([where], T0) == []


def test_the_room_view_from_tag_owners_counts_subjects_staff_and_officers_and_nobody_else() -> None:
    """The one view the controller and the device bridge both judge: visitors and stays no longer open count as
    nobody; an officer is staff too."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Open:
        case_no: str
        state: str
        allowed: list[str]

    stays = {"s-1": Open("A-1", "in_interview", ["int-1"]), "s-2": Open("A-2", "waiting", ["wait-1"])}
    view = room_presence("int-1", "interrogation", False,
                           [("stay", "s-1"), ("officer", "o-1"), ("staff", "g-1"), ("visitor", "v-1"),
                            ("stay", "s-gone")], stays)
    assert view.subjects == (SubjectHere("s-1", "A-1", frozenset({"int-1"}), True),)
    assert view.staff_ids == {"o-1", "g-1"} and view.officer_ids == {"o-1"}
    assert (view.room_id, view.kind, view.guard_required) == ("int-1", "interrogation", False)
