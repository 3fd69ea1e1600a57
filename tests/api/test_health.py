"""Health records: the entry check's risk flags, medical check before placement (or an approval), the five-item
exam before a detention centre, and the drug-test procedure of 《吸毒检测程序规定》 (two collectors, female
collectors for a female subject's urine, A/B samples, signature or refusal, the three-day re-test deadline)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.api.test_rules import refused
from tests.conftest import PASSWORD, approved, registration, walk

FIVE = {k: {"result": "未见异常", "normal": True}
        for k in ("blood_pressure", "blood_routine", "ecg", "chest_xray", "abdominal_ultrasound")}


def drug_body(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"sample_kind": "urine", "collector_ids": ["cus-f", "off-3"], "method": "胶体金试剂板",
                            "results": {"methamphetamine": "negative", "ketamine": "negative",
                                        "opioids": "negative"},
                            "subject_signature": {"signed": True},
                            "step_up": {"police_no": "1003", "password": PASSWORD}}
    body.update(kw)
    return body


async def test_entry_check_sets_the_welfare_flags(api):
    stay = await walk(api, "searched")
    status, rec = await api.post(f"/api/v1/stays/{stay['id']}/health/entry-check",
                                 {"injuries": [{"region": "left_arm", "description": "前臂擦伤约3cm"}],
                                  "medications": ["降压药"], "self_harm_risk": True})
    assert status == 201, rec
    assert rec["data"]["flags"]["injured"] and rec["data"]["flags"]["self_harm_risk"]
    _, got = await api.get(f"/api/v1/stays/{stay['id']}")
    assert got["flags"]["injured"] and got["flags"]["on_medication"] and not got["flags"].get("ill")
    await refused(api, f"/api/v1/stays/{stay['id']}/health/entry-check", {"pregnant": True}, "PREGNANT_MALE",
                  status=422, stay_id=stay["id"])


async def test_injured_subject_needs_a_medical_check_before_placement(api):
    stay = await walk(api, "property_stored")
    status, _ = await api.post(f"/api/v1/stays/{stay['id']}/health/entry-check", {"illnesses": ["心脏病史"]})
    assert status == 201
    await refused(api, f"/api/v1/stays/{stay['id']}/placement", {"room_id": "wait-1"}, "MEDICAL_CHECK_REQUIRED",
                  stay_id=stay["id"])
    status, _ = await api.post(f"/api/v1/stays/{stay['id']}/health/medical-check",
                               {"doctor_name": "周医生", "findings": "心律齐，可以羁押", "fit_for_custody": True})
    assert status == 201
    status, placed = await api.post(f"/api/v1/stays/{stay['id']}/placement", {"room_id": "wait-1"})
    assert status == 200 and placed["state"] == "waiting", placed


async def test_injured_subject_placed_with_an_approval_instead(api):
    stay = await walk(api, "property_stored")
    await api.post(f"/api/v1/stays/{stay['id']}/health/entry-check",
                   {"injuries": [{"region": "head", "description": "额头淤青"}]})
    aid = await approved(api, "placement_without_medical_check", stay["id"], reason="医生在途，先行安置观察")
    status, placed = await api.post(f"/api/v1/stays/{stay['id']}/placement",
                                    {"room_id": "wait-1", "medical_approval_id": aid})
    assert status == 200 and placed["state"] == "waiting", placed
    entry = next(t for t in placed["timeline"] if t["action"] == "stay_placed")
    assert entry["after"]["medical_check_waived"]["granted_by"] == "sup-1"


async def test_exit_to_detention_centre_blocked_without_five_item_exam(api):
    # registered under criminal detention, so the measure itself sends him to the detention centre
    stay = await walk(api, "waiting", registration(basis="criminal_detention"))
    await refused(api, f"/api/v1/stays/{stay['id']}/exit", {"disposition": "to_detention_centre"},
                  "FIVE_ITEM_EXAM_REQUIRED", stay_id=stay["id"])
    partial = {k: v for k, v in FIVE.items() if k != "ecg"}
    await refused(api, f"/api/v1/stays/{stay['id']}/health/five-item-exam",
                  {"doctor_name": "周医生", "institution": "区人民医院", "items": partial, "conclusion": "可收押",
                   "fit_for_detention": True}, "FIVE_ITEMS_INCOMPLETE", status=422, stay_id=stay["id"])
    status, rec = await api.post(f"/api/v1/stays/{stay['id']}/health/five-item-exam",
                                 {"doctor_name": "周医生", "institution": "区人民医院", "items": FIVE,
                                  "conclusion": "可收押", "fit_for_detention": True})
    assert status == 201, rec
    status, got = await api.post(f"/api/v1/stays/{stay['id']}/exit", {"disposition": "to_detention_centre"})
    assert status == 200 and got["state"] == "exiting", got


async def test_release_needs_no_five_item_exam(api):
    stay = await walk(api, "waiting")
    status, got = await api.post(f"/api/v1/stays/{stay['id']}/exit", {"disposition": "released"})
    assert status == 200, got


async def test_drug_sample_needs_two_authenticated_collectors(api):
    stay = await walk(api, "waiting")
    path = f"/api/v1/stays/{stay['id']}/drug-tests"
    await refused(api, path, drug_body(collector_ids=["cus-f"], step_up=None), "TOO_FEW_SAMPLERS")
    # a second collector named but never proven does not count
    await refused(api, path, drug_body(step_up=None), "SAMPLER_NOT_AUTHENTICATED")
    status, rec = await api.post(path, drug_body())
    assert status == 201, rec
    assert rec["staff_ids"] == ["cus-f", "off-3"]
    assert rec["data"]["collector_auth"] == {"cus-f": "session", "off-3": "password"}
    assert "step_up" not in rec["data"]


async def test_female_subject_urine_taken_by_female_staff(api):
    stay = await walk(api, "waiting", body=registration(sex="female", birth="1992-05-01"), room="wait-2")
    path = f"/api/v1/stays/{stay['id']}/drug-tests"
    await refused(api, path, drug_body(collector_ids=["cus-f", "off-1"],
                                       step_up={"police_no": "1001", "password": PASSWORD}), "SAMPLER_SEX")
    status, rec = await api.post(path, drug_body())  # cus-f and off-3 are both women
    assert status == 201, rec
    # the article names urine: a hair sample with a male second collector is allowed
    status, rec = await api.post(path, drug_body(sample_kind="hair", collector_ids=["cus-f", "off-1"],
                                                 step_up={"police_no": "1001", "password": PASSWORD}))
    assert status == 201, rec


async def test_positive_needs_sealed_ab_samples_and_sets_the_retest_deadline(api):
    stay = await walk(api, "waiting")
    path = f"/api/v1/stays/{stay['id']}/drug-tests"
    positive = {"methamphetamine": "positive", "ketamine": "negative"}
    await refused(api, path, drug_body(results=positive), "AB_SAMPLES_REQUIRED", status=422)
    await refused(api, path, drug_body(subject_signature={"signed": False}), "SIGNATURE_OR_REFUSAL", status=422)
    status, rec = await api.post(path, drug_body(results=positive, sample_a_no="A-0921", sample_b_no="B-0921",
                                                 seal_nos=["S-1", "S-2"],
                                                 subject_signature={"signed": False, "refusal_note": "拒绝签名"}))
    assert status == 201, rec
    d = rec["data"]
    assert d["positive"] is True
    assert datetime.fromisoformat(d["retest_deadline"]) - datetime.fromisoformat(d["notified_at"]) == timedelta(days=3)


async def test_breath_reading_needs_the_device(api):
    stay = await walk(api, "waiting")
    await refused(api, f"/api/v1/stays/{stay['id']}/alcohol-readings", {"device_id": "breath-1"},
                  "NO_DEVICE_READING")


async def test_health_records_reach_the_outbox(api):
    stay = await walk(api, "waiting")
    await api.post(f"/api/v1/stays/{stay['id']}/drug-tests", drug_body())
    status, feed = await api.get("/api/v1/sync/changes?after=0&limit=2000", as_="9101")
    assert status == 200
    mine = [c for c in feed["changes"] if c["type"] == "health_drug_test_recorded"]
    assert len(mine) == 1 and mine[0]["payload"]["data"]["sample_kind"] == "urine"
    assert PASSWORD not in str(mine[0]["payload"])  # the step-up secret never leaves the request
