"""A welfare check counts only with the guard in the room (issue 13), over the simulated wristband readers and a real
broker: refused while the reader reports the guard's tag elsewhere, accepted once the room's reader reports it."""

from __future__ import annotations

import pytest

from tests.api.test_rules import refused

pytestmark = pytest.mark.slow

CHECK = {"observation": "ok", "note": "情绪稳定"}


async def fresh_sessions(centre) -> None:
    """Time moved past the session idle limit: sign in again before counting what a refusal writes."""
    centre.api.tokens.clear()
    for police_no in ("2001", "9001"):
        await centre.api.login(police_no)


async def test_a_welfare_check_is_accepted_only_after_the_reader_reports_the_guard_in_the_room(centre):
    stay = await centre.walk(room="wait-2")
    path = "/api/v1/rooms/wait-2/welfare-checks"
    status, body = await centre.api.post("/api/v1/staff/cus-f/tag", {"tag_id": "tag-cus-f"}, as_="3001")
    assert status == 200, body
    await centre.until(lambda: centre.bus.tag_owner.get("tag-cus-f"), what="staff tag known")
    await centre.container.clock.advance_async(31 * 60)  # the 30-minute interval passes without a check
    late = await centre.until(lambda: centre.alarms("welfare_check_late"), what="late check alarm")
    assert late[0]["room_id"] == "wait-2"
    await fresh_sessions(centre)

    # the guard (陈静, signed in as 2001) is seen by the reader of the next room, not this one
    centre.sim("band-wait-1").tag_move("tag-cus-f")
    await centre.until(lambda: centre.bus.tags.get("tag-cus-f") and centre.bus.tags["tag-cus-f"].zone == "wait-1",
                       what="tag reported in wait-1")
    err = await refused(centre.api, path, CHECK, "WELFARE_CHECK_NOT_PRESENT", stay_id=stay["id"])
    assert err["details"]["reason"] == "tag_not_in_room"
    assert await centre.alarms("welfare_check_late")

    # she walks in: the room's reader reports her tag, and the same check is accepted as hers
    centre.sim("band-wait-2").tag_move("tag-cus-f")
    await centre.until(lambda: centre.bus.tags["tag-cus-f"].zone == "wait-2", what="tag reported in wait-2")
    status, wc = await centre.api.post(path, CHECK, as_="2001")
    assert status == 201, wc
    assert wc["occupant_stay_ids"] == [stay["id"]]
    assert not await centre.alarms("welfare_check_late")
    _, rooms = await centre.api.get("/api/v1/rooms")
    assert next(r for r in rooms if r["id"] == "wait-2")["next_welfare_check_due"] is not None

    # two minutes later with no new report from the reader, a further check is not "now" any more
    await centre.container.clock.advance_async(centre.container.site.welfare.presence_window_s + 1)
    await fresh_sessions(centre)
    await refused(centre.api, path, CHECK, "WELFARE_CHECK_NOT_PRESENT", stay_id=stay["id"])
