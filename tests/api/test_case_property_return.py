"""Case property returned to its owner records who received it (《公安机关涉案财物管理若干规定》art. 19): his name
and identity document, typed or read on the ID card reader, with the receiving officer authenticated; a return
without the receiver's identity is refused and writes nothing; the number is masked for a role that may not read
it, in the audit, and withheld from a platform not entitled to it."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from controller.store.tables import AuditEntry, OutboxEntry
from tests.api.test_rules import refused
from tests.conftest import PASSWORD, resident_id

OFFICER = "1001"  # off-1
CUSTODY = "2001"  # cus-f


class Lockers:
    def __init__(self) -> None:
        self.opened: list[str] = []

    async def open(self, locker_id: str) -> None:
        self.opened.append(locker_id)


async def stored_item(api: Any, container: Any) -> dict[str, Any]:
    """An item the officer seized and handed into the evidence locker (the custodian proved herself by step-up)."""
    container.lockers = Lockers()
    status, item = await api.post("/api/v1/case-property", {"case_no": "A-2026-001", "description": "银色手表一块",
                                                            "category": "valuables", "seal_no": "F-0101"},
                                  as_=OFFICER)
    assert status == 201, item
    status, got = await api.post(f"/api/v1/case-property/{item['id']}/handovers",
                                 {"purpose": "storage", "giver_id": "off-1", "receiver_id": "cus-f",
                                  "location_id": "evidence-1", "step_up": {"police_no": "2001", "password": PASSWORD}},
                                 as_=OFFICER)
    assert status == 201, got
    return got


def return_body(**kw: Any) -> dict[str, Any]:
    """The custodian (signed in) gives the item to the returning officer off-2, who proves himself by step-up."""
    body: dict[str, Any] = {"purpose": "return_to_owner", "giver_id": "cus-f", "receiver_id": "off-2",
                            "step_up": {"police_no": "1002", "password": PASSWORD}}
    body.update(kw)
    return body


async def trail(api: Any, item_id: str, as_: str = CUSTODY) -> dict[str, Any]:
    status, t = await api.get(f"/api/v1/case-property/{item_id}/trail", as_=as_)
    assert status == 200, t
    return dict(t)


async def test_return_without_the_receivers_identity_is_refused(api, container):
    item = await stored_item(api, container)
    path = f"/api/v1/case-property/{item['id']}/handovers"
    err = await refused(api, path, return_body(), "OWNER_IDENTITY_REQUIRED", status=422, as_=CUSTODY)
    assert err["details"]["field"] == "owner"
    t = await trail(api, item["id"])
    assert t["item"]["status"] == "in_store" and [m["purpose"] for m in t["movements"]] == ["storage"]
    assert container.lockers.opened == ["c-13"]  # the locker did not open for the refused return


async def test_return_with_a_bad_identity_number_is_refused(api, container):
    item = await stored_item(api, container)
    path = f"/api/v1/case-property/{item['id']}/handovers"
    good = resident_id("19700101")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    await refused(api, path, return_body(owner={"name": "孙丽", "id_type": "resident_id", "id_number": bad}),
                  "INVALID_ID_NUMBER", status=422, as_=CUSTODY)
    # the identity said to come from the card reader must be what the reader read; here it read nothing
    await refused(api, path, return_body(owner={"name": "孙丽", "id_type": "resident_id", "id_number": good,
                                                "source": "id_card", "id_reader_id": "idr-reg"}),
                  "NO_CARD_READ", status=422, as_=CUSTODY)
    # only a return names an owner
    await refused(api, path, {"purpose": "examination", "giver_id": "cus-f", "receiver_id": "off-2",
                              "expected_return_at": "2026-11-22T09:00:00+00:00",
                              "owner": {"name": "孙丽", "id_type": "resident_id", "id_number": good},
                              "step_up": {"police_no": "1002", "password": PASSWORD}},
                  "OWNER_ONLY_ON_RETURN", status=422, as_=CUSTODY)
    assert [m["purpose"] for m in (await trail(api, item["id"]))["movements"]] == ["storage"]


async def test_return_needs_the_receiving_officer_authenticated(api, container):
    item = await stored_item(api, container)
    owner = {"name": "孙丽", "id_type": "resident_id", "id_number": resident_id("19700101", sex="female")}
    err = await refused(api, f"/api/v1/case-property/{item['id']}/handovers",
                        return_body(owner=owner, step_up=None), "HANDOVER_NOT_AUTHENTICATED", as_=CUSTODY)
    assert err["details"]["party"] == "receiver"


async def test_return_records_the_receiver_masked_where_it_must_be(api, container):
    item = await stored_item(api, container)
    number = resident_id("19700101", sex="female")
    owner = {"name": "孙丽", "id_type": "resident_id", "id_number": number.lower()}
    status, got = await api.post(f"/api/v1/case-property/{item['id']}/handovers", return_body(owner=owner),
                                 as_=CUSTODY)
    assert status == 201, got
    assert got["status"] == "closed"
    mv = got["movement"]
    assert mv["owner"] == {"name": "孙丽", "id_type": "resident_id", "id_number": number.upper(), "source": "manual"}
    assert mv["giver_auth"] == "session" and mv["receiver_auth"] == "password"
    # the custodian and the officers read the number; an admin reads the trail with it masked
    full = await trail(api, item["id"], as_=OFFICER)
    assert full["movements"][-1]["owner"]["id_number"] == number.upper()
    masked = await trail(api, item["id"], as_="9001")
    seen = masked["movements"][-1]["owner"]
    assert seen["name"] == "孙丽" and seen["id_number"] != number.upper() and seen["id_number"].startswith(number[:6])
    assert number.upper() not in json.dumps(masked)
    # the audit and the outbox keep a masked number; the platform, not entitled here, gets none at all
    rows = container.db.read_sync(lambda s: [(a.before, a.after) for a in s.exec(
        select(AuditEntry).where(AuditEntry.entity_id == item["id"])).all()])
    assert rows and number.upper() not in json.dumps(rows, default=str)
    out = container.db.read_sync(lambda s: [o.payload for o in s.exec(
        select(OutboxEntry).where(OutboxEntry.type == "case_property_handover")).all()])
    assert out and number.upper() not in json.dumps(out)
    status, feed = await api.get("/api/v1/sync/changes?after=0&limit=1000", as_="9101")
    assert status == 200, feed
    ret = [c["payload"] for c in feed["changes"] if c["type"] == "case_property_handover"
           and c["payload"]["movement"]["purpose"] == "return_to_owner"]
    assert len(ret) == 1 and "id_number" not in ret[0]["movement"]["owner"]
    assert ret[0]["movement"]["owner"]["name"] == "孙丽"


async def test_storage_locations_are_named_for_the_screens(api):
    status, places = await api.get("/api/v1/storage-locations?holds=case_file", as_=CUSTODY)
    assert status == 200, places
    assert places == [{"id": "files-1", "name": "卷宗柜1", "name_en": "Case-file cabinet 1", "kind": "file_cabinet",
                       "holds": "case_file", "has_lock": True}]
    _, everything = await api.get("/api/v1/storage-locations", as_=OFFICER)
    assert {p["id"] for p in everything} == {"evidence-1", "evidence-2", "evidence-room", "files-1"}
    assert next(p for p in everything if p["id"] == "evidence-room")["has_lock"] is False
