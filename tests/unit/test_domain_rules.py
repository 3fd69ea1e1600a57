"""Legal rules (controller/domain/rules.py): every row of the clock table, identity numbers, same-sex search and
sampling, each placement rule, interviews and custody of property."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from controller.domain.errors import RuleViolation
from controller.domain.rules import (
    DEFAULT_CLOCKS,
    LEGAL_BASES,
    SECURE_AREA_CAP_HOURS,
    Occupant,
    RoomView,
    age_on,
    area_limit,
    check_custodian,
    check_extension,
    check_interview,
    check_item_disposition,
    check_placement,
    check_sampler,
    check_searcher,
    clock_table,
    gb11643_check_char,
    initial_deadline,
    is_minor,
    placement_violations,
    validate_resident_id,
    warning_marks,
)

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)

# basis -> (base hours, {ground: max hours}, secure-area cap hours, the law the source must cite)
TABLE: dict[str, tuple[float, dict[str, float], float, str]] = {
    "criminal_summons": (12, {"major_complex_case": 24}, 24, "刑事诉讼法》第119条"),
    "compelled_appearance": (12, {"major_complex_case": 24}, 24, "刑事诉讼法》第119条"),
    "admin_summons": (8, {"many_people_or_identity_unknown": 12, "admin_detention_possible": 24}, 24,
                      "治安管理处罚法"),
    "verbal_summons": (8, {"many_people_or_identity_unknown": 12, "admin_detention_possible": 24}, 24,
                       "治安管理处罚法"),
    "continued_questioning": (24, {"county_approval": 48}, 48, "人民警察法》第9条"),
    "criminal_detention": (24, {}, 24, "刑事诉讼法》第85条"),
    "voluntary_surrender": (12, {"major_complex_case": 24}, 24, "刑事诉讼法》第119条"),
    "witness_inquiry": (8, {}, 24, "本中心规定"),
}


def test_the_table_has_exactly_these_bases() -> None:
    assert set(LEGAL_BASES) == set(TABLE) == set(DEFAULT_CLOCKS)


@pytest.mark.parametrize("basis", sorted(TABLE))
def test_clock_row(basis: str) -> None:
    base, tiers, cap, law = TABLE[basis]
    rule = DEFAULT_CLOCKS[basis]
    assert rule.base_hours == base and {t.ground: t.max_hours for t in rule.tiers} == tiers
    assert rule.max_hours == max([base, *tiers.values()])
    assert law in rule.source and all(law in t.source for t in rule.tiers)
    assert area_limit(rule, T0) == T0 + cap * H
    # the deadline counts from the start of the basis, capped by the time in the secure area
    assert initial_deadline(rule, T0, T0) == T0 + base * H
    assert initial_deadline(rule, T0 - 30 * H, T0) == T0 - 30 * H + base * H
    assert initial_deadline(rule, T0 + 40 * H, T0) == T0 + cap * H


@pytest.mark.parametrize(("basis", "ground", "max_hours"),
                         sorted((b, g, h) for b, (_, tiers, _, _) in TABLE.items() for g, h in tiers.items()))
def test_extension_up_to_each_tier_and_not_beyond(basis: str, ground: str, max_hours: float) -> None:
    rule = DEFAULT_CLOCKS[basis]
    current = initial_deadline(rule, T0, T0)
    pick = ground if len(rule.tiers) > 1 else None  # a single tier needs no ground named
    assert check_extension(rule, T0, T0, current, T0 + max_hours * H, pick).ground == ground
    assert check_extension(rule, T0, T0, current, T0 + max_hours * H, ground).ground == ground
    with pytest.raises(RuleViolation) as err:
        check_extension(rule, T0, T0, current, T0 + max_hours * H + timedelta(minutes=1), ground)
    assert err.value.code == "EXTENSION_BEYOND_LIMIT" and err.value.details["source"] == rule.tiers[0].source


@pytest.mark.parametrize("basis", sorted(b for b, row in TABLE.items() if not row[1]))
def test_a_basis_without_tiers_cannot_be_extended(basis: str) -> None:
    rule = DEFAULT_CLOCKS[basis]
    with pytest.raises(RuleViolation) as err:
        check_extension(rule, T0, T0, T0 + 8 * H, T0 + 9 * H, None)
    assert err.value.code == "EXTENSION_NOT_ALLOWED" and err.value.status == 409


def test_extension_refusals_of_input() -> None:
    summons, admin = DEFAULT_CLOCKS["criminal_summons"], DEFAULT_CLOCKS["admin_summons"]
    cases: list[tuple[Any, datetime, str | None, str]] = [
        (summons, T0 + 12 * H, None, "EXTENSION_NOT_LATER"),
        (admin, T0 + 10 * H, None, "EXTENSION_GROUND_REQUIRED"),
        (admin, T0 + 10 * H, "no_such_ground", "EXTENSION_GROUND_UNKNOWN"),
    ]
    for rule, until, ground, code in cases:
        with pytest.raises(RuleViolation) as err:
            check_extension(rule, T0, T0, initial_deadline(rule, T0, T0), until, ground)
        assert (err.value.code, err.value.status) == (code, 422)


def test_the_secure_area_cap_bounds_an_extension_of_a_basis_started_before_entry() -> None:
    rule = DEFAULT_CLOCKS["criminal_summons"]
    entered = T0 + 6 * H  # summoned at T0, entered the centre six hours later: the 24 h tier still counts from T0
    with pytest.raises(RuleViolation, match="EXTENSION_BEYOND_LIMIT"):
        check_extension(rule, T0, entered, T0 + 12 * H, T0 + 25 * H, None)
    assert check_extension(rule, T0, entered, T0 + 12 * H, T0 + 24 * H, None).max_hours == 24
    assert SECURE_AREA_CAP_HOURS == 24


def test_site_overrides_of_the_clock_table() -> None:
    table = clock_table([("admin_summons", 6, 20), ("criminal_detention", None, None)])
    assert table["admin_summons"].base_hours == 6
    assert [t.max_hours for t in table["admin_summons"].tiers] == [12, 20]  # a site may only lower the top
    assert table["criminal_detention"] == DEFAULT_CLOCKS["criminal_detention"]
    assert DEFAULT_CLOCKS["admin_summons"].base_hours == 8  # the default table is untouched
    with pytest.raises(ValueError, match="unknown legal basis"):
        clock_table([("house_arrest", 1, None)])


def test_warning_marks_from_the_earliest() -> None:
    assert warning_marks(T0, [30, 120, 60]) == [(120, T0 - 2 * H), (60, T0 - H), (30, T0 - timedelta(minutes=30))]


# --- identity numbers (GB 11643-1999) -------------------------------------------------------------------------

FIRST17 = "11010519491231002"
VALID = FIRST17 + gb11643_check_char(FIRST17)


def test_the_check_character_of_a_published_example() -> None:
    assert gb11643_check_char("11010519491231002") == "X"  # GB 11643-1999's own worked example
    validate_resident_id(VALID.lower(), date(1949, 12, 31))  # a lower-case x is the same number


@pytest.mark.parametrize(("number", "code"), [
    ("1101051949123100", "INVALID_ID_NUMBER"),  # too short
    ("11010519491231002A", "INVALID_ID_NUMBER"),  # bad check character
    ("1101051949123100X2", "INVALID_ID_NUMBER"),  # X not last
    ("110105194913310021", "INVALID_ID_NUMBER"),  # month 13
    (FIRST17 + "1", "INVALID_ID_NUMBER"),  # wrong check digit
])
def test_invalid_identity_numbers(number: str, code: str) -> None:
    with pytest.raises(RuleViolation) as err:
        validate_resident_id(number)
    assert (err.value.code, err.value.status) == (code, 422)


def test_the_birth_date_must_match_the_number() -> None:
    with pytest.raises(RuleViolation, match="ID_BIRTH_DATE_MISMATCH"):
        validate_resident_id(VALID, date(1950, 1, 1))


def test_age_turns_on_the_birthday() -> None:
    born = date(2008, 11, 22)
    assert age_on(born, date(2026, 11, 21)) == 17 and is_minor(born, date(2026, 11, 21))
    assert age_on(born, date(2026, 11, 22)) == 18 and not is_minor(born, date(2026, 11, 22))


# --- same-sex search and sampling ------------------------------------------------------------------------------

@pytest.mark.parametrize(("subject", "staff", "refused"), [
    ("female", "female", False), ("female", "male", True), ("male", "male", False), ("male", "female", False)])
def test_same_sex_search_and_sampling(subject: str, staff: str, refused: bool) -> None:
    for check, code in ((check_searcher, "SEARCH_CHECKER_SEX"), (check_sampler, "SAMPLER_SEX")):
        if refused:
            with pytest.raises(RuleViolation, match=code):
                check(subject, staff)
        else:
            check(subject, staff)


# --- waiting-room placement ------------------------------------------------------------------------------------

ADULT_MAN = Occupant("s1", "male", False, "suspect", "A1")


def room(*occupants: Occupant, kind: str = "waiting", capacity: int = 4, restrictions: tuple[str, ...] = ()
         ) -> RoomView:
    return RoomView("w1", kind, capacity, restrictions, occupants)


@pytest.mark.parametrize(("subject", "view", "expected"), [
    (ADULT_MAN, room(), []),
    (ADULT_MAN, room(kind="sobering"), []),
    (ADULT_MAN, room(kind="interrogation"), ["ROOM_NOT_HOLDING"]),
    (ADULT_MAN, room(Occupant("s2", "male", False, "suspect", "B"), capacity=1), ["ROOM_FULL"]),
    (ADULT_MAN, room(ADULT_MAN, capacity=1), []),  # the subject already in the room is not counted twice
    (ADULT_MAN, room(restrictions=("minors_only",)), ["ROOM_RESTRICTED"]),
    (ADULT_MAN, room(restrictions=("female_only",)), ["ROOM_RESTRICTED"]),
    (Occupant("s1", "female", False, "suspect", "A1"), room(restrictions=("male_only",)), ["ROOM_RESTRICTED"]),
    (ADULT_MAN, room(restrictions=("intoxicated_only",)), ["ROOM_RESTRICTED"]),
    (Occupant("s1", "male", False, "suspect", "A1", intoxicated=True), room(restrictions=("intoxicated_only",)), []),
    (ADULT_MAN, room(Occupant("s2", "female", False, "suspect", "B")), ["ROOM_MIXED_SEX"]),
    (ADULT_MAN, room(Occupant("s2", "male", True, "suspect", "B")), ["ROOM_MINOR_WITH_ADULT"]),
    (ADULT_MAN, room(Occupant("s2", "male", False, "suspect", "A1")), ["ROOM_SAME_CASE"]),
    (ADULT_MAN, room(Occupant("s2", "male", False, "witness", "B")), ["ROOM_SUSPECT_WITH_WITNESS"]),
    (Occupant("s1", "male", False, "witness", "A1"), room(Occupant("s2", "male", False, "victim", "B")), []),
    (ADULT_MAN, room(Occupant("s2", "female", True, "victim", "A1"), capacity=1),
     ["ROOM_FULL", "ROOM_MIXED_SEX", "ROOM_MINOR_WITH_ADULT", "ROOM_SAME_CASE", "ROOM_SUSPECT_WITH_WITNESS"]),
])
def test_placement_rule(subject: Occupant, view: RoomView, expected: list[str]) -> None:
    assert placement_violations(subject, view) == expected


def test_a_supervisor_may_override_a_placement_rule_but_not_the_room_kind() -> None:
    shared = room(Occupant("s2", "male", False, "suspect", "A1"))
    with pytest.raises(RuleViolation) as err:
        check_placement(ADULT_MAN, shared, override=False)
    assert err.value.code == "ROOM_SAME_CASE" and err.value.details == {"violations": ["ROOM_SAME_CASE"],
                                                                        "room_id": "w1"}
    assert check_placement(ADULT_MAN, shared, override=True) == ["ROOM_SAME_CASE"]
    assert check_placement(ADULT_MAN, room(), override=False) == []
    with pytest.raises(RuleViolation, match="ROOM_NOT_HOLDING"):
        check_placement(ADULT_MAN, room(kind="medical"), override=True)


# --- interviews and property -----------------------------------------------------------------------------------

OK_INTERVIEW: dict[str, Any] = {"role": "suspect", "room_kind": "interrogation", "officer_ids": ["p1", "p2"],
                                "minor": False, "appropriate_adult_present": False, "room_busy": False}


@pytest.mark.parametrize(("change", "code"), [
    ({"room_kind": "waiting"}, "ROOM_NOT_INTERVIEW"),
    ({"room_kind": "inquiry"}, "ROOM_KIND_MISMATCH"),
    ({"room_busy": True}, "ROOM_OCCUPIED"),
    ({"officer_ids": ["p1", "p1"]}, "TOO_FEW_OFFICERS"),
    ({"minor": True}, "MINOR_NEEDS_APPROPRIATE_ADULT"),
])
def test_interview_refusals(change: dict[str, Any], code: str) -> None:
    with pytest.raises(RuleViolation) as err:
        check_interview(**{**OK_INTERVIEW, **change})
    assert err.value.code == code


def test_lawful_interviews() -> None:
    check_interview(**OK_INTERVIEW)
    check_interview(**{**OK_INTERVIEW, "role": "witness", "room_kind": "inquiry"})
    check_interview(**{**OK_INTERVIEW, "minor": True, "appropriate_adult_present": True})


def test_the_custodian_is_not_a_case_officer() -> None:
    check_custodian("c1", ["p1", "p2"])
    with pytest.raises(RuleViolation, match="CUSTODIAN_IS_CASE_OFFICER"):
        check_custodian("p2", ["p1", "p2"])


@pytest.mark.parametrize(("disposition", "receiver", "document_no", "code"), [
    (None, None, None, "PROPERTY_UNRESOLVED"),
    ("handed_to_family", None, None, "RECEIVER_REQUIRED"),
    ("handed_to_family", {"name": "张三"}, None, "RECEIVER_REQUIRED"),
    ("seized", None, None, "DOCUMENT_NO_REQUIRED"),
    ("returned", None, None, None),
    ("travels_with_subject", None, None, None),
    ("handed_to_family", {"name": "张三", "id_number": VALID}, None, None),
    ("seized", None, "扣字〔2026〕1号", None),
])
def test_item_disposition(disposition: str | None, receiver: dict[str, Any] | None, document_no: str | None,
                          code: str | None) -> None:
    if code is None:
        check_item_disposition(disposition, receiver, document_no)
    else:
        with pytest.raises(RuleViolation, match=code):
            check_item_disposition(disposition, receiver, document_no)
