"""Approvals a supervisor really gives: each step that needs one is refused without it (nothing written), with one
a non-supervisor tried to grant, with an expired, refused, used or mismatched one, and allowed with a granted one,
whose audit names the supervisor who granted it and how he authenticated. Step-up at a kiosk is checked by the
server and a wrong PIN counts toward that account's lockout."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.api.test_rules import refused
from tests.conftest import PASSWORD, approved, registration, walk


def at(s: str) -> datetime:
    return datetime.fromisoformat(s)


async def ask(api: Any, kind: str, stay_id: str, as_: str = "2001", **terms: Any) -> dict[str, Any]:
    status, a = await api.post("/api/v1/approvals", {"kind": kind, "stay_id": stay_id, "reason": "需要", **terms},
                               as_=as_)
    assert status == 201, a
    assert a["state"] == "pending"
    return a


async def placement_case(api: Any) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    """A placement that breaks rule 5 (same case in wait-5): the step, its body and the approval's terms."""
    await walk(api, body=registration(case_no="SAME"), room="wait-5")
    b = await walk(api, "property_stored", body=registration(case_no="SAME"))
    return b["id"], f"/api/v1/stays/{b['id']}/placement", {"room_id": "wait-5"}, {"room_id": "wait-5"}


async def leave_case(api: Any) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    stay = await walk(api)
    return (stay["id"], f"/api/v1/stays/{stay['id']}/leave", {"reason": "hospital", "escort_ids": ["off-1"]},
            {"leave_reason": "hospital"})


async def extension_case(api: Any) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
    stay = await walk(api, "registered")
    until = (at(stay["entered_at"]) + timedelta(hours=20)).isoformat()
    return stay["id"], f"/api/v1/stays/{stay['id']}/extension", {"until": until, "reason": "案情复杂"}, {"until": until}


async def later(api: Any, container: Any, minutes: float) -> None:
    """Time passes (fake clock); sessions idle that long are signed in again before the next refusal check, so
    their sign-in entries are not counted as written by a refused step."""
    await container.clock.advance_async(minutes * 60)
    api.tokens.clear()
    for police_no in ("2001", "1001", "3001", "9001"):
        await api.login(police_no)


CASES = {"placement_override": placement_case, "temporary_leave": leave_case, "extension": extension_case}
STEP_ROLE = {"placement_override": "2001", "temporary_leave": "2001", "extension": "1001"}
BASELINE_CODE = {"placement_override": "ROOM_SAME_CASE", "temporary_leave": "APPROVAL_REQUIRED",
                 "extension": "APPROVAL_REQUIRED"}


@pytest.mark.parametrize("kind", list(CASES))
async def test_a_step_needs_a_granted_approval(api, container, kind):
    sid, path, body, terms = await CASES[kind](api)
    as_ = STEP_ROLE[kind]
    # without an approval: refused, nothing written
    await refused(api, path, body, BASELINE_CODE[kind], as_=as_, stay_id=sid)
    # naming a supervisor instead of an approval: refused as APPROVAL_REQUIRED, nothing written
    named = ({"override": {"supervisor_id": "sup-1", "reason": "无空房"}} if kind == "placement_override"
             else {"approver_id": "sup-1"})
    await refused(api, path, {**body, **named}, "APPROVAL_REQUIRED", as_=as_, stay_id=sid)
    # an id that is no approval at all
    await refused(api, path, {**body, "approval_id": "apr-forged"}, "APPROVAL_REQUIRED", as_=as_, stay_id=sid)

    # a case officer cannot grant: the approval stays pending and the step is refused
    pending = await ask(api, kind, sid, as_=as_, **terms)
    await refused(api, f"/api/v1/approvals/{pending['id']}/grant", {}, "NEEDS_SUPERVISOR", status=403, as_="1001")
    await refused(api, f"/api/v1/approvals/{pending['id']}/grant", {}, "NEEDS_SUPERVISOR", status=403, as_="2001")
    await refused(api, path, {**body, "approval_id": pending["id"]}, "APPROVAL_NOT_GRANTED", as_=as_, stay_id=sid)

    # a refused approval
    status, got = await api.post(f"/api/v1/approvals/{pending['id']}/refuse", {"note": "不同意"}, as_="3001")
    assert status == 200 and got["state"] == "refused"
    await refused(api, path, {**body, "approval_id": pending["id"]}, "APPROVAL_REFUSED", as_=as_, stay_id=sid)

    # an expired approval: granted, then not used within the site's validity (30 min in the demo site)
    late = await approved(api, kind, sid, as_=as_, **terms)
    await later(api, container, 31)
    await refused(api, path, {**body, "approval_id": late}, "APPROVAL_EXPIRED", as_=as_, stay_id=sid)

    # an approval of another kind
    other_kind = next(k for k in CASES if k != kind)
    other_terms = {"placement_override": {"room_id": "wait-5"}, "temporary_leave": {"leave_reason": "hospital"},
                   "extension": {"until": body.get("until") or "2026-11-22T20:00:00+00:00"}}[other_kind]
    wrong = await approved(api, other_kind, sid, as_=as_, **other_terms)
    await refused(api, path, {**body, "approval_id": wrong}, "APPROVAL_MISMATCH", as_=as_, stay_id=sid)

    # the allowed case: the audit entry names the approval, who granted it and how
    good = await approved(api, kind, sid, as_=as_, **terms)
    status, s = await api.post(path, {**body, "approval_id": good}, as_=as_)
    assert status == 200, s
    entry = s["timeline"][-1]
    assert entry["after"]["approval"]["approval_id"] == good
    assert entry["after"]["approval"]["granted_by"] == "sup-1"
    assert entry["after"]["approval"]["granted_by_name"] == "张伟"
    assert entry["after"]["approval"]["method"] == "session"
    assert entry["actor_id"] != "sup-1"  # the step is recorded as who did it; the approval as who allowed it
    status, used = await api.get(f"/api/v1/approvals/{good}")
    assert used["state"] == "used" and used["used_by_action"] == entry["action"]


async def test_one_approval_one_step_and_the_terms_must_match(api):
    sid, path, body, terms = await extension_case(api)
    other_until = (at(body["until"]) + timedelta(hours=1)).isoformat()
    aid = await approved(api, "extension", sid, as_="1001", **terms)
    await refused(api, path, {**body, "until": other_until, "approval_id": aid}, "APPROVAL_MISMATCH", as_="1001",
                  stay_id=sid)
    status, _ = await api.post(path, {**body, "approval_id": aid}, as_="1001")
    assert status == 200
    await refused(api, path, {**body, "until": other_until, "approval_id": aid}, "APPROVAL_USED", as_="1001",
                  stay_id=sid)


async def test_an_approval_for_another_stay_is_refused(api):
    sid, path, body, _terms = await leave_case(api)
    other = await walk(api, body=registration(case_no="OTHER"), room="wait-2")
    aid = await approved(api, "temporary_leave", other["id"], leave_reason="hospital")
    await refused(api, path, {**body, "approval_id": aid}, "APPROVAL_MISMATCH", stay_id=sid)


async def test_pending_list_expiry_and_withdrawal(api, container):
    sid, _path, _body, terms = await leave_case(api)
    first = await ask(api, "temporary_leave", sid, **terms)
    status, pending = await api.get("/api/v1/approvals?state=pending", as_="3001")
    assert [a["id"] for a in pending] == [first["id"]]
    await later(api, container, 31)  # not decided in time: expired, off the pending list
    status, pending = await api.get("/api/v1/approvals?state=pending", as_="3001")
    assert pending == []
    await refused(api, f"/api/v1/approvals/{first['id']}/grant", {}, "APPROVAL_EXPIRED", as_="3001")
    second = await ask(api, "temporary_leave", sid, **terms)
    # someone else (not the requester, not a supervisor) may not withdraw it
    await refused(api, f"/api/v1/approvals/{second['id']}/withdraw", {}, "FORBIDDEN_ROLE", status=403, as_="2002")
    status, got = await api.post(f"/api/v1/approvals/{second['id']}/withdraw", {"note": "不需要了"})
    assert status == 200 and got["state"] == "withdrawn"
    await refused(api, f"/api/v1/approvals/{second['id']}/grant", {}, "APPROVAL_NOT_PENDING", as_="3001")
    status, pending = await api.get("/api/v1/approvals?state=pending", as_="3001")
    assert pending == []


async def test_grant_by_step_up_names_the_supervisor_and_the_method(api, container):
    from controller.auth import set_card
    from controller.store.db import Actor

    container.db.write_sync(Actor.system("t"), lambda uow: set_card(uow, "sup-1", "CARD-SUP-1", "4826"))
    sid, path, body, terms = await placement_case(api)
    a = await ask(api, "placement_override", sid, **terms)
    # the custody officer's own session grants by the supervisor's card + PIN
    status, got = await api.post(f"/api/v1/approvals/{a['id']}/grant",
                                 {"step_up": {"card_id": "CARD-SUP-1", "pin": "4826"}}, as_="2001")
    assert status == 200, got
    assert got["state"] == "granted" and got["decided_by"] == "sup-1" and got["method"] == "card_pin"
    status, s = await api.post(path, {**body, "approval_id": a["id"]})
    assert status == 200, s
    granted = next(e for e in s["timeline"] if e["action"] == "approval_granted")
    assert granted["actor_id"] == "sup-1" and granted["after"]["method"] == "card_pin"
    assert granted["after"]["at_session_of"] == "cus-f"
    placed = s["timeline"][-1]
    assert placed["action"] == "stay_placed" and placed["actor_id"] == "cus-f"
    assert placed["after"]["approval"]["method"] == "card_pin"


async def test_step_up_by_someone_who_is_no_supervisor_is_refused(api):
    sid, _path, _body, terms = await leave_case(api)
    a = await ask(api, "temporary_leave", sid, **terms)
    err = await refused(api, f"/api/v1/approvals/{a['id']}/grant",
                        {"step_up": {"police_no": "1001", "password": PASSWORD}}, "NEEDS_SUPERVISOR", status=403)
    assert err["details"]["role"] == "supervisor"
    await refused(api, f"/api/v1/approvals/{a['id']}/grant",
                  {"step_up": {"police_no": "3001"}}, "VALIDATION_ERROR", status=422)


async def test_a_wrong_step_up_pin_is_refused_and_backs_that_card_off_like_a_sign_in(api, container):
    from controller.api.ratelimit import SignInBackoff
    from controller.auth import set_card
    from controller.store.db import Actor

    container.db.write_sync(Actor.system("t"), lambda uow: set_card(uow, "sup-1", "CARD-SUP-1", "4826"))
    sid, _path, _body, terms = await leave_case(api)
    a = await ask(api, "temporary_leave", sid, **terms)
    grant = f"/api/v1/approvals/{a['id']}/grant"
    wrong = {"step_up": {"card_id": "CARD-SUP-1", "pin": "0000"}}
    for _ in range(SignInBackoff.FREE):
        err = await refused(api, grant, wrong, "BAD_CREDENTIALS", status=403)
        assert err["details"]["step_up"] is True
    # past the free tries that card waits (back-off per account and source), even with the right PIN
    await refused(api, grant, {"step_up": {"card_id": "CARD-SUP-1", "pin": "4826"}}, "TOO_MANY_ATTEMPTS", status=429)
    status, got = await api.get(f"/api/v1/approvals/{a['id']}")
    assert got["state"] == "pending"
    # the supervisor's own sign-in by password is not shut out by someone guessing at his card
    r = await api.client.post("/api/v1/auth/login", json={"police_no": "3001", "password": PASSWORD})
    assert r.status_code == 200
    await container.clock.advance_async(60)  # the back-off passes on the controller's clock
    status, got = await api.post(grant, {"step_up": {"card_id": "CARD-SUP-1", "pin": "4826"}})
    assert status == 200 and got["state"] == "granted", got


async def test_a_wrong_step_up_password_counts_like_a_failed_sign_in(api, container):
    from controller.store.tables import Staff

    sid, _path, _body, terms = await leave_case(api)
    a = await ask(api, "temporary_leave", sid, **terms)
    await refused(api, f"/api/v1/approvals/{a['id']}/grant",
                  {"step_up": {"police_no": "3001", "password": "not-his-password"}}, "BAD_CREDENTIALS", status=403)
    person = container.db.read_sync(lambda s: s.get(Staff, "sup-1"))
    assert person.failed_logins == 1


# --- 零滞留: an extension only before the deadline (issue "faithful to the facts") ----------------------------

async def test_an_extension_after_the_deadline_is_refused_and_the_overrun_stays(api, container):
    stay = await walk(api, "registered", registration(basis="admin_summons"))
    sid = stay["id"]
    until = (at(stay["entered_at"]) + timedelta(hours=12)).isoformat()
    await later(api, container, 8 * 60 + 1)  # past the 8-hour limit
    status, alarms = await api.get(f"/api/v1/alarms?state=open&stay_id={sid}")
    assert any(a["kind"] == "deadline_overdue" for a in alarms)
    # even a granted approval cannot legalise the overrun after the fact
    aid = await approved(api, "extension", sid, as_="1001", until=until, ground="many_people_or_identity_unknown")
    await refused(api, f"/api/v1/stays/{sid}/extension",
                  {"approval_id": aid, "until": until, "reason": "补批", "ground": "many_people_or_identity_unknown"},
                  "DEADLINE_PASSED", as_="1001", stay_id=sid)
    status, alarms = await api.get(f"/api/v1/alarms?state=open&stay_id={sid}")
    assert any(a["kind"] == "deadline_overdue" for a in alarms)  # still on the record
    _, s = await api.get(f"/api/v1/stays/{sid}")
    assert s["deadline_at"] == stay["deadline_at"]


async def test_continued_questioning_to_48_hours_needs_the_county_level_and_its_document(api):
    status, stay = await api.post("/api/v1/stays", registration(basis="continued_questioning"))
    assert status == 201, stay
    sid = stay["id"]
    until = (at(stay["entered_at"]) + timedelta(hours=40)).isoformat()
    path = f"/api/v1/stays/{sid}/extension"
    body = {"until": until, "reason": "身份不明", "ground": "county_approval"}
    aid = await approved(api, "extension", sid, as_="1001", until=until, ground="county_approval")
    await refused(api, path, {**body, "approval_id": aid}, "APPROVAL_LEVEL_REQUIRED", as_="1001", stay_id=sid)
    status, a = await api.post("/api/v1/approvals", {"kind": "extension", "stay_id": sid, "reason": "身份不明",
                                                     "until": until, "ground": "county_approval"}, as_="1001")
    await refused(api, f"/api/v1/approvals/{a['id']}/grant", {"level": "province", "document_no": "x"},
                  "APPROVAL_LEVEL_UNKNOWN", status=422, as_="3001")
    await refused(api, f"/api/v1/approvals/{a['id']}/grant", {"level": "county"}, "DOCUMENT_NO_REQUIRED",
                  status=422, as_="3001")
    status, g = await api.post(f"/api/v1/approvals/{a['id']}/grant",
                               {"level": "county", "document_no": "X县公延字〔2026〕18号"}, as_="3001")
    assert status == 200, g
    status, s = await api.post(path, {**body, "approval_id": a["id"]}, as_="1001")
    assert status == 200, s
    assert s["timeline"][-1]["after"]["approval"]["document_no"] == "X县公延字〔2026〕18号"
    assert s["timeline"][-1]["after"]["approval"]["level"] == "county"
    assert s["timeline"][-1]["after"]["approval"]["level_holder"] == "县级以上公安机关负责人"  # from the site config
