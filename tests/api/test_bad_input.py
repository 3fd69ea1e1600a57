"""Bad input anywhere in the API answers 4xx in the one error shape and writes nothing."""

from __future__ import annotations

import pytest

from tests.api.test_rules import refused
from tests.conftest import audit_count, registration, walk


async def raw_post(api, path: str, content: bytes, as_: str = "2001"):
    token = await api.login(as_)
    r = await api.client.post(path, content=content, headers={"Authorization": f"Bearer {token}",
                                                              "Content-Type": "application/json"})
    return r.status_code, r.json()


async def test_malformed_json(api):
    await api.login("2001")
    before = await audit_count(api)
    status, err = await raw_post(api, "/api/v1/stays", b'{"subject": {"name": ')
    assert status == 400 and err["code"] == "MALFORMED_JSON" and err["message"] and err["message_en"]
    assert await audit_count(api) == before


@pytest.mark.parametrize("mutate,field", [
    (lambda b: b["subject"].update(sex="unknown"), "subject.sex"),
    (lambda b: b["subject"].update(birth_date="2026-02-30"), "subject.birth_date"),
    (lambda b: b.update(case_officer_ids="off-1"), "case_officer_ids"),
    (lambda b: b.update(legal_basis="because"), "legal_basis"),
    (lambda b: b.update(colour="red"), "colour"),
    (lambda b: b.pop("case"), "case"),
    (lambda b: b.update(basis_started_at="2026-11-22T08:00:00"), "basis_started_at"),
])
async def test_wrong_types_and_impossible_values(api, mutate, field):
    body = registration()
    mutate(body)
    err = await refused(api, "/api/v1/stays", body, "VALIDATION_ERROR", status=422)
    assert field in [f["field"] for f in err["details"]["fields"]], err
    status, stays = await api.get("/api/v1/stays")
    assert stays == []


async def test_invalid_identity_number_by_check_digit(api):
    body = registration()
    number = body["subject"]["id_number"]
    body["subject"]["id_number"] = number[:17] + ("0" if number[17] != "0" else "1")
    await refused(api, "/api/v1/stays", body, "INVALID_ID_NUMBER", status=422)


async def test_identity_number_must_match_birth_date(api):
    body = registration()
    body["subject"]["birth_date"] = "1991-03-07"
    await refused(api, "/api/v1/stays", body, "ID_BIRTH_DATE_MISMATCH", status=422)


async def test_birth_date_in_the_future(api):
    body = registration()
    body["subject"].update(id_type="passport", id_number="E12345678", birth_date="2030-01-01")
    await refused(api, "/api/v1/stays", body, "INVALID_DATE", status=422)


async def test_manual_entry_needs_a_reason(api):
    body = registration(identity_source="manual")
    await refused(api, "/api/v1/stays", body, "MANUAL_ENTRY_REASON_REQUIRED", status=422)
    status, stay = await api.post("/api/v1/stays", {**body, "manual_entry_reason": "未携带身份证"})
    assert status == 201 and stay["manual_entry_reason"] == "未携带身份证"


async def test_unknown_room(api):
    stay = await walk(api, "property_stored")
    await refused(api, f"/api/v1/stays/{stay['id']}/placement", {"room_id": "no-such-room"}, "NOT_FOUND", status=404,
                  stay_id=stay["id"])


async def test_unknown_stay_and_officer(api):
    await refused(api, "/api/v1/stays/stay-nope/search",
                  {"checker_id": "cus-m", "witness_id": "off-1", "gate_result": "pass"}, "NOT_FOUND", status=404)
    await refused(api, "/api/v1/stays", registration(officers=("off-1", "ghost")), "UNKNOWN_STAFF", status=422)


async def test_suspect_needs_two_case_officers_at_registration(api):
    await refused(api, "/api/v1/stays", registration(officers=("off-1",)), "TOO_FEW_OFFICERS", status=422)
    await refused(api, "/api/v1/stays", registration(officers=("off-1", "cus-f")), "FORBIDDEN_ROLE", status=422)


async def test_transition_out_of_order(api):
    stay = await walk(api, "registered")
    for step, body in [("collection", {"fingerprints_taken": True, "dna_taken": True}),
                       ("placement", {"room_id": "wait-1"}), ("exit", {"disposition": "released"}),
                       ("return", {})]:
        err = await refused(api, f"/api/v1/stays/{stay['id']}/{step}", body, "STEP_OUT_OF_ORDER", stay_id=stay["id"])
        assert err["details"]["state"] == "registered"


async def test_same_person_cannot_be_registered_twice(api):
    body = registration()
    status, _ = await api.post("/api/v1/stays", body)
    assert status == 201
    await refused(api, "/api/v1/stays", body, "SUBJECT_ALREADY_INSIDE")


async def test_wristband_bound_once(api):
    status, _ = await api.post("/api/v1/stays", registration(wristband_id="band-0007"))
    assert status == 201
    await refused(api, "/api/v1/stays", registration(wristband_id="band-0007"), "WRISTBAND_IN_USE")


async def test_witness_basis_must_fit_role(api):
    await refused(api, "/api/v1/stays", registration(role="witness"), "BASIS_ROLE_MISMATCH", status=422)


async def test_unknown_path_and_method_use_the_error_shape(api):
    status, err = await api.get("/api/v1/nothing-here")
    assert status == 404 and err["code"] == "NOT_FOUND"
