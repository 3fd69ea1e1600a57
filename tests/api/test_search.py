"""Search: by name, identity number (exact only: no prefix, no wildcard leaks a number), case number, dates,
officer and measure; a person's past stays at this centre; masking and refusal for a role that may not read
identity numbers."""

from __future__ import annotations

import json
from typing import Any

from controller.services.documents import mask_number
from tests.conftest import audit_count, registration, resident_id, walk


async def exit_stay(api: Any, stay: dict[str, Any]) -> None:
    status, s = await api.post(f"/api/v1/stays/{stay['id']}/exit", {"disposition": "released"})
    assert status == 200, s
    status, s = await api.post(f"/api/v1/stays/{stay['id']}/exit/complete", {
        "exit_search": {"checker_id": "cus-m", "findings": {}},
        "items": [{"item_id": i["id"], "disposition": "returned"} for i in s["property"]["items"]]})
    assert status == 200, s


async def person(api: Any, name: str, number: str, case_no: str, basis: str = "criminal_summons",
                 officers: tuple[str, ...] = ("off-1", "off-2"), to: str = "waiting") -> dict[str, Any]:
    body = registration(case_no=case_no, basis=basis, officers=officers)
    body["subject"].update(name=name, id_number=number)
    return await walk(api, to, body=body)


async def find(api: Any, as_: str = "2001", **q: Any) -> tuple[int, Any]:
    return await api.post("/api/v1/search/stays", q, as_=as_)


async def seeded(api: Any, container: Any) -> dict[str, str]:
    a = resident_id("19900307", sex="male")
    b = resident_id("19900307", sex="male")
    c = resident_id("19900307", sex="male")
    first = await person(api, "王小明", a, "X-2026-001", basis="admin_summons")
    await exit_stay(api, first)
    await container.clock.advance_async(86400)
    await person(api, "王小红", b, "X-2026-002", officers=("off-1", "off-3"), to="registered")
    await person(api, "李_雷%", c, "Y-2026-003", to="registered")
    again = await person(api, "王小明", a, "X-2026-010", to="registered")  # the same person comes back
    return {"a": a, "b": b, "c": c, "again": again["id"], "first": first["id"]}


async def test_search_by_each_criterion(api, container):
    ids = await seeded(api, container)
    status, got = await find(api, name="王小")
    assert status == 200 and sorted(r["subject"]["name"] for r in got) == ["王小明", "王小明", "王小红"]
    _, got = await find(api, case_no="x-2026-00")
    assert sorted(r["case"]["case_no"] for r in got) == ["X-2026-001", "X-2026-002"]
    _, got = await find(api, officer_id="off-3")
    assert [r["subject"]["name"] for r in got] == ["王小红"]
    _, got = await find(api, legal_basis="admin_summons")
    assert [r["id"] for r in got] == [ids["first"]]
    _, got = await find(api, entered_to="2026-11-22T12:00:00+08:00")  # 04:00 UTC: only the first day
    assert [r["id"] for r in got] == [ids["first"]]
    _, got = await find(api, entered_from="2026-11-23T00:00:00+00:00", name="王小明")
    assert [r["id"] for r in got] == [ids["again"]]
    _, got = await find(api, id_number=ids["a"].lower())  # a lower-case check character X still matches
    assert {r["id"] for r in got} == {ids["first"], ids["again"]}
    _, got = await find(api, state="exited")
    assert [r["id"] for r in got] == [ids["first"]]


async def test_identity_number_matches_only_whole_never_a_prefix_or_pattern(api, container):
    ids = await seeded(api, container)
    number = ids["b"]
    for probe in (number[:17], number[:6], number[:14], number[1:], "%", "_" * 18, number[:17] + "%",
                  number[:17] + "_", "1%", f"{number[:10]}%{number[-2:]}"):
        status, got = await find(api, id_number=probe)
        assert status == 200 and got == [], probe
        status, past = await api.post("/api/v1/search/past-stays", {"id_number": probe})
        assert status == 200 and past["count"] == 0, probe
    # a name pattern's wildcards are literal: "%" finds only a name that has a "%" in it
    _, got = await find(api, name="%")
    assert [r["subject"]["name"] for r in got] == ["李_雷%"]
    _, got = await find(api, name="_")
    assert [r["subject"]["name"] for r in got] == ["李_雷%"]


async def test_past_stays_of_a_person_are_shown_at_registration(api, container):
    ids = await seeded(api, container)
    status, past = await api.post("/api/v1/search/past-stays", {"id_number": ids["a"], "exclude_stay_id": ids["again"]})
    assert status == 200, past
    assert past["count"] == 1 and past["stays"][0]["id"] == ids["first"]
    assert past["stays"][0]["case_no"] == "X-2026-001" and past["stays"][0]["disposition"] == "released"
    status, past = await api.post("/api/v1/search/past-stays", {"id_number": ids["a"]})
    assert past["count"] == 2 and past["open"] == 1
    status, none = await api.post("/api/v1/search/past-stays", {"id_number": resident_id("20000101")})
    assert status == 200 and none["count"] == 0


async def test_a_role_that_may_not_read_identity_numbers_gets_them_masked_and_may_not_search_by_one(api, container):
    ids = await seeded(api, container)
    await api.login("9001")
    before = await audit_count(api)
    status, err = await find(api, as_="9001", id_number=ids["a"])
    assert status == 403 and err["code"] == "IDENTITY_SEARCH_FORBIDDEN" and err["message"] and err["message_en"]
    status, err = await api.post("/api/v1/search/past-stays", {"id_number": ids["a"]}, as_="9001")
    assert status == 403 and err["code"] == "FORBIDDEN_ROLE"
    status, got = await find(api, as_="9001", name="王小")
    assert status == 200 and len(got) == 3
    text = json.dumps(got, ensure_ascii=False)
    for number in (ids["a"], ids["b"]):
        assert number not in text and mask_number(number) in text
    status, err = await find(api)
    assert status == 422 and err["code"] == "SEARCH_EMPTY"
    assert await audit_count(api) == before
