"""Case property (涉案财物) and case files (卷宗): registration, handovers between two authenticated people, the
evidence locker that opens only for a handover, overdue and late-transfer alarms, and the trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from controller.services import case_property as svc
from controller.store.db import Actor
from tests.api.test_rules import refused
from tests.conftest import PASSWORD, audit_count, walk

OFFICER = "1001"  # off-1
CUSTODY = "2001"  # cus-f


def actor(sid: str, role: str) -> Actor:
    return Actor(id=sid, role=role, name=sid, roles=(role,))


class Lockers:
    """Records what the locker port was asked to open (the lock board itself is tested in tests/integration)."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    async def open(self, locker_id: str) -> None:
        self.opened.append(locker_id)


@pytest.fixture
def lockers(container: Any) -> Lockers:
    port = Lockers()
    container.lockers = port
    return port


def item_body(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"case_no": "A-2026-001", "description": "黑色手机一部", "category": "phone",
                            "seal_no": "F-0001"}
    body.update(kw)
    return body


async def register(api: Any, **kw: Any) -> dict[str, Any]:
    status, item = await api.post("/api/v1/case-property", item_body(**kw), as_=OFFICER)
    assert status == 201, item
    return item


def hand(container: Any, item_id: str, by: Actor, other_auth: str = "card_pin", kind: str = "case_property",
         **body: Any) -> dict[str, Any]:
    """A handover as the route passes it on once the other party's step-up has been checked."""
    cmd = svc.HandoverIn(**body)
    auth = {"giver": "session" if cmd.giver_id == by.id else other_auth,
            "receiver": "session" if cmd.receiver_id == by.id else other_auth}
    return container.db.write_sync(by, lambda uow: svc.handover(uow, container.ctx, kind, item_id, cmd, auth))


async def test_register_cash_needs_amount_and_currency(api):
    await api.login(OFFICER)
    before = await audit_count(api)
    status, err = await api.post("/api/v1/case-property", item_body(category="cash", description="现金"), as_=OFFICER)
    assert status == 422 and err["code"] == "VALIDATION_ERROR"
    assert await audit_count(api) == before
    item = await register(api, category="cash", description="现金", amount="12500.00", currency="CNY")
    assert item["status"] == "registered" and item["holder_id"] == "off-1"
    assert item["amount"] == "12500.00" and item["currency"] == "CNY"


async def test_register_against_a_stay_checks_the_case(api):
    stay = await walk(api, "registered")
    await refused(api, "/api/v1/case-property", item_body(stay_id=stay["id"], case_no="B-OTHER"), "CASE_MISMATCH",
                  status=422, as_=OFFICER)
    item = await register(api, stay_id=stay["id"])
    assert item["stay_id"] == stay["id"]


async def test_register_with_an_uploaded_photo(api):
    import cv2
    import numpy as np

    ok, jpeg = cv2.imencode(".jpg", np.full((40, 60, 3), 128, np.uint8))
    assert ok
    token = await api.login(OFFICER)
    r = await api.client.post("/api/v1/case-property/photos", content=jpeg.tobytes(),
                              headers={"Authorization": f"Bearer {token}", "content-type": "image/jpeg"})
    assert r.status_code == 201, r.text
    photo = r.json()["photo_id"]
    item = await register(api, photo_ids=[photo])
    assert item["photo_ids"] == [photo]
    await refused(api, "/api/v1/case-property", item_body(photo_ids=["photo-nope"]), "PHOTO_NOT_FOUND",
                  status=422, as_=OFFICER)


async def test_handover_without_authenticated_receiver_is_refused(api, container, lockers):
    item = await register(api)
    body = {"purpose": "storage", "giver_id": "off-1", "receiver_id": "cus-f", "location_id": "evidence-1"}
    err = await refused(api, f"/api/v1/case-property/{item['id']}/handovers", body, "HANDOVER_NOT_AUTHENTICATED",
                        as_=OFFICER)
    assert err["details"]["party"] == "receiver"
    # a bare claim of the receiver's proof is no proof either
    await refused(api, f"/api/v1/case-property/{item['id']}/handovers", {**body, "step_up": {"ok": True}},
                  "VALIDATION_ERROR", status=422, as_=OFFICER)
    # another person's credentials prove that person, not the named receiver
    status, err = await api.post(f"/api/v1/case-property/{item['id']}/handovers",
                                 {**body, "step_up": {"police_no": "2002", "password": PASSWORD}}, as_=OFFICER)
    assert status == 409 and err["code"] == "STEP_UP_NOT_PARTY", err
    status, err = await api.post(f"/api/v1/case-property/{item['id']}/handovers",
                                 {**body, "step_up": {"police_no": "2001", "password": "wrong-password"}},
                                 as_=OFFICER)
    assert status == 403 and err["code"] == "BAD_CREDENTIALS", err
    assert lockers.opened == []
    _, t = await api.get(f"/api/v1/case-property/{item['id']}/trail", as_=OFFICER)
    assert t["movements"] == [] and t["item"]["status"] == "registered"


async def test_handover_with_the_receiver_proven_by_step_up_opens_the_locker(api, container, lockers):
    item = await register(api)
    status, got = await api.post(f"/api/v1/case-property/{item['id']}/handovers",
                                 {"purpose": "storage", "giver_id": "off-1", "receiver_id": "cus-f",
                                  "location_id": "evidence-1",
                                  "step_up": {"police_no": "2001", "password": PASSWORD}}, as_=OFFICER)
    assert status == 201, got
    assert got["status"] == "in_store" and got["location_id"] == "evidence-1"
    assert got["movement"]["giver_auth"] == "session" and got["movement"]["receiver_auth"] == "password"
    assert got["locker_open"] == {"ok": True, "locker_id": "c-13"} and lockers.opened == ["c-13"]
    # and out again for examination: the custodian signed in, the officer proves himself at her kiosk
    due = (container.clock.now() + timedelta(hours=3)).isoformat()
    status, got = await api.post(f"/api/v1/case-property/{item['id']}/handovers",
                                 {"purpose": "examination", "giver_id": "cus-f", "receiver_id": "off-2",
                                  "expected_return_at": due,
                                  "step_up": {"police_no": "1002", "password": PASSWORD}}, as_=CUSTODY)
    assert status == 201, got
    assert got["status"] == "out" and got["holder_id"] == "off-2" and lockers.opened == ["c-13", "c-13"]
    _, t = await api.get(f"/api/v1/case-property/{item['id']}/trail", as_=OFFICER)
    assert [(m["giver_id"], m["receiver_id"]) for m in t["movements"]] == [("off-1", "cus-f"), ("cus-f", "off-2")]


async def test_handover_by_someone_not_a_party_is_refused(api, lockers):
    item = await register(api)
    await refused(api, f"/api/v1/case-property/{item['id']}/handovers",
                  {"purpose": "storage", "giver_id": "off-1", "receiver_id": "cus-f", "location_id": "evidence-1"},
                  "HANDOVER_NOT_PARTY", as_="2002")


async def test_evidence_locker_refuses_to_open_without_a_handover(api, lockers):
    await refused(api, "/api/v1/lockers/c-13/open", {"reason": "取物"}, "LOCKER_NEEDS_HANDOVER", as_=CUSTODY)
    assert lockers.opened == []
    status, _ = await api.post("/api/v1/lockers/a-16/open", {"reason": "取物"}, as_=CUSTODY)
    assert status == 200  # a personal-property locker still opens on a recorded order


async def test_evidence_locker_is_not_a_personal_property_locker(api):
    _, lockers = await api.get("/api/v1/lockers")
    states = {lk["id"]: lk["state"] for lk in lockers}
    assert states["c-13"] == states["c-15"] == "reserved" and states["c-12"] == "free"
    stay = await walk(api, "collected")
    await refused(api, f"/api/v1/stays/{stay['id']}/property",
                  {"custodian_id": "cus-f", "locker_id": "c-13", "items": []}, "LOCKER_RESERVED", stay_id=stay["id"])


async def test_storage_then_examination_and_return_make_a_trail(api, container, lockers):
    item = await register(api)
    stored = hand(container, item["id"], actor("cus-f", "custody_staff"), purpose="storage", giver_id="off-1",
                  receiver_id="cus-f", location_id="evidence-1")
    assert stored["status"] == "in_store" and stored["opens_locker_id"] == "c-13"
    assert stored["movement"]["giver_auth"] == "card_pin" and stored["movement"]["receiver_auth"] == "session"
    now = container.clock.now()
    out = hand(container, item["id"], actor("off-2", "case_officer"), purpose="examination", giver_id="cus-f",
               receiver_id="off-2", expected_return_at=now + timedelta(hours=4))
    assert out["status"] == "out" and out["holder_id"] == "off-2" and out["opens_locker_id"] == "c-13"
    back = hand(container, item["id"], actor("cus-m", "custody_staff"), purpose="storage", giver_id="off-2",
                receiver_id="cus-m", location_id="evidence-2")
    assert back["status"] == "in_store" and back["location_id"] == "evidence-2"
    status, t = await api.get(f"/api/v1/case-property/{item['id']}/trail", as_=OFFICER)
    assert status == 200
    assert [m["purpose"] for m in t["movements"]] == ["storage", "examination", "storage"]
    assert t["gaps"] == [] and t["staff_names"]["cus-f"] == "陈静"


async def test_out_needs_expected_return_and_the_holder_gives(api, container):
    item = await register(api)
    with pytest.raises(Exception) as exc:
        hand(container, item["id"], actor("cus-f", "custody_staff"), purpose="storage", giver_id="off-2",
             receiver_id="cus-f", location_id="evidence-1")
    assert getattr(exc.value, "code", None) == "GIVER_NOT_HOLDER"
    hand(container, item["id"], actor("cus-f", "custody_staff"), purpose="storage", giver_id="off-1",
         receiver_id="cus-f", location_id="evidence-1")
    with pytest.raises(Exception) as exc:
        hand(container, item["id"], actor("off-2", "case_officer"), purpose="court", giver_id="cus-f",
             receiver_id="off-2")
    assert getattr(exc.value, "code", None) == "RETURN_TIME_REQUIRED"


async def test_store_side_must_be_custody_staff_not_a_case_officer(api, container):
    stay = await walk(api, "registered")
    item = await register(api, stay_id=stay["id"])
    with pytest.raises(Exception) as exc:
        hand(container, item["id"], actor("off-2", "case_officer"), purpose="storage", giver_id="off-1",
             receiver_id="off-2", location_id="evidence-1")
    assert getattr(exc.value, "code", None) == "CUSTODIAN_REQUIRED"


async def test_item_out_past_its_return_raises_an_alarm(api, container):
    item = await register(api)
    hand(container, item["id"], actor("cus-f", "custody_staff"), purpose="storage", giver_id="off-1",
         receiver_id="cus-f", location_id="evidence-room")
    hand(container, item["id"], actor("off-2", "case_officer"), purpose="court", giver_id="cus-f",
         receiver_id="off-2", expected_return_at=container.clock.now() + timedelta(hours=2))
    await container.clock.advance_async(3600)
    assert not [a for a in (await api.get("/api/v1/alarms?state=open"))[1] if a["kind"] == "custody_overdue"]
    await container.clock.advance_async(3601)
    _, rows = await api.get("/api/v1/alarms?state=open")
    overdue = [a for a in rows if a["kind"] == "custody_overdue"]
    assert len(overdue) == 1 and overdue[0]["details"]["item_id"] == item["id"]
    assert overdue[0]["details"]["holder_id"] == "off-2"
    hand(container, item["id"], actor("cus-f", "custody_staff"), purpose="storage", giver_id="off-2",
         receiver_id="cus-f", location_id="evidence-room")
    _, rows = await api.get("/api/v1/alarms?state=open")
    assert not [a for a in rows if a["kind"] == "custody_overdue"]


async def test_property_not_transferred_in_time_raises_an_alarm(api, container):
    kept = await register(api, description="刀具一把", category="weapon")
    sent = await register(api, description="笔记本电脑", category="electronics")
    hand(container, sent["id"], actor("cus-f", "custody_staff"), purpose="storage", giver_id="off-1",
         receiver_id="cus-f", location_id="evidence-room")
    hand(container, sent["id"], actor("cus-f", "custody_staff"), purpose="transfer_to_property_centre",
         giver_id="cus-f", receiver_id="cus-m")
    await container.clock.advance_async(23 * 3600)
    assert not [a for a in (await api.get("/api/v1/alarms?state=open"))[1] if a["kind"] == "custody_transfer_late"]
    await container.clock.advance_async(3601)
    late = [a for a in (await api.get("/api/v1/alarms?state=open"))[1] if a["kind"] == "custody_transfer_late"]
    assert [a["details"]["item_id"] for a in late] == [kept["id"]]


async def test_closed_item_moves_no_more(api, container):
    item = await register(api)
    hand(container, item["id"], actor("cus-f", "custody_staff"), purpose="storage", giver_id="off-1",
         receiver_id="cus-f", location_id="evidence-room")
    hand(container, item["id"], actor("cus-f", "custody_staff"), purpose="destruction", giver_id="cus-f",
         receiver_id="cus-m")
    with pytest.raises(Exception) as exc:
        hand(container, item["id"], actor("cus-m", "custody_staff"), purpose="check_out", giver_id="cus-m",
             receiver_id="off-2", expected_return_at=container.clock.now() + timedelta(hours=1))
    assert getattr(exc.value, "code", None) == "CUSTODY_OUT_OF_ORDER"


async def test_case_file_check_out_check_in_and_overdue(api, container):
    status, folder = await api.post("/api/v1/case-files", item_body(description="A-2026-001 卷宗第1卷",
                                                                      category="case_file", seal_no=None),
                                    as_=OFFICER)
    assert status == 201, folder
    assert folder["transfer_due_at"] is None  # files stay with the case; no property-centre deadline
    with pytest.raises(Exception) as exc:
        hand(container, folder["id"], actor("cus-f", "custody_staff"), kind="case_file", purpose="storage",
             giver_id="off-1", receiver_id="cus-f", location_id="evidence-1")
    assert getattr(exc.value, "code", None) == "LOCATION_WRONG_KIND"
    filed = hand(container, folder["id"], actor("cus-f", "custody_staff"), kind="case_file", purpose="storage",
                 giver_id="off-1", receiver_id="cus-f", location_id="files-1")
    assert filed["opens_locker_id"] == "c-15"
    hand(container, folder["id"], actor("off-3", "case_officer"), kind="case_file", purpose="check_out",
         giver_id="cus-f", receiver_id="off-3", expected_return_at=container.clock.now() + timedelta(hours=1))
    await container.clock.advance_async(3601)
    overdue = [a for a in (await api.get("/api/v1/alarms?state=open"))[1] if a["kind"] == "custody_overdue"]
    assert overdue and overdue[0]["details"]["item_kind"] == "case_file"
    hand(container, folder["id"], actor("cus-f", "custody_staff"), kind="case_file", purpose="check_in",
         giver_id="off-3", receiver_id="cus-f", location_id="files-1")
    _, t = await api.get(f"/api/v1/case-files/{folder['id']}/trail", as_=OFFICER)
    assert [m["purpose"] for m in t["movements"]] == ["storage", "check_out", "check_in"] and t["gaps"] == []
    status, _ = await api.get(f"/api/v1/case-property/{folder['id']}/trail", as_=OFFICER)
    assert status == 404


async def test_new_records_reach_the_outbox(api, container):
    item = await register(api)
    hand(container, item["id"], actor("cus-f", "custody_staff"), purpose="storage", giver_id="off-1",
         receiver_id="cus-f", location_id="evidence-1")
    status, feed = await api.get("/api/v1/sync/changes?after=0&limit=1000", as_="9101")
    assert status == 200, feed
    types = [c["type"] for c in feed["changes"] if c["payload"].get("entity_id") == item["id"]]
    assert types == ["case_property_registered", "case_property_handover"]
