"""A centre on the bench: real Mosquitto, every simulated device of the demo site (ptys, MQTT clients), and the
real controller (container + devicebus + API) on a fresh database, in one event loop."""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import socket
import tomllib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from controller import ops
from controller.app import create_app
from controller.clock import FakeClock
from controller.container import Container, build
from controller.settings import Settings, parse_site
from hw_sim.broker import start_broker
from hw_sim.site import SimSite
from tests.conftest import DEMO_SITE, Api

KEEP_READERS = {"band-wait-1", "band-wait-2", "band-int-1", "band-search"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_site(run_dir: Path, mqtt_port: int) -> dict[str, Any]:
    """The demo site re-pointed at this test's broker and ptys (no camera: tested in tests/contract)."""
    raw = copy.deepcopy(tomllib.loads(DEMO_SITE.read_text(encoding="utf-8")))
    raw["mqtt"]["url"] = f"mqtt://127.0.0.1:{mqtt_port}"
    devices = []
    for d in raw["devices"]:
        if d["kind"] == "capture_camera" or (d["kind"] == "wristband_reader" and d["id"] not in KEEP_READERS):
            continue
        if d["url"].startswith("mqtt://"):
            d["url"] = raw["mqtt"]["url"]
        elif d["url"].startswith("var/sim/"):
            d["url"] = str(run_dir / d["url"].removeprefix("var/sim/"))
        d.setdefault("options", {})
        if d["kind"] == "recorder":
            d["options"]["command_timeout_s"] = 3
        devices.append(d)
    raw["devices"] = devices
    raw["timing"]["device_offline_grace_s"] = 1
    # the devicebus on the test's own event loop, so a test can reach its adapters; the bridge process is driven
    # by tests/reliability (HCC_BRIDGE_MODE=process overrides this) and tests/e2e (the demo site as it is)
    raw["bridge"] = {"mode": "inprocess"}
    return raw


@dataclass
class Centre:
    container: Container
    sims: SimSite
    api: Api
    mqtt_clients: dict[str, Any]  # the broker accounts of `devices credentials` (user -> password, key)

    @property
    def bus(self) -> Any:
        return self.container.devices

    def sim(self, device_id: str) -> Any:
        return self.sims.sims[device_id]

    async def until(self, pred: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:  # noqa: ASYNC109
        """Waits (bounded) for real I/O to arrive: a device event over a pty or the broker."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = pred()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)

    async def walk(self, to: str = "waiting", body: dict[str, Any] | None = None, room: str = "wait-1") -> dict:
        """Intake through the devices: the subject's things go in, the door is shut, then placement."""
        from tests.conftest import walk

        stay = await walk(self.api, "property_stored", body)
        if to == "property_stored":
            return stay
        locker = stay["property"]["locker_id"]
        bus_id, board, channel = self.bus.lockers[locker]

        async def door_open() -> bool:
            _, lockers = await self.api.get("/api/v1/lockers")
            return bool(next(lk for lk in lockers if lk["id"] == locker)["door_open"])

        # The board's report of the opening arrives after the step's answer (through the device's intake queue):
        # wait for it, or "closed" below could be read before the door was ever seen open.
        await self.until(door_open, what="locker door reported open")
        self.sim(bus_id).put_item(board, channel)
        self.sim(bus_id).close_door(board, channel)

        async def closed() -> bool:
            return not await door_open()

        await self.until(closed, what="locker door closed")
        status, stay = await self.api.post(f"/api/v1/stays/{stay['id']}/placement", {"room_id": room})
        assert status == 200, stay
        return stay

    async def alarms(self, kind: str | None = None) -> list[dict[str, Any]]:
        _, rows = await self.api.get("/api/v1/alarms?state=open")
        return [a for a in rows if kind is None or a["kind"] == kind]


@pytest.fixture
async def centre(tmp_path: Path, template_db: Path) -> AsyncIterator[Centre]:
    run_dir = tmp_path / "sim"
    run_dir.mkdir()
    # The broker as production runs it: every client with its own account, the generated ACL, no anonymous clients.
    port = free_port()
    raw = bench_site(run_dir, port)
    creds = tmp_path / "mqtt"
    ops.issue_credentials(parse_site(raw), creds)
    raw["mqtt"] |= {"username": "controller", "password_file": str(creds / "controller.password"),
                    "device_keys_dir": str(creds / "keys")}
    broker = await start_broker(port, auth_dir=creds)
    sims = SimSite(raw, run_dir, credentials=creds / "credentials.json")
    sims.build()
    await sims.start()
    settings = Settings(site_file=DEMO_SITE, data_dir=tmp_path / "data", fake_clock=True)
    settings.data_dir.mkdir()
    shutil.copyfile(template_db, settings.data_dir / "controller.db")
    container = build(settings, parse_site(raw), FakeClock(datetime(2026, 11, 22, 1, 0, tzinfo=UTC)),
                      with_devices=True)
    bus = container.devices
    await bus.start()
    app = create_app(container, start_background=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            clients = json.loads((creds / "credentials.json").read_text())["clients"]
            centre = Centre(container, sims, Api(client), clients)
            await centre.until(lambda: all(d["availability"] == "online" for d in bus.snapshot()
                                           if d["kind"] in ("recorder", "door_lock", "lock_board")),
                               timeout=15, what="devices online")
            yield centre
    finally:
        await bus.stop()
        container.db.close()
        await sims.stop()
        await broker.stop()
