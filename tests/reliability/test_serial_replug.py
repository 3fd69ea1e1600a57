"""Serial cable pulled and replugged at the system level: the simulator closes a device's pty (hw_sim fault
``offline``) and later reopens it. The controller's adapter notices by itself, says so (availability offline on
``GET /api/v1/devices``, a ``device_offline`` alarm after the grace period), reopens the port by itself when it
reappears, says so again (online, the alarm resolved), and works: a locker opens on the reconnected bus.

The adapter-level reconnect is covered in tests/contract (test_serial_link.py, test_lock_board_sim.py); this is the
same fault seen from the centre's side, through the devicebus, the alarms and the API.
"""

from __future__ import annotations

import pytest

from tests.reliability.conftest import LiveCentre

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("device", ["lock-bus-1", "idr-reg"])
def test_serial_device_unplugged_and_replugged_recovers_by_itself(live: LiveCentre, device: str) -> None:
    live.until(lambda: live.devices()[device]["availability"] == "online", what=f"{device} online")
    live.sim.fault(device, "offline")  # the cable is pulled: the pty goes away
    try:
        live.until(lambda: live.devices()[device]["availability"] == "offline", what=f"{device} seen offline")
        alarm = live.until(lambda: [a for a in live.alarms("device_offline") if a["device_id"] == device],
                           what="a device_offline alarm after the grace period")[0]
    finally:
        live.sim.clear(device)  # plugged back in: the pty reappears at the same path
    live.until(lambda: live.devices()[device]["availability"] == "online", what=f"{device} back online")
    live.until(lambda: not [a for a in live.alarms("device_offline") if a["device_id"] == device],
               what="the offline alarm resolved")
    resolved = {a["id"]: a for a in live.alarms("device_offline", state="resolved")}
    assert alarm["id"] in resolved and resolved[alarm["id"]]["resolved_by"]
    if device == "lock-bus-1":  # and it works: a compartment opens on the reconnected bus
        lockers = live.api("GET", "/api/v1/lockers").json()
        lk = next(x for x in lockers if x["bus"] == device and x["state"] == "free" and not x["door_open"])
        r = live.api("POST", f"/api/v1/lockers/{lk['id']}/open", {"reason": "复位检查 replug check"})
        assert r.status_code == 200, r.text
        live.until(lambda: lk["channel"] in live.sim.info(device)["boards"][str(lk["board"])]["open"],
                   what="the compartment's door open on the bus")
