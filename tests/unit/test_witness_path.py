"""The light path of witnesses and victims (domain/stay.py LIGHT_ROLES) and the absolute placement rules
(domain/rules.py ABSOLUTE_PLACEMENT): the state machine per role, and what no approval can lift."""

from __future__ import annotations

import pytest

from controller.domain.errors import RuleViolation
from controller.domain.rules import (
    ABSOLUTE_PLACEMENT,
    Occupant,
    RoomView,
    check_placement,
    placement_violations,
)
from controller.domain.stay import LIGHT_EDGES, TRANSITIONS, StayState, light_transitions, next_state

S = StayState
WITNESS = Occupant("w1", "male", False, "witness", "A1")
MAN = Occupant("s1", "male", False, "suspect", "A1")


def room(*occupants: Occupant, kind: str = "waiting", capacity: int = 4) -> RoomView:
    return RoomView("r1", kind, capacity, (), occupants)


@pytest.mark.parametrize("role", ["witness", "victim"])
@pytest.mark.parametrize(("command", "current", "expected"), [
    ("search", S.REGISTERED, S.SEARCHED),
    ("interview_start", S.SEARCHED, S.IN_INTERVIEW),  # inquired without passing a holding room
    ("placement", S.SEARCHED, S.WAITING),
    ("property", S.SEARCHED, S.PROPERTY_STORED),
    ("interview_start", S.PROPERTY_STORED, S.IN_INTERVIEW),
    ("exit", S.SEARCHED, S.EXITING),
    ("interview_end", S.IN_INTERVIEW, S.WAITING),
    ("exit", S.WAITING, S.EXITING),
])
def test_the_light_path_allows(role: str, command: str, current: StayState, expected: StayState) -> None:
    assert next_state(current, command, role) is expected


@pytest.mark.parametrize("current", [S.REGISTERED, S.SEARCHED])
def test_collection_is_no_step_for_a_witness_or_victim(current: StayState) -> None:
    for role in ("witness", "victim"):
        with pytest.raises(RuleViolation) as err:
            next_state(current, "collection", role)
        assert err.value.code == "STEP_NOT_FOR_ROLE" and err.value.status == 409
        assert err.value.message == "证人、被害人不进行信息采集"


def test_the_site_decides_whether_the_check_comes_first() -> None:
    with pytest.raises(RuleViolation, match="STEP_OUT_OF_ORDER"):
        next_state(S.REGISTERED, "interview_start", "witness")  # a check is required (the default)
    assert next_state(S.REGISTERED, "interview_start", "witness", check_required=False) is S.IN_INTERVIEW
    assert next_state(S.REGISTERED, "placement", "victim", check_required=False) is S.WAITING
    assert (S.REGISTERED, S.IN_INTERVIEW) in LIGHT_EDGES
    assert light_transitions(True)["search"] == TRANSITIONS["search"]


@pytest.mark.parametrize(("command", "current"), [
    ("interview_start", S.SEARCHED), ("placement", S.SEARCHED), ("exit", S.SEARCHED), ("property", S.SEARCHED)])
def test_a_suspects_path_is_unchanged(command: str, current: StayState) -> None:
    with pytest.raises(RuleViolation, match="STEP_OUT_OF_ORDER"):
        next_state(current, command, "suspect")
    assert next_state(S.SEARCHED, "collection", "suspect") is S.COLLECTED


@pytest.mark.parametrize(("kind", "code"), [
    ("waiting", "ROOM_HOLDING_FOR_WITNESS"), ("sobering", "ROOM_HOLDING_FOR_WITNESS"),
    ("interrogation", "ROOM_NOT_WITNESS_WAITING"), ("medical", "ROOM_NOT_WITNESS_WAITING")])
def test_a_witness_is_never_placed_in_a_holding_room(kind: str, code: str) -> None:
    assert placement_violations(WITNESS, room(kind=kind)) == [code]
    with pytest.raises(RuleViolation) as err:
        check_placement(WITNESS, room(kind=kind), override=True)
    assert err.value.code == code and err.value.details["overridable"] is False


def test_witnesses_among_themselves_have_no_suspect_rules() -> None:
    others = (Occupant("w2", "female", True, "victim", "A1"), Occupant("w3", "female", False, "witness", "A1"))
    assert placement_violations(WITNESS, room(*others, kind="witness_waiting")) == []
    assert placement_violations(MAN, room(kind="witness_waiting")) == ["ROOM_NOT_HOLDING"]


def test_a_witness_is_never_with_a_suspect_of_their_case_even_with_an_approval() -> None:
    view = room(MAN, kind="witness_waiting")  # a suspect's place held there (old records)
    assert placement_violations(WITNESS, view) == ["ROOM_SUSPECT_WITH_WITNESS", "ROOM_WITNESS_WITH_CASE_SUSPECT"]
    with pytest.raises(RuleViolation) as err:
        check_placement(WITNESS, view, override=True)
    assert err.value.code == "ROOM_WITNESS_WITH_CASE_SUSPECT"
    assert err.value.details["absolute"] == ["ROOM_WITNESS_WITH_CASE_SUSPECT"]
    other_case = room(Occupant("s9", "male", False, "suspect", "B9"), kind="witness_waiting")
    assert check_placement(WITNESS, other_case, override=True) == ["ROOM_SUSPECT_WITH_WITNESS"]


@pytest.mark.parametrize(("other", "code"), [
    (Occupant("s2", "female", False, "suspect", "B"), "ROOM_MIXED_SEX"),
    (Occupant("s2", "male", True, "suspect", "B"), "ROOM_MINOR_WITH_ADULT"),
])
def test_sex_and_age_separation_is_absolute(other: Occupant, code: str) -> None:
    assert code in ABSOLUTE_PLACEMENT
    for view in (room(other), room(other, capacity=1)):  # alone, and beside an overridable refusal (full)
        with pytest.raises(RuleViolation) as err:
            check_placement(MAN, view, override=True)
        assert err.value.code == code and err.value.details["overridable"] is False


def test_the_other_refusals_keep_the_approval_path() -> None:
    same_case_full = room(Occupant("s2", "male", False, "suspect", "A1"), capacity=1)
    with pytest.raises(RuleViolation) as err:
        check_placement(MAN, same_case_full, override=False)
    assert err.value.code == "ROOM_FULL" and err.value.details["overridable"] is True
    assert check_placement(MAN, same_case_full, override=True) == ["ROOM_FULL", "ROOM_SAME_CASE"]
