"""The safeguards' table (domain/safeguards.py) and where tags were seen (services/sightings.py), without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from controller.domain.errors import RuleViolation
from controller.domain.safeguards import Facts, assess, check
from controller.services.sightings import TagSightings

ADULT_OK = Facts(minor=True, sex="female", needs_interpreter=True, intoxicated=True, adult_identified=True,
                 adult_present=True, adult_presence="tag", female_staff_proven=True, interpreter_recorded=True,
                 breath_policy=True, breath_threshold=20.0, breath_latest=19.9)


def test_all_met_passes_and_lists_every_safeguard() -> None:
    assert [s.key for s in check(ADULT_OK)] == ["adult_identified", "adult_present", "female_staff", "interpreter",
                                                "breath_test"]


@pytest.mark.parametrize("change,code", [
    ({"adult_identified": False}, "MINOR_NEEDS_APPROPRIATE_ADULT"),
    ({"adult_present": False}, "APPROPRIATE_ADULT_NOT_PRESENT"),
    ({"female_staff_proven": False}, "FEMALE_STAFF_REQUIRED"),
    ({"interpreter_recorded": False}, "INTERPRETER_REQUIRED"),
    ({"breath_latest": None}, "BREATH_TEST_REQUIRED"),
    ({"breath_latest": 20.0}, "BREATH_TEST_ABOVE_THRESHOLD"),  # "below" the threshold: 20 is not
])
def test_each_unmet_safeguard_refuses_with_its_code(change: dict[str, object], code: str) -> None:
    with pytest.raises(RuleViolation) as exc:
        check(replace(ADULT_OK, **change))  # type: ignore[arg-type]
    assert exc.value.code == code and exc.value.message and exc.value.message_en


def test_what_is_not_required_is_not_checked() -> None:
    adult_male = Facts(minor=False, sex="male", needs_interpreter=False, intoxicated=False, adult_identified=False,
                       adult_present=False, adult_presence="officer_confirmed", female_staff_proven=False,
                       interpreter_recorded=False, breath_policy=True, breath_threshold=20.0, breath_latest=None)
    assert not any(s.required for s in check(adult_male))
    # the site's policy off: an intoxicated subject is not held back by the breath test
    off = replace(ADULT_OK, breath_policy=False, breath_latest=None)
    assert [s.key for s in assess(off) if s.required] == ["adult_identified", "adult_present", "female_staff",
                                                          "interpreter"]
    check(off)


def test_a_tag_is_present_only_where_and_when_it_was_last_reported() -> None:
    t0 = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    window = timedelta(seconds=300)
    seen = TagSightings()
    assert not seen.seen_in("tag-v", "int-1", t0, window)
    seen.saw("tag-v", "int-1", t0)
    assert seen.seen_in("tag-v", "int-1", t0 + window, window)
    assert not seen.seen_in("tag-v", "int-1", t0 + window + timedelta(seconds=1), window)
    assert not seen.seen_in("tag-v", "int-2", t0, window)
    seen.gone("tag-v", "int-2")  # another room's reader losing it says nothing about int-1
    assert seen.seen_in("tag-v", "int-1", t0, window)
    seen.gone("tag-v", "int-1")
    assert not seen.seen_in("tag-v", "int-1", t0, window)
