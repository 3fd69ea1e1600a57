"""The welfare rules as plain functions: intervals by risk, meals by day, the night's rest, proof of presence."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from controller.domain import welfare as w
from controller.domain.errors import RuleViolation

MINUTES = {"self_harm_risk": 10, "intoxicated": 15, "minor": 15, "pregnant": 20, "ill": 20, "injured": 25}
BJ = ZoneInfo("Asia/Shanghai")
NIGHT = w.NightWindow(start=time(22), end=time(6), min_rest=timedelta(hours=6), tz=BJ)


def bj(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=BJ).astimezone(UTC)


@pytest.mark.parametrize("flags,minor,expected", [
    ({}, False, []),
    ({"intoxicated": True, "on_medication": True}, False, ["intoxicated"]),
    ({"ill": True, "injured": True, "pregnant": False}, True, ["minor", "ill", "injured"]),
    ({"self_harm_risk": True}, False, ["self_harm_risk"]),
])
def test_risks_of_a_subject(flags, minor, expected):
    assert sorted(w.risks(flags, minor)) == sorted(expected)


def test_the_shortest_interval_applies_and_names_its_reasons():
    iv = w.check_interval([["injured"], ["minor", "ill"]], 30, MINUTES)
    assert iv.minutes == 15
    view = iv.view()
    assert [r["name"] for r in view["reasons"]] == ["未成年人"]
    assert [r["code"] for r in view["all_reasons"]] == ["minor", "ill", "injured"]
    assert w.check_interval([[]], 30, MINUTES).view() == {"minutes": 30, "reasons": [], "all_reasons": []}
    # a site default shorter than every risk still applies, and then no risk is the reason
    assert w.check_interval([["injured"]], 20, MINUTES).view()["reasons"] == []


def test_meals_are_by_day():
    six = timedelta(hours=6)
    assert w.meal_due_at(bj(22, 9), six, NIGHT) == bj(22, 15)
    assert w.meal_due_at(bj(22, 19), six, NIGHT) == bj(23, 6)  # 01:00 is in the night window: breakfast
    assert w.meal_due_at(bj(22, 15, 30), six, NIGHT) == bj(22, 21, 30)


def test_the_night_rest_must_start_in_time_to_fit():
    assert w.rest_due_at(bj(22, 9), bj(22, 21), NIGHT, []) is None  # by day
    assert w.rest_due_at(bj(22, 9), bj(22, 23), NIGHT, []) == bj(23, 0)  # 6 h must fit before 06:00
    assert w.rest_due_at(bj(22, 9), bj(23, 2), NIGHT, [bj(22, 23, 30)]) is None  # rested tonight
    assert w.rest_due_at(bj(22, 9), bj(23, 2), NIGHT, [bj(22, 20)]) == bj(23, 0)  # a rest before the window
    # arrived after midnight: the same two hours of slack from arrival, never past the window's end
    assert w.rest_due_at(bj(23, 1), bj(23, 1, 30), NIGHT, []) == bj(23, 3)
    assert w.rest_due_at(bj(23, 5), bj(23, 5, 10), NIGHT, []) == bj(23, 6)


def test_a_day_window_not_crossing_midnight():
    nap = w.NightWindow(start=time(12), end=time(14), min_rest=timedelta(hours=1), tz=BJ)
    assert nap.around(bj(22, 13)) == (bj(22, 12), bj(22, 14))
    assert nap.around(bj(22, 15)) is None and nap.next_start(bj(22, 15)) == bj(23, 12)


NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=120)


@pytest.mark.parametrize("p,reason", [
    (w.Presence(True, None, None, None), "no_staff_tag"),
    (w.Presence(True, "tag-1", None, "wait-1"), "tag_not_in_room"),  # a kiosk does not replace the reader
    (w.Presence(True, "tag-1", NOW - timedelta(seconds=121), None), "tag_not_in_room"),
    (w.Presence(False, "tag-1", NOW, None), "not_room_kiosk"),
    (w.Presence(False, None, None, "wait-2"), "not_room_kiosk"),
])
def test_a_check_without_presence_is_refused(p, reason):
    with pytest.raises(RuleViolation) as err:
        w.check_present("wait-1", p, NOW, WINDOW)
    assert err.value.code == "WELFARE_CHECK_NOT_PRESENT" and err.value.details["reason"] == reason


def test_a_check_with_presence_says_how_it_was_shown():
    assert w.check_present("wait-1", w.Presence(True, "tag-1", NOW - timedelta(seconds=30), None), NOW, WINDOW) == "tag"
    assert w.check_present("wait-1", w.Presence(False, None, None, "wait-1"), NOW, WINDOW) == "kiosk"


def test_the_site_file_refuses_an_empty_night_window():
    from controller.settings import SiteConfigError, parse_site

    raw = {"site": {"id": "s", "name": "站"}, "rooms": [], "welfare": {"night_rest_start": "22:00",
                                                                      "night_rest_end": "22:00"}}
    with pytest.raises(SiteConfigError, match="night_rest"):
        parse_site(raw)
    with pytest.raises(SiteConfigError, match="night_rest_start"):
        parse_site({**raw, "welfare": {"night_rest_start": "25:00"}})
    assert parse_site({**raw, "welfare": {}}).welfare.meal_interval_hours == 6
