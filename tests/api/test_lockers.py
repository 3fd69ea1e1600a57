"""One failure contract for locker openings (services/lockers.py): no board or a failed board is said, never silent."""

from __future__ import annotations

from devices.base import DeviceRejected
from tests.conftest import audit_count, walk


class StuckLatch:  # the board acknowledges, the latch does not move (the hardware edge)
    def __init__(self) -> None:
        self.stuck = True
        self.opened: list[str] = []

    async def open(self, locker_id: str) -> None:
        if self.stuck:
            raise DeviceRejected("lock-bus-1: board 0 channel 10: latch did not open", device_id="lock-bus-1")
        self.opened.append(locker_id)


async def test_no_lock_board_is_a_failed_opening_not_a_silent_one(api):
    # the api fixture's site has no device at all: the port must refuse, not pretend the compartment opened
    stay = await walk(api, "collected")
    status, got = await api.post(f"/api/v1/stays/{stay['id']}/property",
                                 {"custodian_id": "cus-f", "locker_id": "a-11", "items": []})
    assert status == 200 and got["state"] == "property_stored"
    assert got["locker_open"]["ok"] is False and got["locker_open"]["code"] == "DEVICE_NOT_CONFIGURED"
    assert "A-11" in got["locker_open"]["message"] and "钥匙" in got["locker_open"]["message"]
    before = await audit_count(api)
    status, err = await api.post("/api/v1/lockers/a-11/open", {"reason": "补充存放眼镜"})
    assert status == 503 and err["code"] == "DEVICE_NOT_CONFIGURED", err
    assert "未能自动打开" in err["message"] and err["details"]["locker_id"] == "a-11"
    assert await audit_count(api) == before + 2  # the opening (rule 6) and its failure are both on the record
    _, s = await api.get(f"/api/v1/stays/{stay['id']}")
    actions = [e["action"] for e in s["timeline"]]
    assert actions.count("locker_open_failed") == 2 and "locker_opened" in actions


async def test_stuck_latch_same_contract_on_both_routes_and_the_retry_opens(api, container):
    board = StuckLatch()
    container.lockers = board
    stay = await walk(api, "collected")
    status, got = await api.post(f"/api/v1/stays/{stay['id']}/property",
                                 {"custodian_id": "cus-f", "locker_id": "a-10", "items": []})
    assert status == 200 and got["locker_open"]["ok"] is False and got["locker_open"]["code"] == "DEVICE_REJECTED"
    # the device's own words (ids, channel numbers) stay off the screen
    assert "lock-bus-1" not in got["locker_open"]["message"] + got["locker_open"]["message_en"]
    status, err = await api.post("/api/v1/lockers/a-10/open", {"reason": "重试开柜"})
    assert status == 503 and err["code"] == "DEVICE_REJECTED" and err["message"] == got["locker_open"]["message"]
    board.stuck = False
    status, view = await api.post("/api/v1/lockers/a-10/open", {"reason": "重试开柜"})
    assert status == 200 and view["id"] == "a-10" and board.opened == ["a-10"]
