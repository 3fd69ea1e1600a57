"""Face capture through the API over the simulated camera's real HTTP MJPEG stream.

The controller's devicebus holds only the camera (pointed at a SimCamera on a free port); captures are real, so
the only waits are bounded waits for frames arriving over the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import os
import shutil
import stat
import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from controller.app import create_app
from controller.clock import FakeClock
from controller.container import Container, build
from controller.settings import Settings, parse_site
from devices.base import Availability
from hw_sim.camera import SimCamera
from tests.conftest import DEMO_SITE, Api, walk
from tests.unit.test_camera_quality import detector_params

CAM = "cam-collect"


def camera_site(url: str, model: Path | None | str) -> dict[str, Any]:
    """The demo site with only its capture camera, re-pointed at the simulator.

    ``model``: a YuNet model file, None for the Haar cascade, or "default" for the site's default (bundled YuNet).
    """
    raw = copy.deepcopy(tomllib.loads(DEMO_SITE.read_text(encoding="utf-8")))
    raw["devices"] = [dict(d, url=url) for d in raw["devices"] if d["id"] == CAM]
    raw["locker_banks"] = []
    raw["storage_locations"] = []  # they name compartments of the banks just removed
    for room in raw["rooms"]:
        for ref in ("recorder_id", "door_lock_id", "panic_button_id"):
            room.pop(ref, None)
    raw["capture"] = {"window_s": 5.0}
    raw["bridge"] = {"mode": "inprocess"}  # the camera on the test's loop (the bridge does not carry captures)
    if model is None:
        raw["capture"]["detector"] = "haar"
    elif model != "default":
        raw["capture"]["model_path"] = str(model)
    return raw


class Bench:
    def __init__(self, container: Container, sim: SimCamera, api: Api) -> None:
        self.container, self.sim, self.api = container, sim, api

    @property
    def data_dir(self) -> Path:
        return self.container.settings.data_dir

    async def online(self) -> None:
        adapter = self.container.devices.registry.get(CAM)
        await until(lambda: adapter.availability is Availability.ONLINE and adapter._latest is not None)


async def until(pred: Any, limit_s: float = 15.0) -> None:
    """A bounded wait for frames arriving over the socket."""
    async with asyncio.timeout(limit_s):
        while True:
            if pred():
                return
            await asyncio.sleep(0.02)


@pytest.fixture(params=detector_params())
async def bench(request: pytest.FixtureRequest, tmp_path: Path, template_db: Path) -> AsyncIterator[Bench]:
    """Each detector in turn: for what the detector changes (the accepted image and its report)."""
    async with camera_bench(request.param, tmp_path, template_db) as b:
        yield b


@pytest.fixture
async def site_bench(tmp_path: Path, template_db: Path) -> AsyncIterator[Bench]:
    """The site's default detector (the bundled YuNet): for the API paths the detector does not change."""
    async with camera_bench("default", tmp_path, template_db) as b:
        yield b


@contextlib.asynccontextmanager
async def camera_bench(model: Path | None | str, tmp_path: Path, template_db: Path) -> AsyncIterator[Bench]:
    sim = SimCamera(CAM, fps=15)
    await sim.start()
    settings = Settings(site_file=DEMO_SITE, data_dir=tmp_path / "data", fake_clock=True)
    settings.data_dir.mkdir()
    shutil.copyfile(template_db, settings.data_dir / "controller.db")
    c = build(settings, parse_site(camera_site(sim.url, model)),
              FakeClock(datetime(2026, 11, 22, 1, 0, tzinfo=UTC)), with_devices=True)
    bus = c.devices
    await bus.start()
    try:
        app = create_app(c, start_background=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            b = Bench(c, sim, Api(client))
            await b.online()
            yield b
    finally:
        await bus.stop()
        await sim.stop()
        c.db.close()


async def test_accepted_capture_is_stored_by_sha256_and_linked_by_the_collection_step(bench: Bench) -> None:
    api = bench.api
    stay = await walk(api, "searched")
    status, cap = await api.post("/api/v1/captures", {"camera_id": CAM, "stay_id": stay["id"]})
    assert status == 201, cap
    assert cap["report"]["ok"] and cap["report"]["failing_gate"] is None
    assert cap["elapsed_s"] >= 0 and cap["stay_id"] == stay["id"]
    assert cap["report"]["detector"] == ("yunet" if bench.container.site.capture.model_file else "haar")

    path = bench.data_dir / "captures" / cap["sha256"][:2] / f"{cap['sha256']}.jpg"
    raw = path.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == cap["sha256"] and raw[:2] == b"\xff\xd8"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700

    status, meta = await api.get(f"/api/v1/captures/{cap['capture_id']}")
    assert status == 200 and meta["sha256"] == cap["sha256"] and meta["camera_id"] == CAM

    status, after = await api.post(f"/api/v1/stays/{stay['id']}/collection",
                                   {"capture_id": cap["capture_id"], "fingerprints_taken": True, "dna_taken": False})
    assert status == 200, after
    assert after["state"] == "collected"
    assert after["collection"]["capture_id"] == cap["capture_id"]
    assert after["collection"]["capture_sha256"] == cap["sha256"]

    # the audit trail names the capture by its hash and never holds the image
    status, changes = await api.get("/api/v1/sync/changes?after=0&limit=5000", as_="9001")
    assert status == 200
    captured = [ch for ch in changes["changes"] if ch["type"] == "face_captured"]
    assert len(captured) == 1 and captured[0]["payload"]["sha256"] == cap["sha256"]
    assert "jpeg" not in str(captured[0]["payload"]).lower()


async def test_collection_refuses_a_capture_of_another_stay_or_an_unknown_one(bench: Bench) -> None:
    api = bench.api
    first = await walk(api, "searched")
    other = await walk(api, "searched")
    status, cap = await api.post("/api/v1/captures", {"camera_id": CAM, "stay_id": first["id"]})
    assert status == 201, cap
    body = {"capture_id": cap["capture_id"], "fingerprints_taken": True, "dna_taken": False}
    status, err = await api.post(f"/api/v1/stays/{other['id']}/collection", body)
    assert status == 422 and err["code"] == "CAPTURE_OTHER_STAY"
    status, err = await api.post(f"/api/v1/stays/{other['id']}/collection", {**body, "capture_id": "cap-nope"})
    assert status == 422 and err["code"] == "CAPTURE_NOT_FOUND"
    _, unchanged = await api.get(f"/api/v1/stays/{other['id']}")
    assert unchanged["state"] == "searched"


async def test_capture_in_the_dark_fails_naming_the_exposure_gate_and_stores_nothing(site_bench: Bench) -> None:
    bench = site_bench
    bench.sim.set_scenario("dark")
    status, err = await bench.api.post("/api/v1/captures", {"camera_id": CAM, "window_s": 1.0})
    assert status == 422, err
    assert err["code"] == "CAPTURE_FAILED"
    assert err["details"]["gate"] == "exposure"
    assert err["details"]["hint_zh"] and err["details"]["hint_zh"] in err["message"]
    assert err["details"]["frames"] >= 1
    assert not (bench.data_dir / "captures").exists() or not any((bench.data_dir / "captures").rglob("*.jpg"))


async def test_face_images_go_only_to_custody_staff_officers_and_supervisors(site_bench: Bench) -> None:
    bench = site_bench
    api = bench.api
    status, cap = await api.post("/api/v1/captures", {"camera_id": CAM})
    assert status == 201, cap
    url = f"/api/v1/captures/{cap['capture_id']}/image"
    for who in ("2001", "1001", "3001"):
        token = await api.login(who)
        r = await api.client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        assert hashlib.sha256(r.content).hexdigest() == cap["sha256"]
        assert r.headers["cache-control"] == "no-store"
    for who in ("9001", "9101"):
        status, err = await api.get(url, as_=who)
        assert status == 403 and err["code"] == "FORBIDDEN_ROLE"
    r = await api.client.get(url)
    assert r.status_code == 401
    status, err = await api.post("/api/v1/captures", {"camera_id": CAM}, as_="9001")
    assert status == 403
    status, err = await api.post("/api/v1/captures", {"camera_id": "no-such-cam"})
    assert status == 404


async def test_preview_serves_the_live_frame_with_its_failing_gate(site_bench: Bench) -> None:
    bench = site_bench
    api = bench.api
    token = await api.login("2001")
    base = f"/api/v1/captures/preview/{CAM}"
    r = await api.client.get(f"{base}?once=1&token={token}")  # as an <img> tag loads it: token in the query
    assert r.status_code == 200 and r.content[:2] == b"\xff\xd8"
    assert r.headers["x-quality-gate"] == "ok"

    bench.sim.set_scenario("dark")
    adapter = bench.container.devices.registry.get(CAM)
    seq = adapter._seq
    await until(lambda: adapter._seq >= seq + 3)  # dark frames have arrived
    r = await api.client.get(f"{base}/report", params={"token": token})
    assert r.status_code == 200
    rep = r.json()
    assert rep["ok"] is False and rep["failing_gate"] == "exposure" and rep["hint_zh"]

    r = await api.client.get(f"{base}?frames=2&token={token}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("multipart/x-mixed-replace")
    assert r.content.count(b"Content-Type: image/jpeg") == 2
    assert b"X-Quality-Gate: exposure" in r.content

    metrics = (await api.client.get("/metrics")).text  # the devicebus's camera as a gauge
    assert f'hcc_device_up{{device="{CAM}",kind="capture_camera"}} 1' in metrics

    admin = await api.login("9001")
    assert (await api.client.get(f"{base}?once=1&token={admin}")).status_code == 403
    assert (await api.client.get(f"{base}?once=1")).status_code == 401
    # the query token is accepted on the preview only
    assert (await api.client.get(f"/api/v1/stays?token={token}")).status_code == 401
