"""Case-level access (issue 16: any case officer read any stay, its face image, and wrote corrections)."""

from __future__ import annotations

from typing import Any

from controller.store.db import Actor
from controller.store.tables import Capture
from tests.conftest import Api, audit_count, registration, walk

# the default registration names off-1 (1001) and off-2 (1002); off-3 (1003) has nothing to do with the case


async def test_a_case_officer_reads_only_the_stays_of_his_cases(api: Api) -> None:
    stay = await walk(api, "collected")
    status, body = await api.get(f"/api/v1/stays/{stay['id']}", as_="1003")
    assert status == 403 and body["code"] == "STAY_NOT_ASSIGNED"
    for who in ("1001", "2001", "3001"):
        status, _ = await api.get(f"/api/v1/stays/{stay['id']}", as_=who)
        assert status == 200, who
    status, rows = await api.get("/api/v1/stays", as_="1003")
    assert status == 200 and stay["id"] not in [r["id"] for r in rows]
    status, rows = await api.get("/api/v1/stays", as_="1001")
    assert status == 200 and stay["id"] in [r["id"] for r in rows]


async def test_a_case_officer_cannot_act_on_another_case(api: Api, recorder: Any) -> None:
    stay = await walk(api, "waiting")
    await api.login("1003")
    before = await audit_count(api)
    status, body = await api.post(f"/api/v1/stays/{stay['id']}/corrections", {
        "corrects_seq": 1, "field": "subject.name", "value": "王五", "reason": "录入错误"}, as_="1003")
    assert status == 403 and body["code"] == "STAY_NOT_ASSIGNED"
    status, body = await api.post(f"/api/v1/stays/{stay['id']}/interviews", {
        "room_id": "int-1", "officer_ids": ["off-3", "off-1"]}, as_="1003")
    assert status == 403 and body["code"] == "STAY_NOT_ASSIGNED"
    assert await audit_count(api) == before
    assert recorder.started == 0


async def test_face_records_follow_the_case(api: Api, container: Any) -> None:
    stay = await walk(api, "collected")

    def add(uow: Any) -> None:
        uow.session.add(Capture(id="cap-t1", stay_id=stay["id"], camera_id="cam-1", sha256="0" * 64,
                                path="captures/x.jpg", taken_at=uow.now, taken_by="cus-f"))

    container.db.write_sync(Actor.system("test"), add)
    status, body = await api.get("/api/v1/captures/cap-t1", as_="1003")
    assert status == 403 and body["code"] == "STAY_NOT_ASSIGNED"
    status, body = await api.get("/api/v1/captures/cap-t1/image", as_="1003")
    assert status == 403 and body["code"] == "STAY_NOT_ASSIGNED"
    status, body = await api.get("/api/v1/captures/cap-t1/image", as_="9001")
    assert status == 403 and body["code"] == "FORBIDDEN_ROLE"  # an admin never gets a face
    status, body = await api.get("/api/v1/captures/cap-t1", as_="1001")
    assert status == 200 and body["stay_id"] == stay["id"]


async def test_an_admin_sees_identity_numbers_masked(api: Api) -> None:
    body = registration()
    number = body["subject"]["id_number"]
    stay = await walk(api, "collected", body=body)
    status, view = await api.get(f"/api/v1/stays/{stay['id']}", as_="9001")
    assert status == 200 and number not in str(view)
    assert view["subject"]["id_number"] == number[:6] + "*" * 12
    status, rows = await api.get("/api/v1/stays", as_="9001")
    assert status == 200 and number not in str(rows)
    status, view = await api.get(f"/api/v1/stays/{stay['id']}", as_="2001")
    assert view["subject"]["id_number"] == number
