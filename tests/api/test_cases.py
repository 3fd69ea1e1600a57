"""The case picker's data, one spelling per case number (same-case separation must not depend on typing), and
the placement options the kiosk shows before anyone taps a room."""

from __future__ import annotations

from tests.conftest import registration, walk


async def test_a_full_width_spelling_of_a_case_number_is_the_same_case_and_separation_holds(api):
    first = await walk(api, "waiting", registration(case_no="B-2026-777"), room="wait-5")  # room for three
    status, second = await api.post("/api/v1/stays", registration(case_no="ｂ－２０２６－７７７ "))
    assert status == 201, second
    assert second["case"]["case_no"] == first["case"]["case_no"] == "B-2026-777"
    status, opts = await api.get(f"/api/v1/stays/{second['id']}/placement-options")
    assert status == 200, opts
    shared = next(o for o in opts if o["room_id"] == "wait-5")
    assert not shared["lawful"] and [v["code"] for v in shared["violations"]] == ["ROOM_SAME_CASE"]
    assert shared["violations"][0]["message"] == "同案人员不得同室" and shared["overridable"]


async def test_placement_options_put_a_lawful_room_first_and_suggest_it(api):
    stay = await walk(api, "property_stored", registration(case_no="B-2026-778"))
    status, opts = await api.get(f"/api/v1/stays/{stay['id']}/placement-options")
    assert status == 200
    assert opts[0]["lawful"] and opts[0]["suggested"]
    assert sum(o["suggested"] for o in opts) == 1
    minors = next(o for o in opts if o["room_id"] == "wait-6")  # a minors-only room, for an adult
    assert not minors["lawful"] and minors["violations"][0]["code"] == "ROOM_RESTRICTED"
    lawful = [o["lawful"] for o in opts]
    assert lawful == sorted(lawful, reverse=True)  # every lawful room before every forbidden one


async def test_known_cases_are_found_by_part_of_their_number_with_who_is_inside(api):
    for no in ("K-2026-001", "K-2026-001", "K-2026-002"):
        assert (await api.post("/api/v1/stays", registration(case_no=no)))[0] == 201
    status, cases = await api.get("/api/v1/cases", params={"q": "k-2026-00"})
    assert status == 200
    by_no = {c["case_no"]: c for c in cases}
    assert by_no["K-2026-001"]["inside"] == 2 and by_no["K-2026-002"]["inside"] == 1
    assert (await api.get("/api/v1/cases", params={"q": "NOPE"}))[1] == []
    assert (await api.get("/api/v1/cases", params={"limit": 0}))[0] == 422
    assert (await api.get("/api/v1/cases", as_="9001"))[0] == 403  # an admin does not register subjects
