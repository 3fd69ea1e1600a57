"""One person, one interview at a time: an officer, an appropriate adult or an interpreter already in an unfinished
interview cannot be named in another (refused, nothing written); once that interview ends they can."""

from __future__ import annotations

import pytest

from controller.auth import create_staff
from controller.store.db import Actor
from tests.api.test_rules import refused
from tests.conftest import PASSWORD, registration, walk


@pytest.fixture
def fourth_officer(container):
    container.db.write_sync(Actor.system("test"), lambda uow: create_staff(
        uow, police_no="1004", name="孙强", sex="male", roles=["case_officer"], password=PASSWORD, staff_id="off-4"))


async def two_waiting(api, minor: bool = False):
    birth = "2010-05-01" if minor else "1990-03-07"
    a = await walk(api, room="wait-1", body=registration(case_no="C-1", birth=birth))
    b = await walk(api, room="wait-2", body=registration(case_no="C-2", birth=birth))
    return a, b


async def start(api, stay, body):
    return await api.post(f"/api/v1/stays/{stay['id']}/interviews", body, as_="1001")


async def test_same_officers_cannot_interview_in_two_rooms_at_once(api, recorder):
    a, b = await two_waiting(api)
    status, first = await start(api, a, {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]})
    assert status == 201, first
    err = await refused(api, f"/api/v1/stays/{b['id']}/interviews", {"room_id": "int-2",
                        "officer_ids": ["off-1", "off-2"]}, "OFFICER_IN_ANOTHER_INTERVIEW", as_="1001",
                        stay_id=b["id"])
    assert err["details"]["room_id"] == "int-1" and err["details"]["officer_ids"] == ["off-1", "off-2"]
    # one shared officer is enough to refuse
    await refused(api, f"/api/v1/stays/{b['id']}/interviews", {"room_id": "int-2", "officer_ids": ["off-3", "off-2"]},
                  "OFFICER_IN_ANOTHER_INTERVIEW", as_="1001", stay_id=b["id"])
    assert recorder.started == 1 and len(recorder.recording) == 1  # the refused starts left nothing recording


async def test_paused_interview_still_holds_its_officers(api, recorder, container):
    from controller.services import interviews

    a, b = await two_waiting(api)
    status, first = await start(api, a, {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]})
    assert status == 201
    await container.db.write(Actor.system("test"),
                             lambda uow: interviews.recording_failed(uow, first["recording_id"], "disk full"))
    await refused(api, f"/api/v1/stays/{b['id']}/interviews", {"room_id": "int-2", "officer_ids": ["off-1", "off-3"]},
                  "OFFICER_IN_ANOTHER_INTERVIEW", as_="1001", stay_id=b["id"])


async def test_officers_free_again_once_the_interview_ends(api, recorder):
    a, b = await two_waiting(api)
    status, first = await start(api, a, {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]})
    assert status == 201
    status, got = await api.post(f"/api/v1/interviews/{first['interview_id']}/end", {}, as_="1001")
    assert status == 200, got
    status, second = await start(api, b, {"room_id": "int-2", "officer_ids": ["off-1", "off-2"]})
    assert status == 201, second


async def test_different_officers_interview_at_once(api, recorder, fourth_officer):
    a, b = await two_waiting(api)
    assert (await start(api, a, {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}))[0] == 201
    status, got = await start(api, b, {"room_id": "int-2", "officer_ids": ["off-3", "off-4"]})
    assert status == 201, got


async def test_appropriate_adult_in_one_interview_at_a_time(api, recorder, fourth_officer):
    a, b = await two_waiting(api, minor=True)
    adult = {"name": "张母", "relation": "parent", "id_number": "110101197501011234", "contact": "13800000000"}
    status, _ = await start(api, a, {"room_id": "int-1", "officer_ids": ["off-1", "off-2"], "appropriate_adult": adult})
    assert status == 201
    await refused(api, f"/api/v1/stays/{b['id']}/interviews",
                  {"room_id": "int-2", "officer_ids": ["off-3", "off-4"],
                   "appropriate_adult": {"name": "张 母", "relation": "parent", "id_number": "110101197501011234", "contact": "13800000000"}},
                  "APPROPRIATE_ADULT_IN_ANOTHER_INTERVIEW", as_="1001", stay_id=b["id"])
    status, got = await start(api, b, {"room_id": "int-2", "officer_ids": ["off-3", "off-4"],
                                       "appropriate_adult": {"name": "李父", "relation": "parent", "id_number": "110101197501011234", "contact": "13800000001"}})
    assert status == 201, got


async def test_interpreter_in_one_interview_at_a_time(api, recorder, fourth_officer):
    a, b = await two_waiting(api)
    status, _ = await start(api, a, {"room_id": "int-1", "officer_ids": ["off-1", "off-2"], "interpreter": "阿依古丽"})
    assert status == 201
    await refused(api, f"/api/v1/stays/{b['id']}/interviews",
                  {"room_id": "int-2", "officer_ids": ["off-3", "off-4"], "interpreter": "阿依古丽"},
                  "INTERPRETER_IN_ANOTHER_INTERVIEW", as_="1001", stay_id=b["id"])
    status, got = await start(api, b, {"room_id": "int-2", "officer_ids": ["off-3", "off-4"], "interpreter": "买买提"})
    assert status == 201, got
