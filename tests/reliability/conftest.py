"""A live centre for the device-fault tests: a Mosquitto the test can stop and restart, hw_sim (every simulated
device on ptys and MQTT, ``--broker none``) and the real controller as a subprocess with its device bridge as a
process of its own (``HCC_BRIDGE_MODE=process``, supervised by the controller), driven only through its REST API and the simulator's control interface."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hw_sim.broker import MosquittoProcess, find_mosquitto
from tests.conftest import PASSWORD
from tests.reliability.checks import add_staff
from tests.reliability.harness import free_port
from tests.reliability.simproc import SimProcess
from tests.reliability.zygote import ForkedController, Zygote


def until(pred: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Bounded wait for real I/O (a reconnect, a restart, a device's report over a pty or the broker)."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@dataclass
class LiveCentre:
    broker: MosquittoProcess
    sim: SimProcess
    ctl: ForkedController
    token: str = ""

    def api(self, method: str, path: str, json: Any = None) -> httpx.Response:
        return httpx.request(method, f"{self.ctl.url}{path}", json=json, timeout=30,
                             headers={"Authorization": f"Bearer {self.token}"})

    def devices(self) -> dict[str, dict[str, Any]]:
        r = self.api("GET", "/api/v1/devices")
        assert r.status_code == 200, r.text
        return {d["id"]: d for d in r.json()}

    def alarms(self, kind: str, state: str = "open") -> list[dict[str, Any]]:
        r = self.api("GET", f"/api/v1/alarms?state={state}" if state else "/api/v1/alarms")
        assert r.status_code == 200, r.text
        return [a for a in r.json() if a["kind"] == kind]

    def until(self, pred: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
        return until(pred, timeout, what)

    def mqtt_ids(self) -> set[str]:
        return {i for i, d in self.devices().items() if d["kind"] not in ("lock_board", "id_reader", "metal_gate",
                                                                         "breathalyser", "capture_camera")}


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCentre]:
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed")
    tmp: Path = tmp_path_factory.mktemp("live")
    sim = SimProcess(tmp / "sim", grace_s=1.0, broker="none", mqtt_port=free_port())
    broker = MosquittoProcess(sim.mqtt_port, auth_dir=sim.credentials).start()  # accounts and ACL, as a site
    zygote = Zygote()
    # the devices in the bridge process, as a site runs them (issue 17): the controller supervises it
    ctl = ForkedController(zygote, tmp / "data", site=sim.site, env={"HCC_FAKE_CLOCK": "1", "HCC_BRIDGE_MODE": "process",
                                                                     "HCC_LOG_LEVEL": "WARNING"})
    try:
        sim.start()
        ctl.cli("migrate")
        add_staff(ctl, PASSWORD)
        ctl.start()
        r = httpx.post(f"{ctl.url}/api/v1/auth/login", json={"police_no": "2001", "password": PASSWORD}, timeout=30)
        centre = LiveCentre(broker, sim, ctl, r.json()["token"])
        centre.until(lambda: all(d["availability"] == "online" for d in centre.devices().values()),
                     timeout=60, what="every device online")
        yield centre
    finally:
        ctl.stop()
        zygote.close()
        sim.stop()
        broker.close()
