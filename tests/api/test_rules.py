"""Every legal rule of DESIGN.md: the refusal (status, stable code, nothing written) and the allowed case."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.api.readers import without_readers
from tests.conftest import approved, audit_count, registration, walk


async def refused(api, method_path: str, body: dict, code: str, status: int = 409, as_: str = "2001",
                  stay_id: str | None = None):
    """Asserts a refusal in the one error shape and that nothing at all was written."""
    await api.login(as_)
    before = await audit_count(api)
    stay_before = (await api.get(f"/api/v1/stays/{stay_id}"))[1] if stay_id else None
    got_status, err = await api.post(method_path, body, as_=as_)
    assert got_status == status, err
    assert err["code"] == code, err
    assert err["message"] and err["message_en"], err
    assert await audit_count(api) == before
    if stay_id:
        after = (await api.get(f"/api/v1/stays/{stay_id}"))[1]
        assert after["state"] == stay_before["state"] and after["version"] == stay_before["version"]
    return err


WELFARE_ALARMS = ("meal_due", "rest_due")  # raised with time too; tests/api/test_welfare.py tests them


def at(s: str) -> datetime:
    return datetime.fromisoformat(s)


# --- Rule 1: legal clocks -----------------------------------------------------------------------------------

@pytest.mark.parametrize("basis,role,hours", [
    ("criminal_summons", "suspect", 12), ("compelled_appearance", "suspect", 12), ("admin_summons", "suspect", 8),
    ("verbal_summons", "suspect", 8), ("continued_questioning", "suspect", 24), ("criminal_detention", "suspect", 24),
    ("witness_inquiry", "witness", 8),
])
async def test_deadline_follows_the_legal_basis(api, basis, role, hours):
    status, stay = await api.post("/api/v1/stays", registration(basis=basis, role=role))
    assert status == 201, stay
    assert at(stay["deadline_at"]) - at(stay["entered_at"]) == timedelta(hours=hours)


async def test_clock_starts_when_the_basis_started(api):
    body = registration(basis="criminal_detention", basis_started_at="2026-11-21T20:00:00+00:00")
    status, stay = await api.post("/api/v1/stays", body)
    assert status == 201
    assert at(stay["deadline_at"]) == at("2026-11-22T20:00:00+00:00")


async def test_extension_within_the_maximum_with_supervisor(api):
    stay = await walk(api, "registered")
    until = (at(stay["entered_at"]) + timedelta(hours=24)).isoformat()
    aid = await approved(api, "extension", stay["id"], as_="1001", until=until)
    status, got = await api.post(f"/api/v1/stays/{stay['id']}/extension",
                                 {"approval_id": aid, "until": until, "reason": "案情重大复杂"}, as_="1001")
    assert status == 200, got
    assert at(got["deadline_at"]) == at(until)
    assert got["timeline"][-1]["action"] == "deadline_extended"
    assert got["timeline"][-1]["after"]["approval"]["granted_by"] == "sup-1"


async def test_extension_beyond_the_limit_is_refused(api):
    stay = await walk(api, "registered")
    until = (at(stay["entered_at"]) + timedelta(hours=25)).isoformat()
    aid = await approved(api, "extension", stay["id"], as_="1001", until=until)
    await refused(api, f"/api/v1/stays/{stay['id']}/extension",
                  {"approval_id": aid, "until": until, "reason": "x" * 3}, "EXTENSION_BEYOND_LIMIT",
                  as_="1001", stay_id=stay["id"])


async def test_extension_needs_a_granted_approval(api):
    stay = await walk(api, "registered")
    until = (at(stay["entered_at"]) + timedelta(hours=20)).isoformat()
    path = f"/api/v1/stays/{stay['id']}/extension"
    # naming a supervisor (the old way) is not an approval: refused, nothing written
    await refused(api, path, {"approver_id": "sup-1", "until": until, "reason": "需要"}, "APPROVAL_REQUIRED",
                  as_="1001", stay_id=stay["id"])
    await refused(api, path, {"until": until, "reason": "需要"}, "APPROVAL_REQUIRED", as_="1001", stay_id=stay["id"])


async def test_admin_summons_tiers_are_separate_rows(api):
    status, stay = await api.post("/api/v1/stays", registration(basis="admin_summons"))
    entered = at(stay["entered_at"])
    path = f"/api/v1/stays/{stay['id']}/extension"
    until = (entered + timedelta(hours=12)).isoformat()
    aid = await approved(api, "extension", stay["id"], as_="1001", until=until)
    body = {"approval_id": aid, "until": until, "reason": "身份不明"}
    await refused(api, path, body, "EXTENSION_GROUND_REQUIRED", status=422, as_="1001")
    body["until"] = (entered + timedelta(hours=13)).isoformat()
    await refused(api, path, {**body, "ground": "many_people_or_identity_unknown"}, "EXTENSION_BEYOND_LIMIT",
                  as_="1001")
    aid = await approved(api, "extension", stay["id"], as_="1001", until=body["until"],
                         ground="admin_detention_possible")
    status, got = await api.post(path, {**body, "approval_id": aid, "ground": "admin_detention_possible"},
                                 as_="1001")
    assert status == 200, got


async def test_criminal_detention_cannot_be_extended(api):
    status, stay = await api.post("/api/v1/stays", registration(basis="criminal_detention"))
    until = (at(stay["deadline_at"]) + timedelta(hours=1)).isoformat()
    aid = await approved(api, "extension", stay["id"], as_="1001", until=until)
    await refused(api, f"/api/v1/stays/{stay['id']}/extension",
                  {"approval_id": aid, "until": until, "reason": "需要"}, "EXTENSION_NOT_ALLOWED", as_="1001")


async def test_site_override_of_a_clock_row(settings, tmp_path):
    import tomllib

    from controller.services.context import SiteContext
    from controller.settings import parse_site
    from tests.conftest import DEMO_SITE

    raw = tomllib.loads(DEMO_SITE.read_text())
    raw["rules"] = [{"basis": "admin_summons", "base_hours": 6}]
    ctx = SiteContext.from_config(parse_site(raw))
    assert ctx.clocks["admin_summons"].base_hours == 6
    assert ctx.clocks["criminal_summons"].base_hours == 12


async def test_warnings_overdue_repeat_and_escalation(api, container):
    stay = await walk(api, "registered", registration(basis="admin_summons"))
    clock = container.clock

    async def open_kinds():
        status, alarms = await api.get("/api/v1/alarms?state=open")
        # (the family-notification alarm of the same stay is tests/api/test_rights.py's business, the meal and
        # rest alarms tests/api/test_welfare.py's)
        return sorted((a["kind"], a["details"].get("minutes_before")) for a in alarms if a["stay_id"] == stay["id"]
                      and a["kind"] not in ("notification_due", *WELFARE_ALARMS))

    await clock.advance_async(6 * 3600 + 60)  # 6h01m of 8h: the 2 h mark passed
    assert await open_kinds() == [("deadline_warning", 120)]
    await clock.advance_async(90 * 60)  # 7h31m: the 1 h and 30 min marks passed in one step
    kinds = await open_kinds()
    assert ("deadline_warning", 30) in kinds and len([k for k in kinds if k[0] == "deadline_warning"]) == 2
    await clock.advance_async(31 * 60)  # past the deadline
    status, alarms = await api.get("/api/v1/alarms?state=open")
    overdue = [a for a in alarms if a["kind"] == "deadline_overdue"]
    assert len(overdue) == 1 and overdue[0]["severity"] == "critical"
    await clock.advance_async(16 * 60)  # unacknowledged: escalated to the supervisor, and repeats
    status, alarms = await api.get("/api/v1/alarms?state=open")
    overdue = next(a for a in alarms if a["kind"] == "deadline_overdue")
    assert overdue["escalated"] is True
    await clock.advance_async(16 * 60)
    status, alarms = await api.get("/api/v1/alarms?state=open")
    assert next(a for a in alarms if a["kind"] == "deadline_overdue")["repeat_count"] >= 1
    # acting on it stops the repeats
    status, _ = await api.post(f"/api/v1/alarms/{overdue['id']}/ack", {})
    assert status == 200
    before = next(a for a in (await api.get("/api/v1/alarms?state=open"))[1] if a["id"] == overdue["id"])
    await clock.advance_async(60 * 60)
    after = next(a for a in (await api.get("/api/v1/alarms?state=open"))[1] if a["id"] == overdue["id"])
    assert after["repeat_count"] == before["repeat_count"] and after["state"] == "acknowledged"


async def test_extension_resolves_deadline_alarms(api, container):
    stay = await walk(api, "registered")
    await container.clock.advance_async(11 * 3600)
    status, alarms = await api.get(f"/api/v1/alarms?state=open&stay_id={stay['id']}")
    alarms = [a for a in alarms if a["kind"] not in WELFARE_ALARMS]
    assert alarms and all(a["kind"] == "deadline_warning" for a in alarms)
    until = (at(stay["entered_at"]) + timedelta(hours=24)).isoformat()
    aid = await approved(api, "extension", stay["id"], as_="1001", until=until)
    status, _ = await api.post(f"/api/v1/stays/{stay['id']}/extension",
                               {"approval_id": aid, "until": until, "reason": "重大"}, as_="1001")
    assert status == 200
    status, alarms = await api.get(f"/api/v1/alarms?state=open&stay_id={stay['id']}")
    assert [a for a in alarms if a["kind"] not in WELFARE_ALARMS] == []


async def test_timers_survive_a_restart(api, container, settings):
    """Timers are derived from the database: a new process raises what came due while it was down."""
    from controller.container import build
    from controller.settings import load_site
    from tests.conftest import DEMO_SITE

    stay = await walk(api, "registered")
    container.clock._now += timedelta(hours=13)  # time passes while nothing runs
    fresh = build(settings, load_site(DEMO_SITE), container.clock)
    try:
        await fresh.scheduler.sweep()
    finally:
        fresh.db.close()
    status, alarms = await api.get(f"/api/v1/alarms?state=open&stay_id={stay['id']}")
    assert [a["kind"] for a in alarms if a["kind"] not in WELFARE_ALARMS] == ["deadline_overdue"]
    assert "meal_due" in [a["kind"] for a in alarms]  # the meal due 6 h after arrival, raised after the restart


# --- Rule 2 and 3: search and collection first; interviews need two officers and a confirmed recording -------

async def test_no_interview_before_search_and_collection(api, recorder):
    stay = await walk(api, "searched")
    await refused(api, f"/api/v1/stays/{stay['id']}/interviews",
                  {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}, "STEP_OUT_OF_ORDER", as_="1001",
                  stay_id=stay["id"])
    assert recorder.started == 0


async def test_interview_refused_without_recording(api, recorder):
    stay = await walk(api)
    recorder.confirm = False
    await refused(api, f"/api/v1/stays/{stay['id']}/interviews",
                  {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}, "RECORDING_NOT_CONFIRMED", as_="1001",
                  stay_id=stay["id"])


async def test_interview_needs_two_officers(api, recorder):
    stay = await walk(api)
    await refused(api, f"/api/v1/stays/{stay['id']}/interviews", {"room_id": "int-1", "officer_ids": ["off-1"]},
                  "TOO_FEW_OFFICERS", as_="1001", stay_id=stay["id"])
    await refused(api, f"/api/v1/stays/{stay['id']}/interviews",
                  {"room_id": "int-1", "officer_ids": ["off-1", "off-1"]}, "TOO_FEW_OFFICERS", as_="1001")
    assert recorder.started == 0


async def test_minor_interview_needs_appropriate_adult(api, recorder, container):
    without_readers(container, "int-2", "int-3")
    stay = await walk(api, body=registration(birth="2010-05-01"), room="wait-6")
    assert stay["subject"]["is_minor"] is True
    path = f"/api/v1/stays/{stay['id']}/interviews"
    await refused(api, path, {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]},
                  "MINOR_NEEDS_APPROPRIATE_ADULT", as_="1001", stay_id=stay["id"])
    # int-2 has no wristband reader: the signed-in officer confirms the adult is there (tests/api/
    # test_interview_safeguards.py proves presence by the visitor tag where the room has a reader)
    status, got = await api.post(path, {"room_id": "int-2", "officer_ids": ["off-1", "off-2"],
                                        "adult_present_confirmed": True,
                                        "appropriate_adult": {"name": "张母", "relation": "parent", "id_number": "110101197501011234", "contact": "13800000000"}}, as_="1001")
    assert status == 201, got
    assert got["recording_id"]


async def test_interview_room_in_use_is_refused(api, recorder):
    a = await walk(api, room="wait-1", body=registration(case_no="C-1"))
    b = await walk(api, room="wait-2", body=registration(case_no="C-2"))
    ok, _ = await api.post(f"/api/v1/stays/{a['id']}/interviews", {"room_id": "int-1",
                                                                  "officer_ids": ["off-1", "off-2"]}, as_="1001")
    assert ok == 201
    await refused(api, f"/api/v1/stays/{b['id']}/interviews", {"room_id": "int-1", "officer_ids": ["off-1", "off-3"]},
                  "ROOM_OCCUPIED", as_="1001", stay_id=b["id"])


async def test_interview_lifecycle_with_recording_gap(api, recorder, container):
    from controller.domain.actor import Actor
    from controller.services import interviews

    stay = await walk(api)
    status, iv = await api.post(f"/api/v1/stays/{stay['id']}/interviews",
                                {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}, as_="1001")
    assert status == 201
    _, s = await api.get(f"/api/v1/stays/{stay['id']}")
    assert s["state"] == "in_interview" and s["room_id"] == "int-1"
    # the recorder fails (its recording is gone): the interview pauses, the gap is logged, an alarm is raised
    recorder.recording.pop(iv["recording_id"])
    await container.db.write(Actor.system("devicebus"),
                             lambda uow: interviews.recording_failed(uow, iv["recording_id"], "disk full"))
    _, s = await api.get(f"/api/v1/stays/{stay['id']}")
    assert s["interviews"][0]["state"] == "paused"
    assert s["interviews"][0]["gaps"][0]["reason"].startswith("recording_failed")
    _, alarms = await api.get("/api/v1/alarms?state=open")
    assert any(a["kind"] == "recording_failed" and a["stay_id"] == stay["id"] for a in alarms)
    # resuming needs a new confirmation from the recorder
    recorder.confirm = False
    status, err = await api.post(f"/api/v1/interviews/{iv['interview_id']}/resume", {}, as_="1001")
    assert status == 409 and err["code"] == "RECORDING_NOT_CONFIRMED"
    recorder.confirm = True
    status, got = await api.post(f"/api/v1/interviews/{iv['interview_id']}/resume", {}, as_="1001")
    assert status == 200 and got["state"] == "active" and got["recording_id"] != iv["recording_id"]
    assert got["gaps"][0]["to"] is not None
    status, got = await api.post(f"/api/v1/interviews/{iv['interview_id']}/end", {}, as_="1001")
    assert status == 200 and got["state"] == "ended"
    _, s = await api.get(f"/api/v1/stays/{stay['id']}")
    assert s["state"] == "waiting" and s["room_id"] == "wait-1"
    assert recorder.recording == {}


async def test_case_officer_role_required_for_interviews(api, recorder):
    stay = await walk(api)
    status, err = await api.post(f"/api/v1/stays/{stay['id']}/interviews",
                                 {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}, as_="2001")
    assert status == 403 and err["code"] == "FORBIDDEN_ROLE"


# --- Rule 4: same-sex search and sampling -------------------------------------------------------------------

async def test_female_subject_searched_by_female_staff(api):
    status, stay = await api.post("/api/v1/stays", registration(sex="female"))
    path = f"/api/v1/stays/{stay['id']}/search"
    await refused(api, path, {"checker_id": "cus-m", "witness_id": "off-1", "gate_result": "pass"},
                  "SEARCH_CHECKER_SEX", stay_id=stay["id"])
    status, got = await api.post(path, {"checker_id": "cus-f", "witness_id": "off-1", "gate_result": "pass"})
    assert status == 200 and got["state"] == "searched"


async def test_gate_alarm_needs_a_handheld_result(api):
    stay = await walk(api, "registered")
    path = f"/api/v1/stays/{stay['id']}/search"
    await refused(api, path, {"checker_id": "cus-m", "witness_id": "off-1", "gate_result": "alarm",
                              "gate_zones": [3]}, "HANDHELD_REQUIRED", status=422)
    status, got = await api.post(path, {"checker_id": "cus-m", "witness_id": "off-1", "gate_result": "alarm",
                                        "gate_zones": [3], "handheld_result": "found",
                                        "findings": {"contraband": "打火机"}})
    assert status == 200 and got["search"]["gate_zones"] == [3]


async def test_female_drug_test_sample_by_female_staff(api):
    stay = await walk(api, body=registration(sex="female"), room="wait-3")
    path = f"/api/v1/stays/{stay['id']}/activities"
    await refused(api, path, {"kind": "drug_test", "performed_by_id": "cus-m"}, "SAMPLER_SEX", stay_id=stay["id"])
    status, got = await api.post(path, {"kind": "drug_test", "performed_by_id": "cus-f", "room_id": "activity"})
    assert status == 201
    status, ended = await api.post(f"/api/v1/activities/{got['activity_id']}/end", {"result": "阴性"})
    assert status == 200
    _, s = await api.get(f"/api/v1/stays/{stay['id']}")
    assert s["state"] == "waiting" and s["activities"][0]["result"] == "阴性"


# --- Rule 5: waiting-room placement -------------------------------------------------------------------------

@pytest.mark.parametrize("first,second,code", [
    (dict(sex="male"), dict(sex="female", case_no="B-1"), "ROOM_MIXED_SEX"),
    (dict(case_no="A-1"), dict(birth="2010-01-01", case_no="B-1"), "ROOM_MINOR_WITH_ADULT"),
    (dict(case_no="SAME"), dict(case_no="SAME"), "ROOM_SAME_CASE"),
    (dict(case_no="A-1"), dict(role="witness", basis="witness_inquiry", case_no="B-1", officers=("off-1",)),
     "ROOM_HOLDING_FOR_WITNESS"),
])
async def test_placement_separation(api, first, second, code):
    a = await walk(api, body=registration(**first), room="wait-5")
    b = await walk(api, "property_stored", body=registration(**second))
    err = await refused(api, f"/api/v1/stays/{b['id']}/placement", {"room_id": "wait-5"}, code, stay_id=b["id"])
    assert code in err["details"]["violations"]
    assert a["room_id"] == "wait-5"


async def test_room_full(api):
    await walk(api, body=registration(case_no="A-1"), room="wait-1")
    b = await walk(api, "property_stored", body=registration(case_no="A-2"))
    await refused(api, f"/api/v1/stays/{b['id']}/placement", {"room_id": "wait-1"}, "ROOM_FULL")


async def test_supervisor_override_is_audited_and_flagged(api):
    await walk(api, body=registration(case_no="SAME"), room="wait-5")
    b = await walk(api, "property_stored", body=registration(case_no="SAME"))
    path = f"/api/v1/stays/{b['id']}/placement"
    named = {"supervisor_id": "sup-1", "reason": "无空房"}  # the old body: naming a supervisor
    await refused(api, path, {"room_id": "wait-5", "override": named}, "APPROVAL_REQUIRED", stay_id=b["id"])
    await refused(api, path, {"room_id": "wait-5"}, "ROOM_SAME_CASE", stay_id=b["id"])
    aid = await approved(api, "placement_override", b["id"], room_id="wait-5", reason="其余候问室已满")
    status, got = await api.post(path, {"room_id": "wait-5", "approval_id": aid})
    assert status == 200 and got["state"] == "waiting"
    placed = next(e for e in got["timeline"] if e["action"] == "stay_placed")
    assert placed["after"]["override"]["violations"] == ["ROOM_SAME_CASE"]
    assert placed["after"]["approval"]["granted_by"] == "sup-1"
    _, alarms = await api.get("/api/v1/alarms?state=open")
    assert any(a["kind"] == "placement_override" and a["stay_id"] == b["id"] for a in alarms)


async def test_placement_into_a_non_holding_room_is_refused_even_with_override(api):
    b = await walk(api, "property_stored")
    await refused(api, f"/api/v1/stays/{b['id']}/placement", {"room_id": "int-1"}, "ROOM_NOT_HOLDING")
    # no exception exists, so none can be asked for
    err = await refused(api, "/api/v1/approvals", {"kind": "placement_override", "stay_id": b["id"],
                                                   "room_id": "int-1", "reason": "试试"},
                        "APPROVAL_NOT_APPLICABLE", stay_id=b["id"])
    assert err["details"]["absolute"] == ["ROOM_NOT_HOLDING"]


# --- Rule 6: property ---------------------------------------------------------------------------------------

async def test_custodian_is_not_a_case_officer(api, container):
    from controller.auth import create_staff
    from controller.domain.actor import Actor

    # a person who is both custody staff and this stay's officer
    container.db.write_sync(Actor.system("t"), lambda uow: create_staff(
        uow, police_no="4001", name="双职", sex="male", roles=["custody_staff", "case_officer"],
        password="correct-horse-9", staff_id="dual-1"))
    stay = await walk(api, "collected", body=registration(officers=("dual-1", "off-2")))
    await refused(api, f"/api/v1/stays/{stay['id']}/property",
                  {"custodian_id": "dual-1", "locker_id": "b-01", "items": []}, "CUSTODIAN_IS_CASE_OFFICER",
                  stay_id=stay["id"])


async def test_one_stay_per_locker(api):
    await walk(api, "property_stored", locker="c-05")
    b = await walk(api, "collected", body=registration(case_no="X-2"))
    await refused(api, f"/api/v1/stays/{b['id']}/property",
                  {"custodian_id": "cus-f", "locker_id": "c-05", "items": []}, "LOCKER_OCCUPIED", stay_id=b["id"])


async def test_exit_needs_every_item_resolved(api):
    stay = await walk(api, locker="b-09")
    sid = stay["id"]
    status, s = await api.post(f"/api/v1/stays/{sid}/exit", {"disposition": "released"})
    assert status == 200 and s["state"] == "exiting"
    phone, cash = s["property"]["items"]
    path = f"/api/v1/stays/{sid}/exit/complete"
    search = {"checker_id": "cus-m", "findings": {}}
    await refused(api, path, {"exit_search": search, "items": [{"item_id": phone["id"], "disposition": "returned"}]},
                  "PROPERTY_UNRESOLVED", stay_id=sid)
    await refused(api, path, {"exit_search": search, "items": [
        {"item_id": phone["id"], "disposition": "seized"}, {"item_id": cash["id"], "disposition": "returned"}]},
        "DOCUMENT_NO_REQUIRED", status=422)
    await refused(api, path, {"exit_search": search, "items": [
        {"item_id": phone["id"], "disposition": "handed_to_family"},
        {"item_id": cash["id"], "disposition": "returned"}]}, "RECEIVER_REQUIRED", status=422)
    status, done = await api.post(path, {"exit_search": search, "items": [
        {"item_id": phone["id"], "disposition": "seized", "document_no": "扣押-2026-17"},
        {"item_id": cash["id"], "disposition": "returned"}], "signature_id": "sig-1"})
    assert status == 200, done
    assert done["state"] == "exited" and done["wristband_id"] is None
    _, lockers = await api.get("/api/v1/lockers")
    assert next(lk for lk in lockers if lk["id"] == "b-09")["state"] == "free"


async def test_locker_open_names_operator_and_reason(api, container):
    class Board:  # a board that opens what it is told (the hardware edge)
        async def open(self, locker_id: str) -> None:
            return None

    container.lockers = Board()
    stay = await walk(api, "property_stored", locker="a-07")
    await refused(api, "/api/v1/lockers/a-07/open", {}, "VALIDATION_ERROR", status=422)
    status, _ = await api.post("/api/v1/lockers/a-07/open", {"reason": "补充存放眼镜"})
    assert status == 200
    _, s = await api.get(f"/api/v1/stays/{stay['id']}")
    opened = [e for e in s["timeline"] if e["action"] == "locker_opened"]
    assert opened and opened[0]["actor_id"] == "cus-f" and opened[0]["after"]["reason"] == "补充存放眼镜"


# --- Rule 7: temporary leave --------------------------------------------------------------------------------

async def test_temporary_leave_and_return_with_new_search(api):
    stay = await walk(api)
    sid = stay["id"]
    body = {"reason": "scene_identification", "escort_ids": ["off-1", "off-2"]}
    await refused(api, f"/api/v1/stays/{sid}/leave", {**body, "approver_id": "sup-1"}, "APPROVAL_REQUIRED",
                  stay_id=sid)
    await refused(api, f"/api/v1/stays/{sid}/leave", body, "APPROVAL_REQUIRED", stay_id=sid)
    aid = await approved(api, "temporary_leave", sid, leave_reason="scene_identification")
    status, s = await api.post(f"/api/v1/stays/{sid}/leave", {**body, "approval_id": aid})
    assert status == 200 and s["state"] == "on_temporary_leave"
    assert s["deadline_at"] == stay["deadline_at"]  # the clock keeps running
    status, s = await api.post(f"/api/v1/stays/{sid}/return", {})
    assert status == 200 and s["state"] == "returned"
    await refused(api, f"/api/v1/stays/{sid}/placement", {"room_id": "wait-1"}, "STEP_OUT_OF_ORDER", stay_id=sid)
    search = {"checker_id": "cus-m", "witness_id": "off-1", "gate_result": "pass"}
    await refused(api, f"/api/v1/stays/{sid}/search", search, "ROOM_REQUIRED", status=422)
    status, s = await api.post(f"/api/v1/stays/{sid}/search", {**search, "room_id": "wait-2"})
    assert status == 200 and s["state"] == "waiting" and s["room_id"] == "wait-2"
    assert len(s["searches"]) == 2


# --- Rule 9: welfare checks ---------------------------------------------------------------------------------

async def test_late_welfare_check_raises_and_check_resolves(api, container):
    await walk(api, room="wait-2")
    await container.clock.advance_async(29 * 60)
    _, alarms = await api.get("/api/v1/alarms?state=open")
    assert not [a for a in alarms if a["kind"] == "welfare_check_late"]
    await container.clock.advance_async(2 * 60)
    _, alarms = await api.get("/api/v1/alarms?state=open")
    assert [a["room_id"] for a in alarms if a["kind"] == "welfare_check_late"] == ["wait-2"]
    from tests.api.test_welfare import staff_in_room

    await staff_in_room(api, container, "cus-f", "wait-2")  # a check counts only with the guard in the room
    status, wc = await api.post("/api/v1/rooms/wait-2/welfare-checks", {"observation": "ok"})
    assert status == 201 and len(wc["occupant_stay_ids"]) == 1
    _, alarms = await api.get("/api/v1/alarms?state=open")
    assert not [a for a in alarms if a["kind"] == "welfare_check_late"]
    _, rooms = await api.get("/api/v1/rooms")
    due = next(r for r in rooms if r["id"] == "wait-2")["next_welfare_check_due"]
    assert at(due) == at(wc["at"]) + timedelta(minutes=30)


async def test_intoxicated_subject_checked_every_15_minutes(api, container):
    await walk(api, body=registration(flags={"intoxicated": True}), room="sober-1")
    await container.clock.advance_async(16 * 60)
    _, alarms = await api.get("/api/v1/alarms?state=open")
    assert [a["room_id"] for a in alarms if a["kind"] == "welfare_check_late"] == ["sober-1"]


async def test_sobering_room_only_for_intoxicated(api):
    b = await walk(api, "property_stored")
    await refused(api, f"/api/v1/stays/{b['id']}/placement", {"room_id": "sober-1"}, "ROOM_RESTRICTED")


async def test_meals_and_rest_are_recorded(api):
    stay = await walk(api)
    status, rec = await api.post(f"/api/v1/stays/{stay['id']}/care", {"kind": "meal", "note": "午餐"})
    assert status == 201
    _, s = await api.get(f"/api/v1/stays/{stay['id']}")
    assert s["care"][0]["kind"] == "meal"


# --- Rule 10: corrections, and a closed stay never changes --------------------------------------------------

async def test_correction_is_a_new_entry_pointing_back(api):
    stay = await walk(api, "registered")
    first = stay["timeline"][0]
    status, got = await api.post(f"/api/v1/stays/{stay['id']}/corrections",
                                 {"corrects_seq": first["seq"], "field": "subject.name", "value": "张三",
                                  "reason": "登记时笔误"}, as_="1001")
    assert status == 201
    _, s = await api.get(f"/api/v1/stays/{stay['id']}")
    assert s["subject"]["name"] == "张三"
    assert s["timeline"][0] == first  # the original entry is untouched
    corr = s["timeline"][-1]
    assert corr["action"] == "correction" and corr["corrects_seq"] == first["seq"]
    assert corr["before"] == {"subject.name": "测试人员"}
    assert (await api.get("/api/v1/audit/verify", as_="9001"))[1]["ok"] is True


async def test_exited_stay_never_changes(api):
    stay = await walk(api)
    sid = stay["id"]
    await api.post(f"/api/v1/stays/{sid}/exit", {"disposition": "released"})
    _, s = await api.get(f"/api/v1/stays/{sid}")
    items = [{"item_id": i["id"], "disposition": "returned"} for i in s["property"]["items"]]
    status, _ = await api.post(f"/api/v1/stays/{sid}/exit/complete",
                               {"exit_search": {"checker_id": "cus-m"}, "items": items})
    assert status == 200
    for step, body in [("search", {"checker_id": "cus-m", "witness_id": "off-1", "gate_result": "pass"}),
                       ("placement", {"room_id": "wait-1"}), ("exit", {"disposition": "released"})]:
        await refused(api, f"/api/v1/stays/{sid}/{step}", body, "STAY_CLOSED", stay_id=sid)
    until = (at(s["entered_at"]) + timedelta(hours=20)).isoformat()
    await refused(api, f"/api/v1/stays/{sid}/extension", {"approval_id": "apr-x", "until": until, "reason": "晚了"},
                  "STAY_CLOSED", as_="1001")


async def test_locker_board_failure_keeps_the_step_and_says_so(api, container):
    from devices.base import DeviceUnavailable

    class DeadBoard:  # the lock board's bus is unplugged (hardware edge)
        async def open(self, locker_id: str) -> None:
            raise DeviceUnavailable("port not open", device_id="lock-bus-1")

    container.lockers = DeadBoard()
    stay = await walk(api, "collected")
    status, got = await api.post(f"/api/v1/stays/{stay['id']}/property",
                                 {"custodian_id": "cus-f", "locker_id": "a-11", "items": []})
    assert status == 200 and got["state"] == "property_stored"
    assert got["locker_open"]["ok"] is False and got["locker_open"]["code"] == "DEVICE_UNAVAILABLE"
    _, s = await api.get(f"/api/v1/stays/{stay['id']}")
    assert "locker_open_failed" in [e["action"] for e in s["timeline"]]
    status, err = await api.post("/api/v1/lockers/a-11/open", {"reason": "重试开柜"})
    assert status == 503 and err["code"] == "DEVICE_UNAVAILABLE"
