"""The duty roster and what it grants (issue 16: "a case officer reads and acts on the stays of his cases or his
duty assignment; custody staff on duty see the centre"). Driven by the fake clock across shift boundaries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from controller.settings import SecurityConfig
from tests.conftest import Api, audit_count, registration, walk

OFFICER_3, CUSTODY, SUPERVISOR, ADMIN, PLATFORM = "1003", "2001", "3001", "9001", "9101"
HOUR = 3600


def at(container: Any, hours: float) -> str:
    return (container.clock.now() + timedelta(hours=hours)).isoformat()


async def assign(api: Api, container: Any, staff_id: str, start: float, end: float, as_: str = SUPERVISOR,
                 **scope: Any) -> tuple[int, Any]:
    return await api.post("/api/v1/duties", {"staff_id": staff_id, "starts_at": at(container, start),
                                             "ends_at": at(container, end), **scope}, as_=as_)


def correction(stay: dict[str, Any]) -> dict[str, Any]:
    return {"corrects_seq": stay["timeline"][0]["seq"], "field": "subject.name", "value": "王五", "reason": "登记时笔误"}


async def visible(api: Api, who: str, stay_id: str) -> bool:
    status, rows = await api.get("/api/v1/stays", as_=who)
    assert status == 200
    return stay_id in [r["id"] for r in rows]


async def test_a_case_officer_works_the_stays_of_his_duty_only_while_it_runs(api: Api, container: Any) -> None:
    stay = await walk(api, "waiting")  # names off-1 and off-2; off-3 has nothing to do with it
    status, duty = await assign(api, container, "off-3", 1, 9, stay_ids=[stay["id"]], note="夜班")
    assert status == 201, duty
    assert duty["assigned_by"] == "sup-1" and duty["current"] is False and duty["stay_ids"] == [stay["id"]]
    status, body = await api.get(f"/api/v1/stays/{stay['id']}", as_=OFFICER_3)  # before the shift
    assert status == 403 and body["code"] == "STAY_NOT_ASSIGNED"
    assert not await visible(api, OFFICER_3, stay["id"])

    await container.clock.advance_async(1 * HOUR)  # the shift begins
    status, view = await api.get(f"/api/v1/stays/{stay['id']}", as_=OFFICER_3)
    assert status == 200 and view["id"] == stay["id"]
    assert await visible(api, OFFICER_3, stay["id"])
    status, body = await api.post(f"/api/v1/stays/{stay['id']}/corrections", correction(view), as_=OFFICER_3)
    assert status == 201, body
    status, mine = await api.get("/api/v1/duties/mine", as_=OFFICER_3)
    assert status == 200 and [d["id"] for d in mine] == [duty["id"]] and mine[0]["current"] is True

    await container.clock.advance_async(8 * HOUR)  # the shift is over
    await api.get("/api/v1/auth/me", as_=OFFICER_3)  # signed in again (a sign-in is audited) before counting
    before = await audit_count(api)
    status, body = await api.post(f"/api/v1/stays/{stay['id']}/corrections", correction(view), as_=OFFICER_3)
    assert status == 403 and body["code"] == "STAY_NOT_ASSIGNED"
    assert await audit_count(api) == before
    assert not await visible(api, OFFICER_3, stay["id"])


async def test_a_duty_on_a_case_covers_every_stay_of_that_case(api: Api, container: Any) -> None:
    one = await walk(api, "registered", body=registration(case_no="C-77"))
    other = await walk(api, "registered", body=registration(case_no="D-88", sex="female"))
    status, duty = await assign(api, container, "off-3", 0, 8, case_nos=["c-77"])  # spelt as typed
    assert status == 201 and duty["case_nos"] == ["C-77"] and duty["current"] is True
    assert (await api.get(f"/api/v1/stays/{one['id']}", as_=OFFICER_3))[0] == 200
    status, body = await api.get(f"/api/v1/stays/{other['id']}", as_=OFFICER_3)
    assert status == 403 and body["code"] == "STAY_NOT_ASSIGNED"


async def test_ending_a_duty_ends_its_access_at_once(api: Api, container: Any) -> None:
    stay = await walk(api, "registered")
    _, duty = await assign(api, container, "off-3", 0, 8, stay_ids=[stay["id"]])
    assert (await api.get(f"/api/v1/stays/{stay['id']}", as_=OFFICER_3))[0] == 200
    before = await audit_count(api)
    status, ended = await api.post(f"/api/v1/duties/{duty['id']}/end", as_=SUPERVISOR)
    assert status == 200 and ended["ended_by"] == "sup-1" and ended["current"] is False
    assert await audit_count(api) == before + 1
    status, body = await api.get(f"/api/v1/stays/{stay['id']}", as_=OFFICER_3)
    assert status == 403 and body["code"] == "STAY_NOT_ASSIGNED"
    before = await audit_count(api)
    status, body = await api.post(f"/api/v1/duties/{duty['id']}/end", as_=SUPERVISOR)
    assert status == 409 and body["code"] == "DUTY_ALREADY_ENDED"
    assert await audit_count(api) == before
    status, roster = await api.get("/api/v1/duties", as_=SUPERVISOR)
    assert status == 200 and duty["id"] not in [d["id"] for d in roster]  # over: off the roster


def _roster_required(container: Any) -> None:
    container.site = container.site.model_copy(update={"security": SecurityConfig(
        kiosk_enrolment=container.site.security.kiosk_enrolment, custody_on_duty=True)})


async def test_custody_staff_see_the_centre_only_on_duty_where_the_roster_is_required(api: Api,
                                                                                         container: Any) -> None:
    stay = await walk(api, "waiting")
    _roster_required(container)
    status, body = await api.get(f"/api/v1/stays/{stay['id']}", as_=CUSTODY)
    assert status == 403 and body["code"] == "NOT_ON_DUTY"
    assert not await visible(api, CUSTODY, stay["id"])
    before = await audit_count(api)
    status, body = await api.post(f"/api/v1/stays/{stay['id']}/care", {"kind": "water"}, as_=CUSTODY)
    assert status == 403 and body["code"] == "NOT_ON_DUTY"
    assert await audit_count(api) == before
    assert (await api.get(f"/api/v1/stays/{stay['id']}", as_=SUPERVISOR))[0] == 200  # supervisors: always

    status, _ = await assign(api, container, "cus-f", 0.5, 12.5)  # a day shift from half an hour on
    assert status == 201
    assert (await api.get(f"/api/v1/stays/{stay['id']}", as_=CUSTODY))[1]["code"] == "NOT_ON_DUTY"
    await container.clock.advance_async(0.5 * HOUR)
    assert (await api.get(f"/api/v1/stays/{stay['id']}", as_=CUSTODY))[0] == 200
    assert await visible(api, CUSTODY, stay["id"])
    await container.clock.advance_async(12 * HOUR)  # the shift boundary: off duty again
    status, body = await api.get(f"/api/v1/stays/{stay['id']}", as_=CUSTODY)
    assert status == 403 and body["code"] == "NOT_ON_DUTY"


async def test_assigning_a_duty_writes_audit_and_outbox(api: Api, container: Any) -> None:
    before = await audit_count(api)
    status, duty = await assign(api, container, "cus-m", 0, 12, as_=ADMIN)
    assert status == 201 and duty["assigned_by"] == "adm-1"
    assert await audit_count(api) == before + 1
    status, page = await api.get("/api/v1/sync/changes?limit=5000", as_=PLATFORM)
    kinds = [(c["type"], c["payload"]["entity_id"]) for c in page["changes"]]
    assert ("duty_assigned", duty["id"]) in kinds
    status, roster = await api.get("/api/v1/duties?current=true&staff_id=cus-m", as_=SUPERVISOR)
    assert status == 200 and [d["id"] for d in roster] == [duty["id"]]


@pytest.mark.parametrize(("staff_id", "start", "end", "scope", "status", "code"), [
    ("cus-m", 2, 1, {}, 422, "DUTY_WINDOW_INVALID"),          # ends before it starts
    ("cus-m", 0, 25, {}, 422, "DUTY_WINDOW_INVALID"),         # longer than one shift
    ("cus-m", -10, -1, {}, 422, "DUTY_WINDOW_INVALID"),       # already over
    ("cus-m", 24 * 40, 24 * 40 + 8, {}, 422, "DUTY_WINDOW_INVALID"),  # beyond the coming month
    ("sup-1", 0, 8, {}, 422, "DUTY_ROLE_MISSING"),            # supervisors are not on the roster
    ("off-3", 0, 8, {}, 422, "DUTY_SCOPE_REQUIRED"),          # a case officer's duty names what he works on
    ("nobody", 0, 8, {}, 422, "UNKNOWN_STAFF"),
    ("off-3", 0, 8, {"stay_ids": ["stay-none"]}, 404, "NOT_FOUND"),
])
async def test_bad_duties_are_refused_and_nothing_written(api: Api, container: Any, staff_id: str, start: float,
                                                         end: float, scope: dict[str, Any], status: int,
                                                         code: str) -> None:
    await api.login(SUPERVISOR)  # a sign-in is audited: signed in before counting
    before = await audit_count(api)
    got, body = await assign(api, container, staff_id, start, end, **scope)
    assert got == status and body["code"] == code, body
    assert await audit_count(api) == before


async def test_only_supervisors_and_admins_keep_the_roster(api: Api, container: Any) -> None:
    for who in ("1001", CUSTODY, PLATFORM):
        await api.login(who)
    before = await audit_count(api)
    for who in ("1001", CUSTODY, PLATFORM):
        status, body = await assign(api, container, "cus-m", 0, 8, as_=who)
        assert status == 403 and body["code"] == "FORBIDDEN_ROLE", who
        status, body = await api.get("/api/v1/duties", as_=who)
        assert status == 403 and body["code"] == "FORBIDDEN_ROLE", who
    assert await audit_count(api) == before


async def test_a_time_at_the_edge_of_the_calendar_is_a_refusal_not_a_crash(api: Api) -> None:
    status, body = await api.post("/api/v1/duties", {"staff_id": "cus-m", "starts_at": "0001-01-01T00:00:00+01:00",
                                                     "ends_at": "0001-01-01T08:00:00+01:00"}, as_=SUPERVISOR)
    assert status == 422 and body["code"] == "DUTY_WINDOW_INVALID"
