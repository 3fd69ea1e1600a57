"""GET /rooms: a waiting room lists everyone holding a place in it, including a subject away at an interview
(with where he is), so the list, ``places_taken`` and the ROOM_FULL refusal agree."""

from __future__ import annotations

from tests.api.test_rules import refused
from tests.conftest import registration, walk


async def rooms_by_id(api) -> dict:
    status, rooms = await api.get("/api/v1/rooms")
    assert status == 200, rooms
    return {r["id"]: r for r in rooms}


async def test_subject_away_at_interview_still_belongs_to_his_waiting_room(api, recorder):
    a = await walk(api, room="wait-1", body=registration(case_no="C-1"))
    status, iv = await api.post(f"/api/v1/stays/{a['id']}/interviews",
                                {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}, as_="1001")
    assert status == 201, iv
    rooms = await rooms_by_id(api)
    wait = rooms["wait-1"]
    # before the fix the waiting room was shown empty while placement still counted him
    assert wait["occupant_stay_ids"] == [a["id"]]
    assert wait["places_taken"] == 1 == wait["capacity"]
    assert wait["present_stay_ids"] == []
    assert wait["away"] == [{"stay_id": a["id"], "room_id": "int-1", "room_name": rooms["int-1"]["name"],
                             "room_name_en": rooms["int-1"]["name_en"]}]
    assert rooms["int-1"]["occupant_stay_ids"] == [a["id"]] == rooms["int-1"]["present_stay_ids"]
    assert rooms["int-1"]["away"] == []
    # the room the list shows full is the room placement refuses as full
    b = await walk(api, to="property_stored", body=registration(case_no="C-2"))
    await refused(api, f"/api/v1/stays/{b['id']}/placement", {"room_id": "wait-1"}, "ROOM_FULL", status=409,
                        stay_id=b["id"])


async def test_back_from_interview_is_present_again(api, recorder):
    a = await walk(api, room="wait-2", body=registration(case_no="C-3"))
    status, iv = await api.post(f"/api/v1/stays/{a['id']}/interviews",
                                {"room_id": "int-2", "officer_ids": ["off-1", "off-2"]}, as_="1001")
    assert status == 201
    status, _ = await api.post(f"/api/v1/interviews/{iv['interview_id']}/end", {}, as_="1001")
    assert status == 200
    wait = (await rooms_by_id(api))["wait-2"]
    assert wait["occupant_stay_ids"] == [a["id"]] == wait["present_stay_ids"]
    assert wait["away"] == [] and wait["places_taken"] == 1
