"""A vulnerable subject's safeguards before an interview (issue 13): the minor's appropriate adult recorded and
present in the room (their visitor tag reported there, or the conducting officer's confirmation where the room has
no reader), a female minor's female staff member proven by her own credentials, an intoxicated subject's breath
test below the site threshold. Each refusal: status, stable code, nothing written; then the allowed case."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from controller.domain.actor import Actor
from controller.services import health
from tests.api.readers import without_readers
from tests.api.test_rules import refused
from tests.conftest import PASSWORD, registration, walk

ADULT = {"name": "张母", "relation": "parent", "id_number": "110101197501011234", "contact": "13800000000"}
TWO = {"room_id": "int-1", "officer_ids": ["off-1", "off-2"]}


async def minor(api: Any, **kw: Any) -> dict[str, Any]:
    return await walk(api, body=registration(birth="2010-05-01", **kw), room="wait-6")


async def record_adult(api: Any, sid: str, **kw: Any) -> dict[str, Any]:
    status, a = await api.post(f"/api/v1/stays/{sid}/appropriate-adult", {**ADULT, "tag_id": "tag-visitor-01", **kw})
    assert status == 201, a
    return dict(a)


async def test_recording_the_adult_issues_a_visitor_tag(api, container):
    stay = await minor(api, wristband_id="band-s-77")
    path = f"/api/v1/stays/{stay['id']}/appropriate-adult"
    # the site has wristbands: the adult is given a visitor tag
    await refused(api, path, ADULT, "VISITOR_TAG_REQUIRED", status=422, stay_id=stay["id"])
    # identified as at the interview (CPL art. 281)
    err = await refused(api, path, {**ADULT, "relation": "—", "tag_id": "tag-visitor-01"},
                        "APPROPRIATE_ADULT_INCOMPLETE", status=422, stay_id=stay["id"])
    assert err["details"]["fields"] == ["relation"]
    # a tag already bound: the subject's own wristband, a staff member's badge
    await refused(api, path, {**ADULT, "tag_id": "band-s-77"}, "VISITOR_TAG_IN_USE", stay_id=stay["id"])
    status, _ = await api.post("/api/v1/staff/off-2/tag", {"tag_id": "tag-staff-02"}, as_="9001")
    assert status == 200
    await refused(api, path, {**ADULT, "tag_id": "tag-staff-02"}, "VISITOR_TAG_IN_USE", stay_id=stay["id"])
    a = await record_adult(api, stay["id"])
    assert a["id_number"] != ADULT["id_number"] and a["tag_id"] == "tag-visitor-01"
    # one adult at a time; the tag is not handed to a second person while the first has it
    await refused(api, path, {**ADULT, "tag_id": "tag-visitor-02"}, "APPROPRIATE_ADULT_ALREADY_RECORDED",
                  stay_id=stay["id"])
    other = await minor(api, case_no="A-2026-002")
    await refused(api, f"/api/v1/stays/{other['id']}/appropriate-adult", {**ADULT, "tag_id": "tag-visitor-01"},
                  "VISITOR_TAG_IN_USE", stay_id=other["id"])
    status, left = await api.post(f"/api/v1/appropriate-adults/{a['id']}/leave")
    assert status == 200 and left["left_at"], left
    await refused(api, f"/api/v1/appropriate-adults/{a['id']}/leave", {}, "APPROPRIATE_ADULT_LEFT")
    await record_adult(api, other["id"])  # the returned tag is issued again
    status, listed = await api.get(f"/api/v1/stays/{stay['id']}/appropriate-adult")
    assert status == 200 and [x["id"] for x in listed] == [a["id"]]
    assert ADULT["id_number"] not in str(listed)


async def test_a_minors_adult_must_be_present_by_their_visitor_tag(api, recorder, container):
    stay = await minor(api)
    sid, path = stay["id"], f"/api/v1/stays/{stay['id']}/interviews"
    await refused(api, path, TWO, "MINOR_NEEDS_APPROPRIATE_ADULT", as_="1001", stay_id=sid)
    await record_adult(api, sid)
    # recorded but not seen in the room
    err = await refused(api, path, TWO, "APPROPRIATE_ADULT_NOT_PRESENT", as_="1001", stay_id=sid)
    assert err["details"]["presence"] == "tag"
    # seen, but in the waiting room
    now = container.clock.now()
    container.sightings.saw("tag-visitor-01", "wait-6", now)
    await refused(api, path, TWO, "APPROPRIATE_ADULT_NOT_PRESENT", as_="1001", stay_id=sid)
    # seen in the interview room, but longer ago than the site's window
    container.sightings.saw("tag-visitor-01", "int-1", now)
    await container.clock.advance_async(container.ctx.config.safeguards.adult_presence_window_s + 1)
    await refused(api, path, TWO, "APPROPRIATE_ADULT_NOT_PRESENT", as_="1001", stay_id=sid)
    # the officer's word does not replace the tag where the room has a reader
    await refused(api, path, {**TWO, "adult_present_confirmed": True}, "APPROPRIATE_ADULT_NOT_PRESENT", as_="1001",
                  stay_id=sid)
    # the requirements the terminal shows: identified, not present
    status, req = await api.get(f"/api/v1/stays/{sid}/interview-requirements?room_id=int-1", as_="1001")
    assert status == 200, req
    met = {r["key"]: r["met"] for r in req["requirements"] if r["required"]}
    assert met == {"adult_identified": True, "adult_present": False}
    assert recorder.started == 0
    container.sightings.saw("tag-visitor-01", "int-1", container.clock.now())
    _, req = await api.get(f"/api/v1/stays/{sid}/interview-requirements?room_id=int-1", as_="1001")
    assert all(r["met"] for r in req["requirements"] if r["required"])
    status, got = await api.post(path, TWO, as_="1001")
    assert status == 201, got
    _, s = await api.get(f"/api/v1/stays/{sid}")
    started = next(e for e in s["timeline"] if e["action"] == "interview_started")
    assert started["after"]["appropriate_adult"]["name"] == "张母"
    assert started["after"]["safeguards"]["appropriate_adult"]["presence"] == "tag"
    assert ADULT["id_number"] not in str(s)


async def test_without_a_reader_the_conducting_officer_confirms_the_adult(api, recorder, container):
    without_readers(container, "int-2")
    stay = await minor(api, officers=("off-1", "off-2", "off-3"))
    sid, path = stay["id"], f"/api/v1/stays/{stay['id']}/interviews"
    body = {"room_id": "int-2", "officer_ids": ["off-1", "off-2"]}
    await record_adult(api, sid, tag_id="tag-visitor-03")
    err = await refused(api, path, body, "APPROPRIATE_ADULT_NOT_PRESENT", as_="1001", stay_id=sid)
    assert err["details"]["presence"] == "officer_confirmed"
    # confirmed by someone signed in who is not conducting the interview: not his to confirm
    await refused(api, path, {**body, "adult_present_confirmed": True}, "APPROPRIATE_ADULT_NOT_PRESENT", as_="1003",
                  stay_id=sid)
    status, got = await api.post(path, {**body, "adult_present_confirmed": True}, as_="1001")
    assert status == 201, got
    _, s = await api.get(f"/api/v1/stays/{sid}")
    started = next(e for e in s["timeline"] if e["action"] == "interview_started")
    assert started["after"]["safeguards"]["appropriate_adult"] == {
        "adult_id": started["after"]["safeguards"]["appropriate_adult"]["adult_id"], "presence": "officer_confirmed",
        "confirmed_by": "off-1"}


async def test_a_female_minors_female_staff_proves_herself(api, recorder, container):
    without_readers(container, "int-2")
    stay = await walk(api, body=registration(sex="female", birth="2010-05-01", officers=("off-1", "off-2", "off-3")),
                      room="wait-6")
    sid, path = stay["id"], f"/api/v1/stays/{stay['id']}/interviews"
    await record_adult(api, sid, tag_id="tag-visitor-04")
    body = {"room_id": "int-2", "officer_ids": ["off-1", "off-3"], "adult_present_confirmed": True}
    # her name ticked is not her presence
    await refused(api, path, body, "FEMALE_STAFF_REQUIRED", as_="1001", stay_id=sid)
    # a man's step-up proves a man
    await refused(api, path, {**body, "female_staff_step_up": {"police_no": "1002", "password": PASSWORD}},
                  "FEMALE_STAFF_REQUIRED", as_="1001", stay_id=sid)
    assert recorder.started == 0
    status, got = await api.post(path, {**body, "female_staff_step_up": {"police_no": "1003", "password": PASSWORD}},
                                 as_="1001")
    assert status == 201, got
    _, s = await api.get(f"/api/v1/stays/{sid}")
    started = next(e for e in s["timeline"] if e["action"] == "interview_started")
    assert started["after"]["safeguards"]["female_staff_id"] == "off-3"
    assert PASSWORD not in str(s)


async def test_a_wrong_password_proves_nobody(api, recorder, container):
    without_readers(container, "int-2")
    stay = await walk(api, body=registration(sex="female", birth="2010-05-01"), room="wait-6")
    await record_adult(api, stay["id"], tag_id="tag-visitor-05")
    status, err = await api.post(f"/api/v1/stays/{stay['id']}/interviews", {
        "room_id": "int-2", "officer_ids": ["off-1", "off-2"], "adult_present_confirmed": True,
        "female_staff_step_up": {"police_no": "1003", "password": "wrong-password-1"}}, as_="1001")
    assert status == 403 and err["code"] == "BAD_CREDENTIALS", err
    assert recorder.started == 0


async def breath(container: Any, sid: str, value: float) -> None:
    """A reading as the devicebus holds it from the breathalyser, stored through the production service."""
    reading = {"event_id": f"ev-{value}-{container.clock.now().timestamp()}", "value_mg_100ml": value,
               "device_ts": None, "received_at": container.clock.now().isoformat()}
    await container.db.write(Actor(id="cus-f", role="custody_staff"),
                             lambda uow: health.alcohol_reading(uow, sid, "breath-1", reading))


async def test_an_intoxicated_subject_waits_for_a_breath_test_below_the_threshold(api, recorder, container):
    stay = await walk(api, body=registration(flags={"intoxicated": True}), room="sober-1")
    sid, path = stay["id"], f"/api/v1/stays/{stay['id']}/interviews"
    err = await refused(api, path, TWO, "BREATH_TEST_REQUIRED", as_="1001", stay_id=sid)
    assert err["details"]["threshold"] == 20
    await breath(container, sid, 45.0)
    err = await refused(api, path, TWO, "BREATH_TEST_ABOVE_THRESHOLD", as_="1001", stay_id=sid)
    assert err["details"]["latest"] == 45.0
    status, req = await api.get(f"/api/v1/stays/{sid}/interview-requirements?room_id=int-1", as_="1001")
    assert [r["met"] for r in req["requirements"] if r["key"] == "breath_test"] == [False]
    assert req["breath"]["value_mg_100ml"] == 45.0
    await container.clock.advance_async(2 * 3600)
    await breath(container, sid, 12.0)
    assert recorder.started == 0
    status, got = await api.post(path, TWO, as_="1001")
    assert status == 201, got
    _, s = await api.get(f"/api/v1/stays/{sid}")
    started = next(e for e in s["timeline"] if e["action"] == "interview_started")
    assert started["after"]["safeguards"]["breath"]["value_mg_100ml"] == 12.0


async def test_a_reading_from_before_the_flag_does_not_count(api, recorder, container):
    stay = await walk(api, room="wait-1")
    sid = stay["id"]
    await breath(container, sid, 5.0)
    await container.clock.advance_async(600)
    # the subject is found intoxicated later (a correction of the registration's flags)
    _, s = await api.get(f"/api/v1/stays/{sid}")
    reg = next(e for e in s["timeline"] if e["action"] == "stay_registered")
    status, got = await api.post(f"/api/v1/stays/{sid}/corrections", {
        "corrects_seq": reg["seq"], "field": "flags", "value": {"intoxicated": True}, "reason": "发现醉酒"},
        as_="2001")
    assert status == 201, got
    await refused(api, f"/api/v1/stays/{sid}/interviews", TWO, "BREATH_TEST_REQUIRED", as_="1001", stay_id=sid)


async def test_the_site_may_turn_the_breath_test_off(api, recorder, container):
    cfg = container.ctx.config
    container.ctx.config = cfg.model_copy(update={"safeguards": cfg.safeguards.model_copy(
        update={"breath_test": False})})
    stay = await walk(api, body=registration(flags={"intoxicated": True}), room="sober-1")
    status, got = await api.post(f"/api/v1/stays/{stay['id']}/interviews", TWO, as_="1001")
    assert status == 201, got


async def test_the_devicebus_knows_the_visitor_tag_and_where_the_reader_saw_it(api, recorder, container):
    """The production devicebus fed the wristband reader's own events (the hardware edge): the issued visitor tag
    is not an unknown tag, and its reports are what proves the adult present."""
    import asyncio

    from controller.devicebus import DeviceBus
    from devices.wristband_reader.adapter import TagAbsent, TagPresent

    stay = await minor(api)
    a = await record_adult(api, stay["id"])
    bus = DeviceBus(container)
    await bus.presence.refresh_tags()
    assert bus.presence.tag_owner["tag-visitor-01"] == ("visitor", a["id"])
    bus.on_device_event(TagPresent(device_id="band-int-1", kind="wristband_reader", tag_id="tag-visitor-01",
                                   zone="int-1", rssi=-50.0, event_id="e-1"))
    await asyncio.sleep(0)  # the coalesced rule-8 check the event scheduled (call_soon) runs
    await bus.presence.check_rooms({"int-1"})
    _, alarms = await api.get("/api/v1/alarms?state=open")
    assert not [x for x in alarms if x["kind"] == "unknown_tag"], alarms
    status, got = await api.post(f"/api/v1/stays/{stay['id']}/interviews", TWO, as_="1001")
    assert status == 201, got
    bus.on_device_event(TagAbsent(device_id="band-int-1", kind="wristband_reader", tag_id="tag-visitor-01",
                                  zone="int-1", event_id="e-2"))
    assert not container.sightings.seen_in("tag-visitor-01", "int-1", container.clock.now(), timedelta(seconds=300))
    await bus.tasks.drain()  # let the bus's own writes finish before the database closes


async def test_another_adult_typed_in_is_not_the_recorded_one(api, recorder, container):
    stay = await minor(api)
    await record_adult(api, stay["id"])
    container.sightings.saw("tag-visitor-01", "int-1", container.clock.now())
    other = {**ADULT, "name": "李四"}
    await refused(api, f"/api/v1/stays/{stay['id']}/interviews", {**TWO, "appropriate_adult": other},
                  "APPROPRIATE_ADULT_MISMATCH", as_="1001", stay_id=stay["id"])
    status, got = await api.post(f"/api/v1/stays/{stay['id']}/interviews", {**TWO, "appropriate_adult": ADULT},
                                 as_="1001")
    assert status == 201, got
