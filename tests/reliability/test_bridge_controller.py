"""The real controller (``python -m controller run``) with its devices in the bridge process
(``HCC_BRIDGE_MODE=process``), hw_sim and Mosquitto with the site's accounts and ACL, driven through the REST API:

- the controller starts the bridge and restarts it after a SIGKILL: devices read offline while it is gone and
  online after, the device-offline alarms that its absence raised are resolved, a compartment opened through the
  API before and after opens on the board, and a recording started before the kill is stopped once after it;
- the controller SIGKILLed while a bridge it does not supervise (``HCC_BRIDGE_SUPERVISE=0``, as under systemd)
  runs: a panic press made while the controller is down is an alarm once it is back (its persistent session).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hw_sim.broker import MosquittoProcess, find_mosquitto
from tests.conftest import PASSWORD
from tests.procs import ROOT, Child, free_port
from tests.reliability.checks import add_staff
from tests.reliability.conftest import until
from tests.reliability.harness import ControllerProcess
from tests.reliability.simproc import SimProcess

pytestmark = pytest.mark.slow


class Api:
    def __init__(self, proc: ControllerProcess) -> None:
        self.proc = proc
        r = httpx.post(f"{proc.url}/api/v1/auth/login", json={"police_no": "2001", "password": PASSWORD}, timeout=30)
        self.token = r.json()["token"]

    def __call__(self, method: str, path: str, json: Any = None) -> httpx.Response:
        return httpx.request(method, f"{self.proc.url}{path}", json=json, timeout=30,
                             headers={"Authorization": f"Bearer {self.token}"})

    def devices(self) -> dict[str, dict[str, Any]]:
        return {d["id"]: d for d in self("GET", "/api/v1/devices").json()}

    def alarms(self, kind: str) -> list[dict[str, Any]]:
        return [a for a in self("GET", "/api/v1/alarms?state=open").json() if a["kind"] == kind]


BRIDGED = ("door-int-1", "rec-int-1", "lock-bus-1", "panic-wait-1")


@pytest.fixture
def centre(tmp_path: Path) -> Iterator[tuple[MosquittoProcess, SimProcess, Path]]:
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed")
    sim = SimProcess(tmp_path / "sim", grace_s=1.0, broker="none", mqtt_port=free_port())
    broker = MosquittoProcess(sim.mqtt_port, auth_dir=sim.credentials).start()
    try:
        sim.start()
        yield broker, sim, tmp_path
    finally:
        sim.stop()
        broker.close()


def _bridge_pid(ctl_pid: int) -> int | None:
    for task in Path(f"/proc/{ctl_pid}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                if b"controller.bridge" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return int(pid)
            except FileNotFoundError:
                continue
    return None


def test_bridge_killed_is_restarted_and_the_devices_work_after(centre: tuple[MosquittoProcess, SimProcess, Path]
                                                               ) -> None:
    _, sim, tmp = centre
    ctl = ControllerProcess(tmp / "data", site=sim.site, env={"HCC_BRIDGE_MODE": "process", "HCC_FAKE_CLOCK": "1"})
    ctl.cli("migrate")
    add_staff(ctl, PASSWORD)
    ctl.start(timeout=60)
    try:
        api = Api(ctl)
        until(lambda: all(api.devices()[d]["availability"] == "online" for d in BRIDGED), 60, "devices online")
        assert ctl.proc is not None
        first = until(lambda: _bridge_pid(ctl.proc.pid), 10, "the bridge process")  # type: ignore[union-attr]
        # the bridge yields the CPU to the API ([bridge] nice, default 5); the controller keeps its own priority
        until(lambda: os.getpriority(os.PRIO_PROCESS, first) == 5, 10, "the bridge at nice 5")
        assert os.getpriority(os.PRIO_PROCESS, ctl.proc.pid) == os.getpriority(os.PRIO_PROCESS, 0)
        lockers = [lk for lk in api("GET", "/api/v1/lockers").json() if lk["state"] == "free"]
        a, b = lockers[0]["id"], lockers[1]["id"]
        r = api("POST", f"/api/v1/lockers/{a}/open", {"reason": "取证件 fetch papers"})
        assert r.status_code == 200, r.text
        until(lambda: any(lk["id"] == a and lk["door_open"] for lk in api("GET", "/api/v1/lockers").json()), 20,
              "the board's report of the opening")

        os.kill(first, signal.SIGKILL)
        until(lambda: api.devices()["door-int-1"]["availability"] == "offline", 20, "devices offline")
        second = until(lambda: (p := _bridge_pid(ctl.proc.pid)) not in (None, first) and p,  # type: ignore[union-attr]
                       30, "the bridge restarted by the controller")
        assert second != first
        until(lambda: os.getpriority(os.PRIO_PROCESS, second) == 5, 10, "the restarted bridge at nice 5")
        until(lambda: all(api.devices()[d]["availability"] == "online" for d in BRIDGED), 60, "devices back online")
        until(lambda: not api.alarms("device_offline"), 30, "device-offline alarms resolved")

        r = api("POST", f"/api/v1/lockers/{b}/open", {"reason": "取证件 fetch papers"})
        assert r.status_code == 200, r.text
        until(lambda: any(lk["id"] == b and lk["door_open"] for lk in api("GET", "/api/v1/lockers").json()), 20,
              "the second opening reported")
    finally:
        ctl.stop()


def test_controller_killed_while_an_unsupervised_bridge_runs_loses_no_event(
        centre: tuple[MosquittoProcess, SimProcess, Path]) -> None:
    _, sim, tmp = centre
    data = tmp / "data"
    env = {"HCC_BRIDGE_MODE": "process", "HCC_BRIDGE_SUPERVISE": "0", "HCC_FAKE_CLOCK": "1"}
    ctl = ControllerProcess(data, site=sim.site, env=env)
    ctl.cli("migrate")
    add_staff(ctl, PASSWORD)
    bridge = Child([sys.executable, "-m", "controller.bridge"], log=data / "bridge-own.log", what="bridge",
                   env={**ctl.env}, cwd=ROOT, ready_line="bridge ready")
    bridge.start()
    try:
        ctl.start(timeout=60)
        api = Api(ctl)
        until(lambda: all(api.devices()[d]["availability"] == "online" for d in BRIDGED), 60, "devices online")
        assert ctl.proc is not None and _bridge_pid(ctl.proc.pid) is None  # not the controller's child

        ctl.kill()
        httpx.post(f"{sim.url}/devices/panic-wait-1/actions/press", json={"params": {}}, timeout=10
                   ).raise_for_status()
        ctl.start(timeout=60)
        api = Api(ctl)
        until(lambda: api.alarms("panic"), 30, "the press made while the controller was down")
        assert len(api.alarms("panic")) == 1
        assert bridge.alive()
        until(lambda: all(api.devices()[d]["availability"] == "online" for d in BRIDGED), 30, "devices online")
    finally:
        ctl.stop()
        bridge.stop()
