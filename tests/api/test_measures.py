"""The legal measure as part of the stay: every change the law draws (clock re-derived from the decision, exits
allowed and refused), the changes it does not draw, and site overrides that may only shorten a statutory limit."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.api.test_approvals import later
from tests.api.test_rules import refused
from tests.conftest import approved, registration, walk


def at(s: str) -> datetime:
    return datetime.fromisoformat(s)


def admin_case(**kw: Any) -> dict[str, Any]:
    body = registration(basis="admin_summons", **kw)
    body["case"]["case_kind"] = "administrative"
    return body


async def decide(api: Any, sid: str, measure: str, decided_at: str, **extra: Any) -> tuple[int, Any]:
    body: dict[str, Any] = {"measure": measure, "decided_at": decided_at, "reason": "经审查决定",
                            "decision_no": f"{measure}-2026-7", **extra}
    if measure != "released" and "approval_id" not in extra:
        body["approval_id"] = await approved(api, "measure_change", sid, as_="1001", measure=measure)
    return await api.post(f"/api/v1/stays/{sid}/measure", body, as_="1001")


# measure, case body, hours of the new clock (None: unchanged), an allowed exit, a refused exit
CHANGES = [
    ("criminal_detention", registration, 24, "to_detention_centre", "released"),
    ("arrest", registration, 24, "to_detention_centre", "to_detention_house"),
    ("admin_detention", admin_case, 24, "to_detention_house", "to_detention_centre"),
    ("compulsory_rehab", admin_case, 24, "to_rehab_centre", "released"),
    ("bail", registration, None, "bail", "to_detention_centre"),
    ("residential_surveillance", registration, None, "residential_surveillance", "released"),
    ("released", registration, None, "released", "to_detention_centre"),
]


@pytest.mark.parametrize("measure,body,hours,good_exit,bad_exit", CHANGES)
async def test_each_measure_change_rederives_the_clock_and_decides_the_exit(api, container, measure, body, hours,
                                                                           good_exit, bad_exit):
    stay = await walk(api, body=body())
    sid = stay["id"]
    await later(api, container, 120)
    decided_at = (at(stay["entered_at"]) + timedelta(hours=1, minutes=30)).isoformat()
    status, s = await decide(api, sid, measure, decided_at)
    assert status == 200, s
    assert s["legal_basis"] == measure
    assert at(s["basis_started_at"]) == at(decided_at)
    if hours is None:
        assert s["deadline_at"] == stay["deadline_at"]
    else:
        assert at(s["deadline_at"]) == at(decided_at) + timedelta(hours=hours)
    entry = s["timeline"][-1]
    assert entry["action"] == "measure_changed" and entry["after"]["decision_no"] == f"{measure}-2026-7"
    if measure != "released":
        assert entry["after"]["approval"]["granted_by"] == "sup-1"
    await refused(api, f"/api/v1/stays/{sid}/exit", {"disposition": bad_exit}, "EXIT_DISPOSITION_MISMATCH",
                  stay_id=sid)
    if good_exit == "to_detention_centre":  # a detention centre takes him only after the five-item exam
        five = {k: {"result": "未见异常", "normal": True}
                for k in ("blood_pressure", "blood_routine", "ecg", "chest_xray", "abdominal_ultrasound")}
        status, rec = await api.post(f"/api/v1/stays/{sid}/health/five-item-exam",
                                     {"doctor_name": "周医生", "institution": "区人民医院", "items": five,
                                      "conclusion": "可收押", "fit_for_detention": True})
        assert status == 201, rec
    status, s = await api.post(f"/api/v1/stays/{sid}/exit", {"disposition": good_exit})
    assert status == 200 and s["state"] == "exiting", s


async def test_a_measure_needs_its_approval_and_its_document(api):
    stay = await walk(api)
    sid = stay["id"]
    path = f"/api/v1/stays/{sid}/measure"
    body = {"measure": "criminal_detention", "decided_at": stay["entered_at"], "reason": "需要拘留",
            "decision_no": "拘字〔2026〕5号"}
    await refused(api, path, body, "APPROVAL_REQUIRED", as_="1001", stay_id=sid)
    await refused(api, path, {**body, "approver_id": "sup-1"}, "VALIDATION_ERROR", status=422, as_="1001",
                  stay_id=sid)
    aid = await approved(api, "measure_change", sid, as_="1001", measure="criminal_detention")
    await refused(api, path, {**body, "decision_no": None, "approval_id": aid}, "DOCUMENT_NO_REQUIRED", status=422,
                  as_="1001", stay_id=sid)
    wrong = await approved(api, "measure_change", sid, as_="1001", measure="arrest")
    await refused(api, path, {**body, "approval_id": wrong}, "APPROVAL_MISMATCH", as_="1001", stay_id=sid)
    future = (at(stay["entered_at"]) + timedelta(days=1)).isoformat()
    await refused(api, path, {**body, "decided_at": future, "approval_id": aid}, "INVALID_DATE", status=422,
                  as_="1001", stay_id=sid)
    await refused(api, path, {**body, "approval_id": aid}, "FORBIDDEN_ROLE", status=403, as_="2001")
    status, s = await api.post(path, {**body, "approval_id": aid}, as_="1001")
    assert status == 200, s


async def test_changes_the_law_does_not_draw_are_refused(api):
    crim = await walk(api, body=registration(case_no="M-1"))
    await refused(api, f"/api/v1/stays/{crim['id']}/measure",
                  {"measure": "admin_detention", "decided_at": crim["entered_at"], "reason": "试试",
                   "decision_no": "x", "approval_id": "apr-x"}, "MEASURE_CASE_KIND_MISMATCH", as_="1001")
    status, s = await decide(api, crim["id"], "criminal_detention", crim["entered_at"])
    assert status == 200, s
    status, s = await decide(api, crim["id"], "arrest", crim["entered_at"])
    assert status == 200, s
    await refused(api, f"/api/v1/stays/{crim['id']}/measure",
                  {"measure": "bail", "decided_at": crim["entered_at"], "reason": "试试", "decision_no": "x",
                   "approval_id": "apr-x"}, "MEASURE_CHANGE_NOT_ALLOWED", as_="1001", stay_id=crim["id"])


async def test_a_witness_is_never_held_nor_sent_to_the_detention_centre(api):
    w = await walk(api, body=registration(role="witness", basis="witness_inquiry", case_no="W-1",
                                          officers=("off-1",)), room="wait-2")
    sid = w["id"]
    await refused(api, f"/api/v1/stays/{sid}/measure",
                  {"measure": "criminal_detention", "decided_at": w["entered_at"], "reason": "试试",
                   "decision_no": "x", "approval_id": "apr-x"}, "MEASURE_NOT_FOR_ROLE", as_="1001", stay_id=sid)
    for disposition in ("to_detention_centre", "to_detention_house", "bail"):
        await refused(api, f"/api/v1/stays/{sid}/exit", {"disposition": disposition}, "EXIT_DISPOSITION_MISMATCH",
                      stay_id=sid)
    status, s = await api.post(f"/api/v1/stays/{sid}/exit", {"disposition": "released"})
    assert status == 200, s


async def test_a_summoned_person_cannot_be_sent_to_the_detention_centre_without_a_detention(api):
    stay = await walk(api)
    await refused(api, f"/api/v1/stays/{stay['id']}/exit", {"disposition": "to_detention_centre"},
                  "EXIT_DISPOSITION_MISMATCH", stay_id=stay["id"])


async def test_the_decision_ends_the_overrun(api, container):
    stay = await walk(api, body=registration(basis="admin_summons", case_no="O-1"))
    sid = stay["id"]
    await later(api, container, 8 * 60 + 1)
    status, alarms = await api.get(f"/api/v1/alarms?state=open&stay_id={sid}")
    assert any(a["kind"] == "deadline_overdue" for a in alarms)
    now = (at(stay["entered_at"]) + timedelta(hours=8, minutes=1)).isoformat()
    status, s = await decide(api, sid, "criminal_detention", now)
    assert status == 200, s
    status, alarms = await api.get(f"/api/v1/alarms?state=open&stay_id={sid}")
    assert not any(a["kind"] == "deadline_overdue" for a in alarms)
    # under the new clock the stay is within its limit again: an interview is lawful
    status, got = await api.post(f"/api/v1/stays/{sid}/activities", {"kind": "drug_test", "performed_by_id": "cus-m"})
    assert status == 201, got


def test_a_site_override_may_only_shorten_a_statutory_limit() -> None:
    import tomllib

    from controller.services.context import SiteContext
    from controller.settings import SiteConfigError, parse_site
    from tests.conftest import DEMO_SITE

    raw = tomllib.loads(DEMO_SITE.read_text())
    raw["rules"] = [{"basis": "admin_summons", "base_hours": 10}]
    with pytest.raises(SiteConfigError) as e:
        parse_site(raw)
    assert e.value.problems[0][0] == "rules.0.base_hours" and "lengthen" in e.value.problems[0][1]
    raw["rules"] = [{"basis": "continued_questioning", "max_hours": 72}]
    with pytest.raises(SiteConfigError) as e:
        parse_site(raw)
    assert e.value.problems[0][0] == "rules.0.max_hours"
    raw["rules"] = [{"basis": "no_such_basis", "base_hours": 1}]
    with pytest.raises(SiteConfigError) as e:
        parse_site(raw)
    assert e.value.problems[0][0] == "rules.0.basis"
    raw["rules"] = [{"basis": "admin_summons", "base_hours": 6, "max_hours": 20}]
    ctx = SiteContext.from_config(parse_site(raw))
    assert ctx.clocks["admin_summons"].base_hours == 6


# --- repeated summons: 不得以连续传唤变相拘禁 --------------------------------------------------------------------

async def _summon_and_release(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    stay = await walk(api, body=body)
    status, s = await api.post(f"/api/v1/stays/{stay['id']}/exit", {"disposition": "released"})
    assert status == 200, s
    items = [{"item_id": i["id"], "disposition": "returned"} for i in s["property"]["items"]]
    status, s = await api.post(f"/api/v1/stays/{stay['id']}/exit/complete",
                               {"exit_search": {"checker_id": "cus-m"}, "items": items})
    assert status == 200 and s["state"] == "exited", s
    return s


async def test_a_repeated_summons_needs_an_approval_and_is_flagged(api, container):
    body = registration(case_no="R-2026-1")
    first = await _summon_and_release(api, body)
    await later(api, container, 60)
    err = await refused(api, "/api/v1/stays", body, "REPEATED_SUMMONS")
    assert err["details"]["previous_stay_id"] == first["id"]
    # a case officer cannot grant it; a supervisor can
    status, a = await api.post("/api/v1/approvals", {"kind": "repeated_summons", "stay_id": first["id"],
                                                     "reason": "需再次讯问核实"}, as_="1001")
    assert status == 201, a
    await refused(api, f"/api/v1/approvals/{a['id']}/grant", {}, "NEEDS_SUPERVISOR", status=403, as_="1001")
    await refused(api, "/api/v1/stays", {**body, "approval_id": a["id"]}, "APPROVAL_NOT_GRANTED")
    status, _ = await api.post(f"/api/v1/approvals/{a['id']}/grant", {}, as_="3001")
    status, second = await api.post("/api/v1/stays", {**body, "approval_id": a["id"]})
    assert status == 201, second
    assert second["flags"]["repeated_summons"] is True
    reg = second["timeline"][0]
    assert reg["after"]["repeated_summons"]["previous_stay_id"] == first["id"]
    assert reg["after"]["repeated_summons"]["approval"]["granted_by"] == "sup-1"


async def test_another_case_or_a_later_summons_is_not_repeated(api, container):
    body = registration(case_no="R-2026-2")
    await _summon_and_release(api, body)
    status, other = await api.post("/api/v1/stays", {**body, "case": {**body["case"], "case_no": "R-2026-9"}})
    assert status == 201 and not other["flags"].get("repeated_summons"), other
    await _summon_and_release_existing(api, other)
    await later(api, container, 24 * 60 + 1)
    status, again = await api.post("/api/v1/stays", body)
    assert status == 201 and not again["flags"].get("repeated_summons"), again


async def _summon_and_release_existing(api: Any, stay: dict[str, Any]) -> None:
    """Ends a just-registered stay the quick way: the intake steps, then release."""
    sid = stay["id"]
    for step, data in [("search", {"checker_id": "cus-m", "witness_id": "off-1", "gate_result": "pass"}),
                       ("collection", {"fingerprints_taken": True, "dna_taken": False}),
                       ("property", {"custodian_id": "cus-f", "locker_id": "c-16", "items": []}),
                       ("placement", {"room_id": "wait-2"}), ("exit", {"disposition": "released"})]:
        status, s = await api.post(f"/api/v1/stays/{sid}/{step}", data)
        assert status == 200, (step, s)
    status, s = await api.post(f"/api/v1/stays/{sid}/exit/complete", {"exit_search": {"checker_id": "cus-m"}})
    assert status == 200, s


# --- 送押: the transfer as its own exit path ------------------------------------------------------------------

async def test_transfer_to_the_detention_centre_end_to_end(api, container):
    stay = await walk(api, body=registration(case_no="T-2026-1"), locker="b-12")
    sid = stay["id"]
    path = f"/api/v1/stays/{sid}/transfer"
    items = [{"item_id": i["id"], "disposition": "travels_with_subject"} for i in stay["property"]["items"]]
    body: dict[str, Any] = {"facility_kind": "detention_centre", "facility_name": "市第一看守所",
                            "escort_ids": ["off-1", "off-2"], "documents": ["拘留证", "体检表"],
                            "exit_search": {"checker_id": "cus-m"}, "items": items}
    # a summoned person is not sent to the detention centre
    await refused(api, path, body, "EXIT_DISPOSITION_MISMATCH", stay_id=sid)
    status, s = await decide(api, sid, "criminal_detention", stay["entered_at"])
    assert status == 200, s
    await refused(api, path, body, "MEDICAL_CHECK_REQUIRED", stay_id=sid)
    status, act = await api.post(f"/api/v1/stays/{sid}/activities", {"kind": "medical_check",
                                                                      "performed_by_id": "cus-m"})
    assert status == 201, act
    status, _ = await api.post(f"/api/v1/activities/{act['activity_id']}/end", {"result": "体检正常"})
    body["medical_check_id"] = act["activity_id"]
    await refused(api, path, {**body, "escort_ids": ["off-1"]}, "TOO_FEW_ESCORTS", status=422, stay_id=sid)
    await refused(api, path, {**body, "items": items[:1]}, "PROPERTY_UNRESOLVED", stay_id=sid)
    await refused(api, path, {**body, "facility_kind": "detention_house"}, "EXIT_DISPOSITION_MISMATCH", stay_id=sid)
    status, done = await api.post(path, body)
    assert status == 200, done
    assert done["state"] == "exited" and done["disposition"] == "to_detention_centre"
    transfer = done["exit"]["transfer"]
    assert transfer["facility_name"] == "市第一看守所" and transfer["escort_ids"] == ["off-1", "off-2"]
    assert transfer["medical_check_id"] == act["activity_id"] and transfer["documents"] == ["拘留证", "体检表"]
    actions = [e["action"] for e in done["timeline"]]
    assert actions[-2:] == ["transfer_started", "stay_exited"]
    assert all(i["disposition"] == "travels_with_subject" for i in done["property"]["items"])
    _, lockers = await api.get("/api/v1/lockers")
    assert next(lk for lk in lockers if lk["id"] == "b-12")["state"] == "free"
    # the platform feed carries the transfer
    from sqlmodel import select

    from controller.store.tables import OutboxEntry

    rows = container.db.read_sync(lambda s: s.exec(select(OutboxEntry).where(OutboxEntry.stay_id == sid)).all())
    sent = [r for r in rows if r.type == "transfer_started"]
    assert sent and sent[0].payload["transfer"]["facility_name"] == "市第一看守所"


async def test_the_deadline_preview_matches_what_registration_gives(api):
    started = "2026-11-22T00:00:00+00:00"  # an hour before the test clock's now: the summons began outside
    status, p = await api.get("/api/v1/deadline-preview", params={"legal_basis": "criminal_summons",
                                                                  "basis_started_at": started})
    assert status == 200, p
    assert at(p["deadline_at"]) == at(started) + timedelta(hours=12) and p["already_passed"] is False
    status, stay = await api.post("/api/v1/stays", registration(basis_started_at=started))
    assert status == 201, stay
    assert stay["deadline_at"] == p["deadline_at"] and at(stay["basis_started_at"]) == at(started)
    status, err = await api.get("/api/v1/deadline-preview", params={"legal_basis": "nope"})
    assert status == 422 and err["code"] == "UNKNOWN_LEGAL_BASIS"
    status, err = await api.get("/api/v1/deadline-preview", params={"legal_basis": "criminal_summons",
                                                                    "basis_started_at": "2026-11-23T00:00:00+00:00"})
    assert status == 422 and err["code"] == "INVALID_DATE"
