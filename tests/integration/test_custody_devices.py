"""Case property and breathalyser against the simulated devices over real ptys: the evidence locker's compartment
opens on the lock board only for a recorded handover, and a breath test's reading reaches the stay from the tester."""

from __future__ import annotations

from tests.api.test_rules import refused
from tests.conftest import PASSWORD, walk


async def test_evidence_locker_opens_on_the_board_only_for_a_handover(centre):
    board = centre.sim("lock-bus-1")
    c13 = (2, 12)  # bank "c" is board address 2; c-13 is channel 12 (latch polarity low_is_open)
    await refused(centre.api, "/api/v1/lockers/c-13/open", {"reason": "取证"}, "LOCKER_NEEDS_HANDOVER")
    assert not board.is_open(*c13)
    status, item = await centre.api.post("/api/v1/case-property",
                                         {"case_no": "A-2026-001", "description": "作案工具：扳手", "category": "tool",
                                          "seal_no": "F-77"}, as_="1001")
    assert status == 201, item
    status, got = await centre.api.post(f"/api/v1/case-property/{item['id']}/handovers",
                                        {"purpose": "storage", "giver_id": "off-1", "receiver_id": "cus-f",
                                         "location_id": "evidence-1",
                                         "step_up": {"police_no": "2001", "password": PASSWORD}}, as_="1001")
    assert status == 201, got
    assert got["locker_open"]["ok"] is True
    assert board.is_open(*c13)  # the board itself unlocked the compartment
    board.put_item(*c13)
    board.close_door(*c13)

    async def closed() -> bool:
        _, lockers = await centre.api.get("/api/v1/lockers")
        return not next(lk for lk in lockers if lk["id"] == "c-13")["door_open"]

    await centre.until(closed, what="evidence locker closed")
    assert not await centre.alarms("locker_forced")


async def test_breathalyser_reading_is_stored_on_the_stay_with_the_device(centre):
    stay = await walk(centre.api, "registered")
    centre.sim("breath-1").blow(0.8)
    await centre.until(lambda: centre.bus.breaths.get("breath-1"), what="breath result")
    status, rec = await centre.api.post(f"/api/v1/stays/{stay['id']}/alcohol-readings", {"device_id": "breath-1"})
    assert status == 201, rec
    assert rec["device_id"] == "breath-1" and rec["data"]["value_mg_100ml"] == 0.8
    await refused(centre.api, f"/api/v1/stays/{stay['id']}/alcohol-readings", {"device_id": "breath-1"},
                  "READING_ALREADY_STORED")
    _, records = await centre.api.get(f"/api/v1/stays/{stay['id']}/health")
    assert [r["kind"] for r in records] == ["alcohol_reading"]
