"""Witnesses and victims take the light path (issue 13): a light check, no information collection, never a holding
room, inquired without passing one, never in a room with the suspects of their case; and the placement separation
of suspects by sex and age is absolute (no approval lifts it), while the other refusals keep the approval path."""

from __future__ import annotations

from typing import Any

from tests.api.test_rules import refused
from tests.conftest import approved, registration, walk

OFFICERS = ["off-1", "off-2"]


def witness(case_no: str = "W-2026-001", role: str = "witness", **extra: Any) -> dict[str, Any]:
    return registration(role=role, basis="witness_inquiry", case_no=case_no, officers=("off-1",), **extra)


async def searched(api, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return await walk(api, "searched", body or witness())


async def test_a_witness_gets_the_light_check_and_the_light_path_in_the_view(api):
    stay = await searched(api)
    assert stay["state"] == "searched" and stay["search"]["scope"] == "light"
    assert stay["path"] == {"light": True, "security_check": "light", "steps": ["registration", "search", "placement",
                                                                               "exit"],
                            "optional_steps": ["property", "placement"]}
    suspect = await walk(api, "searched", registration(case_no="W-2026-001"))
    assert suspect["search"]["scope"] == "full" and suspect["path"]["steps"] == [
        "registration", "search", "collection", "property", "placement", "exit"]


async def test_no_information_collection_for_a_witness_or_victim(api):
    for role in ("witness", "victim"):
        stay = await searched(api, witness(role=role, case_no=f"W-{role}"))
        err = await refused(api, f"/api/v1/stays/{stay['id']}/collection",
                            {"fingerprints_taken": True, "dna_taken": False}, "STEP_NOT_FOR_ROLE", stay_id=stay["id"])
        assert err["message"] == "证人、被害人不进行信息采集" and err["details"]["step"] == "collection"


async def test_no_face_capture_of_a_witness(api):
    stay = await searched(api)
    await refused(api, "/api/v1/captures", {"camera_id": "cam-collect", "stay_id": stay["id"]}, "STEP_NOT_FOR_ROLE",
                  stay_id=stay["id"])


async def test_a_witness_is_not_placeable_in_a_holding_room_even_with_an_approval(api):
    stay = await searched(api)
    path = f"/api/v1/stays/{stay['id']}/placement"
    for room in ("wait-1", "sober-1"):
        err = await refused(api, path, {"room_id": room}, "ROOM_HOLDING_FOR_WITNESS", stay_id=stay["id"])
        assert err["details"]["overridable"] is False and err["message"] == "证人、被害人不得安置在候问室或醒酒室"
    # no exception exists, so none can be asked for (a granted one would not be used: see the mixed-sex test)
    err = await refused(api, "/api/v1/approvals", {"kind": "placement_override", "stay_id": stay["id"],
                                                   "room_id": "wait-1", "reason": "试试"},
                        "APPROVAL_NOT_APPLICABLE", stay_id=stay["id"])
    assert err["details"]["absolute"] == ["ROOM_HOLDING_FOR_WITNESS"]
    await refused(api, path, {"room_id": "int-1"}, "ROOM_NOT_WITNESS_WAITING", stay_id=stay["id"])
    status, placed = await api.post(path, {"room_id": "wit-1"})
    assert status == 200, placed
    assert placed["state"] == "waiting" and placed["room_id"] == placed["waiting_room_id"] == "wit-1"


async def test_a_suspect_is_not_placed_in_a_witness_waiting_room(api):
    stay = await walk(api, "property_stored", registration(case_no="S-2026-100"))
    await refused(api, f"/api/v1/stays/{stay['id']}/placement", {"room_id": "wit-1"}, "ROOM_NOT_HOLDING",
                  stay_id=stay["id"])


async def test_witnesses_and_victims_wait_together_without_the_suspects_rules(api):
    a = await walk(api, body=witness(case_no="W-7", sex="male"), room="wit-2")
    b = await walk(api, "searched", witness(case_no="W-7", role="victim", sex="female", birth="2012-04-01"))
    status, placed = await api.post(f"/api/v1/stays/{b['id']}/placement", {"room_id": "wit-2"})
    assert status == 200, placed  # same case, other sex, a minor beside an adult: none of the suspects' rules
    assert a["room_id"] == "wit-2"


async def test_a_witness_is_interviewed_without_passing_a_holding_room(api, recorder):
    stay = await searched(api)
    status, iv = await api.post(f"/api/v1/stays/{stay['id']}/interviews",
                                {"room_id": "inq-1", "officer_ids": OFFICERS}, as_="1001")
    assert status == 201, iv
    _, s = await api.get(f"/api/v1/stays/{stay['id']}")
    assert s["state"] == "in_interview" and s["room_id"] == "inq-1" and s["waiting_room_id"] is None
    status, ended = await api.post(f"/api/v1/interviews/{iv['interview_id']}/end", {}, as_="1001")
    assert status == 200, ended
    status, ex = await api.post(f"/api/v1/stays/{stay['id']}/exit", {"disposition": "released"})
    assert status == 200, ex
    status, done = await api.post(f"/api/v1/stays/{stay['id']}/exit/complete",
                                  {"exit_search": {"checker_id": "cus-m"}, "items": []})
    assert status == 200, done
    actions = [e["action"] for e in done["timeline"]]
    assert actions[:3] == ["stay_registered", "stay_searched", "interview_started"] and "stay_placed" not in actions
    assert "stay_collected" not in actions and done["state"] == "exited"


async def test_a_witness_is_not_interviewed_before_the_check_the_site_sets(api, recorder, container):
    from controller.settings import WitnessConfig

    status, stay = await api.post("/api/v1/stays", witness(case_no="W-9"))
    assert status == 201
    body = {"room_id": "inq-1", "officer_ids": OFFICERS}
    await refused(api, f"/api/v1/stays/{stay['id']}/interviews", body, "STEP_OUT_OF_ORDER", as_="1001",
                  stay_id=stay["id"])
    assert recorder.started == 0
    # a site that sets no check: straight from registration to the inquiry room
    container.ctx.config = container.ctx.config.model_copy(update={"witnesses": WitnessConfig(security_check="none")})
    status, iv = await api.post(f"/api/v1/stays/{stay['id']}/interviews", body, as_="1001")
    assert status == 201, iv
    # a suspect still passes every step
    status, sus = await api.post("/api/v1/stays", registration(case_no="S-9"))
    await refused(api, f"/api/v1/stays/{sus['id']}/interviews", {"room_id": "int-2", "officer_ids": OFFICERS},
                  "STEP_OUT_OF_ORDER", as_="1001", stay_id=sus["id"])


async def test_a_witness_is_never_in_a_room_with_a_suspect_of_their_case(api, recorder):
    case = "X-2026-001"
    wit = await walk(api, body=witness(case_no=case), room="wit-1")
    sus = await walk(api, body=registration(case_no=case), room="wait-1")
    # the suspect is not taken into the witnesses' room, whatever the activity
    await refused(api, f"/api/v1/stays/{sus['id']}/activities",
                  {"kind": "identification", "performed_by_id": "off-1", "room_id": "wit-1"},
                  "ROOM_WITNESS_WITH_CASE_SUSPECT", stay_id=sus["id"])
    # the suspect in the inquiry room (an identification there): the witness is not interviewed in it
    status, act = await api.post(f"/api/v1/stays/{sus['id']}/activities",
                                 {"kind": "identification", "performed_by_id": "off-1", "room_id": "inq-2"})
    assert status == 201, act
    await refused(api, f"/api/v1/stays/{wit['id']}/interviews", {"room_id": "inq-2", "officer_ids": OFFICERS},
                  "ROOM_WITNESS_WITH_CASE_SUSPECT", as_="1001", stay_id=wit["id"])
    assert recorder.started == 0
    # nor placed where that suspect holds his place (a holding room, refused as such first), nor can an exception
    # be asked for
    other = await searched(api, witness(case_no=case, sex="female"))
    await refused(api, f"/api/v1/stays/{other['id']}/placement", {"room_id": "wait-1"},
                  "ROOM_HOLDING_FOR_WITNESS", stay_id=other["id"])
    await refused(api, "/api/v1/approvals", {"kind": "placement_override", "stay_id": other["id"],
                                             "room_id": "wait-1", "reason": "试试"},
                  "APPROVAL_NOT_APPLICABLE", stay_id=other["id"])
    # the rule follows the case: a witness of another case may be inquired there
    unrelated = await searched(api, witness(case_no="X-2026-999"))
    status, iv = await api.post(f"/api/v1/stays/{unrelated['id']}/interviews",
                                {"room_id": "inq-2", "officer_ids": OFFICERS}, as_="1001")
    assert status == 201, iv


async def test_mixed_sex_and_minor_with_adult_placements_are_refused_even_with_an_approval(api):
    seconds = [(await walk(api, "property_stored", registration(case_no="M-2", sex="female")), "ROOM_MIXED_SEX"),
               (await walk(api, "property_stored", registration(case_no="M-3", birth="2010-01-01")),
                "ROOM_MINOR_WITH_ADULT")]
    # approvals granted while wait-5 was empty (nothing to refuse then) ...
    ids = [await approved(api, "placement_override", b["id"], room_id="wait-5", reason="其余候问室已满")
           for b, _ in seconds]
    await walk(api, body=registration(case_no="M-1", sex="male"), room="wait-5")  # ... then a man is placed there
    for (b, code), aid in zip(seconds, ids, strict=True):
        path = f"/api/v1/stays/{b['id']}/placement"
        err = await refused(api, path, {"room_id": "wait-5"}, code, stay_id=b["id"])
        assert err["details"]["overridable"] is False and err["details"]["absolute"] == [code]
        await refused(api, path, {"room_id": "wait-5", "approval_id": aid}, code, stay_id=b["id"])
        assert (await api.get(f"/api/v1/approvals/{aid}"))[1]["state"] == "granted"  # the approval is not used
        # and no supervisor is asked for an exception the law does not give: the request itself is refused
        err = await refused(api, "/api/v1/approvals", {"kind": "placement_override", "stay_id": b["id"],
                                                       "room_id": "wait-5", "reason": "其余候问室已满"},
                            "APPROVAL_NOT_APPLICABLE", stay_id=b["id"])
        assert err["details"]["absolute"] == [code] and "不设例外" in err["message"]


async def test_the_other_refusals_keep_the_approval_path(api):
    await walk(api, body=registration(case_no="SAME-9"), room="wait-5")
    b = await walk(api, "property_stored", registration(case_no="SAME-9"))
    path = f"/api/v1/stays/{b['id']}/placement"
    err = await refused(api, path, {"room_id": "wait-5"}, "ROOM_SAME_CASE", stay_id=b["id"])
    assert err["details"]["overridable"] is True
    aid = await approved(api, "placement_override", b["id"], room_id="wait-5", reason="其余候问室已满")
    status, placed = await api.post(path, {"room_id": "wait-5", "approval_id": aid})
    assert status == 200, placed


async def test_placement_options_show_absolute_rules_without_an_exception(api):
    await walk(api, body=registration(case_no="P-1", sex="male"), room="wait-5")
    wit = await searched(api, witness(case_no="P-1"))
    status, opts = await api.get(f"/api/v1/stays/{wit['id']}/placement-options")
    assert status == 200, opts
    by_room = {o["room_id"]: o for o in opts}
    assert by_room["wit-1"]["lawful"] and by_room["wit-1"]["kind"] == "witness_waiting"
    assert opts[0]["kind"] == "witness_waiting" and opts[0]["suggested"]
    for room in ("wait-1", "wait-5", "sober-1"):
        o = by_room[room]
        assert not o["lawful"] and not o["overridable"]
        assert o["violations"] == [{"code": "ROOM_HOLDING_FOR_WITNESS", "message": "证人、被害人不得安置在候问室或醒酒室",
                                    "message_en": "a witness or victim is never placed in a holding room",
                                    "absolute": True}]
    woman = await walk(api, "property_stored", registration(case_no="P-2", sex="female"))
    status, opts = await api.get(f"/api/v1/stays/{woman['id']}/placement-options")
    shared = next(o for o in opts if o["room_id"] == "wait-5")
    assert not shared["lawful"] and not shared["overridable"]
    assert shared["violations"][0] == {"code": "ROOM_MIXED_SEX", "message": "不得男女混关",
                                       "message_en": "men and women may not share a room", "absolute": True}
    assert "wit-1" not in {o["room_id"] for o in opts}  # a suspect is offered holding rooms only
