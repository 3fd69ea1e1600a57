"""零滞留 enforced, not only alarmed: past the legal deadline interviews, activities, leave and placement moves are
refused (DEADLINE_PASSED, nothing written); the steps that end the overrun (the exit, and what it needs) stay
allowed, and the overdue alarm stays open until then."""

from __future__ import annotations

from typing import Any

from tests.api.test_approvals import later
from tests.api.test_rules import refused
from tests.conftest import approved, registration, walk

ADMIN = registration(basis="admin_summons")  # 8 hours


async def overdue(api: Any, container: Any, **kw: Any) -> dict[str, Any]:
    stay = await walk(api, body=registration(basis="admin_summons", **kw))
    await later(api, container, 8 * 60 + 1)
    status, alarms = await api.get(f"/api/v1/alarms?state=open&stay_id={stay['id']}")
    assert any(a["kind"] == "deadline_overdue" for a in alarms)
    return stay


async def test_no_interview_past_the_deadline(api, container, recorder):
    stay = await overdue(api, container)
    await refused(api, f"/api/v1/stays/{stay['id']}/interviews", {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]},
                  "DEADLINE_PASSED", as_="1001", stay_id=stay["id"])
    assert recorder.started == 0  # refused before the recorder was asked


async def test_a_paused_interview_does_not_resume_past_the_deadline(api, container, recorder):
    stay = await walk(api, body=registration(basis="admin_summons"))
    status, iv = await api.post(f"/api/v1/stays/{stay['id']}/interviews",
                                {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}, as_="1001")
    assert status == 201, iv
    status, _ = await api.post(f"/api/v1/interviews/{iv['interview_id']}/pause", {"reason": "休息"}, as_="1001")
    assert status == 200
    await later(api, container, 8 * 60 + 1)
    await refused(api, f"/api/v1/interviews/{iv['interview_id']}/resume", {}, "DEADLINE_PASSED", as_="1001",
                  stay_id=stay["id"])
    status, ended = await api.post(f"/api/v1/interviews/{iv['interview_id']}/end", {}, as_="1001")
    assert status == 200 and ended["state"] == "ended"  # ending it is allowed: it ends the questioning


async def test_no_activity_past_the_deadline_but_the_medical_check(api, container):
    stay = await overdue(api, container)
    await refused(api, f"/api/v1/stays/{stay['id']}/activities", {"kind": "drug_test", "performed_by_id": "cus-m"},
                  "DEADLINE_PASSED", stay_id=stay["id"])
    status, got = await api.post(f"/api/v1/stays/{stay['id']}/activities",
                                 {"kind": "medical_check", "performed_by_id": "cus-m"})
    assert status == 201, got


async def test_no_leave_past_the_deadline_even_with_an_approval(api, container):
    stay = await walk(api, body=registration(basis="admin_summons"))
    await later(api, container, 7 * 60 + 50)
    aid = await approved(api, "temporary_leave", stay["id"], leave_reason="hospital")
    await later(api, container, 11)  # the approval is still valid; the deadline is not
    await refused(api, f"/api/v1/stays/{stay['id']}/leave",
                  {"reason": "hospital", "escort_ids": ["off-1"], "approval_id": aid}, "DEADLINE_PASSED",
                  stay_id=stay["id"])


async def test_no_placement_move_past_the_deadline(api, container):
    stay = await overdue(api, container)
    await refused(api, f"/api/v1/stays/{stay['id']}/placement", {"room_id": "wait-2"}, "DEADLINE_PASSED",
                  stay_id=stay["id"])


async def test_the_exit_ends_the_overrun_and_only_then_the_alarm(api, container):
    stay = await overdue(api, container)
    sid = stay["id"]
    status, s = await api.post(f"/api/v1/stays/{sid}/exit", {"disposition": "released"})
    assert status == 200 and s["state"] == "exiting", s
    items = [{"item_id": i["id"], "disposition": "returned"} for i in s["property"]["items"]]
    status, s = await api.post(f"/api/v1/stays/{sid}/exit/complete",
                               {"exit_search": {"checker_id": "cus-m"}, "items": items})
    assert status == 200 and s["state"] == "exited", s
    status, alarms = await api.get(f"/api/v1/alarms?state=open&stay_id={sid}")
    assert not any(a["kind"] == "deadline_overdue" for a in alarms), alarms


async def test_before_the_deadline_every_step_is_still_allowed(api, container, recorder):
    stay = await walk(api, body=registration(basis="admin_summons"))
    await later(api, container, 7 * 60 + 59)
    status, got = await api.post(f"/api/v1/stays/{stay['id']}/placement", {"room_id": "wait-2"})
    assert status == 200, got
    status, got = await api.post(f"/api/v1/stays/{stay['id']}/interviews",
                                 {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}, as_="1001")
    assert status == 201, got
