"""The subject's rights at the handling centre (issue 13): each rule's refusal (status, stable code, nothing
written) and its allowed case."""

from __future__ import annotations

from typing import Any

from tests.api.test_approvals import later
from tests.api.test_rules import refused
from tests.conftest import approved, registration, walk

CUSTODY_2001 = "cus-f"  # police no. 2001 in tests/conftest.py
SEARCH = {"checker_id": "cus-m", "findings": {}}


async def exiting_with(api: Any, items: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """A stay with these property items, at exit."""
    stay = await walk(api, "collected")
    sid = stay["id"]
    status, s = await api.post(f"/api/v1/stays/{sid}/property",
                               {"custodian_id": "cus-f", "locker_id": "c-07", "items": items}, as_="2001")
    assert status == 200, s
    status, s = await api.post(f"/api/v1/stays/{sid}/placement", {"room_id": "wait-2"}, as_="2001")
    assert status == 200, s
    status, s = await api.post(f"/api/v1/stays/{sid}/exit", {"disposition": "released"}, as_="2001")
    assert status == 200 and s["state"] == "exiting", s
    return sid, s["property"]["items"]


KNIFE = {"description": "管制刀具", "quantity": 1, "category": "dangerous"}
PHONE = {"description": "涉案手机", "quantity": 1, "category": "case_related"}


async def test_a_dangerous_item_is_not_returned_without_a_decision(api):
    sid, (knife, phone) = await exiting_with(api, [KNIFE, PHONE])
    path = f"/api/v1/stays/{sid}/exit/complete"
    seize_phone = {"item_id": phone["id"], "disposition": "seized", "document_no": "扣押-2026-31"}
    for disp in ("returned", "handed_to_family"):
        extra = {"receiver": {"name": "王芳", "id_number": "110101199003078888"}} if disp == "handed_to_family" else {}
        err = await refused(api, path, {"exit_search": SEARCH, "items": [
            {"item_id": knife["id"], "disposition": disp, **extra}, seize_phone]}, "ITEM_NEEDS_DECISION",
            stay_id=sid)
        assert err["details"]["item_id"] == knife["id"]
    # a destruction needs its record number
    await refused(api, path, {"exit_search": SEARCH, "items": [
        {"item_id": knife["id"], "disposition": "destroyed"}, seize_phone]}, "DOCUMENT_NO_REQUIRED", status=422,
        stay_id=sid)
    # an approval for another item does not cover this one; a pending one is not a decision
    other = await approved(api, "item_return", sid, item_id=phone["id"])
    await refused(api, path, {"exit_search": SEARCH, "items": [
        {"item_id": knife["id"], "disposition": "returned", "approval_id": other}, seize_phone]},
        "APPROVAL_MISMATCH", stay_id=sid)
    status, pending = await api.post("/api/v1/approvals", {"kind": "item_return", "stay_id": sid, "reason": "发还",
                                                           "item_id": knife["id"]}, as_="2001")
    assert status == 201, pending
    await refused(api, path, {"exit_search": SEARCH, "items": [
        {"item_id": knife["id"], "disposition": "returned", "approval_id": pending["id"]}, seize_phone]},
        "APPROVAL_NOT_GRANTED", stay_id=sid)
    # an approval must name the item
    status, err = await api.post("/api/v1/approvals", {"kind": "item_return", "stay_id": sid, "reason": "发还"},
                                 as_="2001")
    assert status == 422 and err["code"] == "APPROVAL_TERMS_REQUIRED", err


async def test_seized_destroyed_or_returned_with_approval_is_accepted(api):
    sid, (knife, phone) = await exiting_with(api, [KNIFE, PHONE])
    aid = await approved(api, "item_return", sid, item_id=phone["id"])
    status, done = await api.post(f"/api/v1/stays/{sid}/exit/complete", {"exit_search": SEARCH, "items": [
        {"item_id": knife["id"], "disposition": "destroyed", "document_no": "销毁-2026-02"},
        {"item_id": phone["id"], "disposition": "returned", "approval_id": aid}]}, as_="2001")
    assert status == 200, done
    assert done["state"] == "exited"
    entry = next(e for e in done["timeline"] if e["action"] == "stay_exited")
    items = {i["id"]: i for i in entry["after"]["items"]}
    assert items[knife["id"]]["disposition"] == "destroyed"
    assert items[knife["id"]]["document_no"] == "销毁-2026-02"
    assert items[phone["id"]]["approval"]["approval_id"] == aid
    assert items[phone["id"]]["approval"]["granted_by"] == "sup-1"
    status, used = await api.get(f"/api/v1/approvals/{aid}")
    assert used["state"] == "used"


async def test_an_ordinary_item_is_still_returned_freely(api):
    sid, (wallet,) = await exiting_with(api, [{"description": "钱包", "quantity": 1, "category": "personal"}])
    status, done = await api.post(f"/api/v1/stays/{sid}/exit/complete", {"exit_search": SEARCH, "items": [
        {"item_id": wallet["id"], "disposition": "returned"}]}, as_="2001")
    assert status == 200 and done["state"] == "exited", done


# --- vulnerable people at the interview's start ----------------------------------------------------------------

ADULT = {"name": "张母", "relation": "parent", "id_number": "110101197501011234", "contact": "13800000000"}


async def test_a_minors_appropriate_adult_must_be_identified(api, recorder):
    stay = await walk(api, body=registration(birth="2010-05-01"), room="wait-6")
    path = f"/api/v1/stays/{stay['id']}/interviews"
    base = {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}
    # the old way: any name with relation "—" was accepted
    err = await refused(api, path, {**base, "appropriate_adult": {"name": "某人", "relation": "—"}},
                        "APPROPRIATE_ADULT_INCOMPLETE", status=422, as_="1001", stay_id=stay["id"])
    assert set(err["details"]["fields"]) == {"relation", "id_number", "contact"}
    await refused(api, path, {**base, "appropriate_adult": {**ADULT, "relation": "neighbour"}},
                  "APPROPRIATE_ADULT_INCOMPLETE", status=422, as_="1001", stay_id=stay["id"])
    await refused(api, path, {**base, "appropriate_adult": {**ADULT, "contact": " "}},
                  "APPROPRIATE_ADULT_INCOMPLETE", status=422, as_="1001", stay_id=stay["id"])
    await refused(api, path, {**base, "appropriate_adult": {**ADULT, "id_number": "110101197501011235"}},
                  "INVALID_ID_NUMBER", status=422, as_="1001", stay_id=stay["id"])
    assert recorder.started == 0
    status, got = await api.post(path, {**base, "appropriate_adult": ADULT}, as_="1001")
    assert status == 201, got
    _, s = await api.get(f"/api/v1/stays/{stay['id']}")
    started = next(e for e in s["timeline"] if e["action"] == "interview_started")
    assert started["after"]["appropriate_adult"]["relation"] == "parent"
    assert "110101197501011234" not in str(s)  # the adult's identity number is never shown whole


async def test_a_female_minors_interview_needs_a_female_staff_member(api, recorder):
    body = registration(sex="female", birth="2010-05-01", officers=("off-1", "off-2", "off-3"))
    stay = await walk(api, body=body, room="wait-6")
    path = f"/api/v1/stays/{stay['id']}/interviews"
    # two male officers: refused (CPL art. 281)
    await refused(api, path, {"room_id": "int-1", "officer_ids": ["off-1", "off-2"], "appropriate_adult": ADULT},
                  "FEMALE_STAFF_REQUIRED", as_="1001", stay_id=stay["id"])
    assert recorder.started == 0
    status, got = await api.post(path, {"room_id": "int-1", "officer_ids": ["off-1", "off-3"],
                                        "appropriate_adult": ADULT}, as_="1001")
    assert status == 201, got


async def test_a_subject_needing_an_interpreter_has_one_recorded(api, recorder):
    stay = await walk(api, body=registration(flags={"needs_interpreter": True}), room="wait-2")
    path = f"/api/v1/stays/{stay['id']}/interviews"
    base = {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}
    await refused(api, path, base, "INTERPRETER_REQUIRED", as_="1001", stay_id=stay["id"])
    await refused(api, path, {**base, "interpreter": "  "}, "INTERPRETER_REQUIRED", as_="1001", stay_id=stay["id"])
    assert recorder.started == 0
    status, got = await api.post(path, {**base, "interpreter": "阿依古丽（维吾尔语）"}, as_="1001")
    assert status == 201, got


# --- notifications of the measure ------------------------------------------------------------------------------

TOLD = {"party": "family", "name": "王芳", "relation": "spouse", "method": "phone", "contact": "13900000000"}


async def open_alarms(api: Any, sid: str) -> list[str]:
    status, alarms = await api.get(f"/api/v1/alarms?state=open&stay_id={sid}", as_="2001")
    assert status == 200, alarms
    return [a["kind"] for a in alarms]


async def test_criminal_detention_family_told_within_24_hours(api, container):
    stay = await walk(api, "registered", registration(basis="criminal_detention"))
    sid = stay["id"]
    path = f"/api/v1/stays/{sid}/notifications"
    _, got = await api.get(path, as_="2001")
    assert got["due"] == [{"purpose": "family", "due_at": got["due"][0]["due_at"], "source": "《刑事诉讼法》第85条",
                           "done": False}]
    await later(api, container, 23 * 60)
    assert "notification_due" not in await open_alarms(api, sid)
    await later(api, container, 61)  # 24 h passed with nobody told (CPL art. 85)
    assert "notification_due" in await open_alarms(api, sid)
    # refusals: who was told, their relation and how; not notifying needs an approval
    await refused(api, path, {"party": "family", "name": "王芳"}, "NOTIFICATION_INCOMPLETE", status=422,
                  stay_id=sid)
    await refused(api, path, {"party": "family", "not_notified_reason": "涉嫌恐怖活动犯罪，通知可能有碍侦查"},
                  "APPROVAL_REQUIRED", stay_id=sid)
    status, n = await api.post(path, TOLD, as_="2001")
    assert status == 201, n
    assert n["recorded_by"] == CUSTODY_2001  # whoever signed in
    assert "notification_due" not in await open_alarms(api, sid)
    _, got = await api.get(path, as_="2001")
    assert got["due"][0]["done"] is True and got["notifications"][0]["method"] == "phone"


async def test_not_notifying_with_a_granted_approval(api):
    stay = await walk(api, "registered", registration(basis="criminal_detention"))
    sid = stay["id"]
    aid = await approved(api, "no_notification", sid)
    status, n = await api.post(f"/api/v1/stays/{sid}/notifications",
                               {"party": "family", "not_notified_reason": "无法通知：无家属联系方式", "approval_id": aid},
                               as_="2001")
    assert status == 201, n
    assert n["told_at"] is None and n["approval_id"] == aid
    _, got = await api.get(f"/api/v1/stays/{sid}/notifications", as_="2001")
    assert got["due"][0]["done"] is True


async def test_a_minors_guardian_is_told_at_once_and_continued_questioning_promptly(api, container):
    minor = await walk(api, "registered", registration(birth="2010-05-01", basis="continued_questioning"))
    sid = minor["id"]
    _, got = await api.get(f"/api/v1/stays/{sid}/notifications", as_="2001")
    assert {d["purpose"] for d in got["due"]} == {"family", "guardian"}
    await later(api, container, 2 * 60 + 1)  # the site's "at once" (2 h by default) has passed
    assert "notification_due" in await open_alarms(api, sid)
    # a spouse's notice does not tell the guardian: still late
    status, _ = await api.post(f"/api/v1/stays/{sid}/notifications", {**TOLD, "relation": "other_relative"},
                               as_="2001")
    assert status == 201
    assert "notification_due" in await open_alarms(api, sid)
    status, _ = await api.post(f"/api/v1/stays/{sid}/notifications",
                               {"party": "guardian", "name": "张父", "relation": "parent", "method": "phone"},
                               as_="2001")
    assert status == 201
    assert "notification_due" not in await open_alarms(api, sid)
