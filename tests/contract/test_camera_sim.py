"""The production CameraAdapter against the simulated camera over real HTTP MJPEG on 127.0.0.1.

Captures are bounded by frame count or an injected clock, never by sleeping; the only waits are bounded waits for
real socket events (the adapter's availability changing as the stream comes and goes).
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.base import Adapter, Availability, AvailabilityChanged, DeviceEvent, DeviceUnavailable
from devices.camera import CameraAdapter, CaptureFailed, FaceDetector, FaceDetectorConfig
from hw_sim.base import SimDevice
from hw_sim.camera import SimCamera, scene
from tests.unit.test_camera_quality import detector_params


class Watched:
    """An adapter with the events it emitted, and a bounded wait for an availability."""

    def __init__(self, adapter_factory: Callable[[Callable[[DeviceEvent], Awaitable[None]]], CameraAdapter]) -> None:
        self.events: list[DeviceEvent] = []
        self._changed = asyncio.Condition()
        self.adapter = adapter_factory(self._on_event)

    async def _on_event(self, event: DeviceEvent) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def until(self, availability: Availability, limit_s: float = 10.0) -> None:
        async with asyncio.timeout(limit_s), self._changed:
            await self._changed.wait_for(lambda: self.adapter.availability is availability)


MakeCamera = Callable[..., Awaitable[Watched]]


@pytest.fixture
async def sim() -> AsyncIterator[SimCamera]:
    cam = SimCamera("cam-test", fps=20)
    await cam.start()
    yield cam
    await cam.stop()


@pytest.fixture
async def make_camera() -> AsyncIterator[MakeCamera]:
    started: list[CameraAdapter] = []

    async def make(url: str, model: Path | None = None, online: bool = True) -> Watched:
        detector = FaceDetector(FaceDetectorConfig(model_path=model))
        watched = Watched(lambda sink: CameraAdapter("cam-test", url, detector=detector, on_event=sink,
                                                     reconnect_min_s=0.05, reconnect_max_s=0.2))
        started.append(watched.adapter)
        await watched.adapter.start()
        if online:
            await watched.until(Availability.ONLINE)
        return watched

    yield make
    for adapter in started:
        await adapter.stop()


@pytest.mark.parametrize("model", detector_params())
async def test_capture_on_good_stream_returns_an_accepted_jpeg_named_by_its_sha256(
        sim: SimCamera, make_camera: MakeCamera, model: Path | None) -> None:
    camera = (await make_camera(sim.url, model)).adapter
    result = await camera.capture(window_s=30.0, max_frames=10)
    assert result.report.ok and result.report.failing_gate is None
    assert result.sha256 == hashlib.sha256(result.jpeg).hexdigest()
    image = cv2.imdecode(np.frombuffer(result.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (480, 640, 3) and (result.width, result.height) == (640, 480)
    assert 1 <= result.frames <= 10
    assert camera.last_seen is not None
    assert isinstance(camera, Adapter) and isinstance(sim, SimDevice)


@pytest.mark.parametrize("model", detector_params())
@pytest.mark.parametrize(("scenario", "gate", "hint_zh"), [
    ("blurred", "sharpness", "请保持不动"),
    ("dark", "exposure", "光线不足，请补光"),
    ("no_face", "one_face", "未检测到人脸，请正对摄像头"),
    ("two_faces", "one_face", "画面中只能有一人"),
    ("turned_head", "pose", "请正对摄像头，头部摆正"),
])
async def test_capture_that_never_passes_names_the_failing_gate(
        sim: SimCamera, make_camera: MakeCamera, model: Path | None, scenario: str, gate: str, hint_zh: str) -> None:
    sim.set_scenario(scenario)  # before connecting, so no good frame is in flight
    camera = (await make_camera(sim.url, model)).adapter
    with pytest.raises(CaptureFailed) as failed:
        await camera.capture(window_s=30.0, max_frames=3)
    err = failed.value
    assert err.gate == gate and err.code == "CAPTURE_FAILED" and err.device_id == "cam-test"
    assert err.failures == {gate: 3} and err.frames == 3
    assert err.hint_zh == hint_zh and err.hint_en
    assert err.details()["report"]["failing_gate"] == gate


async def test_capture_window_is_measured_by_the_injected_clock(sim: SimCamera, make_camera: MakeCamera) -> None:
    sim.set_scenario("blurred")
    camera = (await make_camera(sim.url)).adapter
    ticks = iter(range(1000))
    with pytest.raises(CaptureFailed) as failed:  # each clock reading is one second later: the 3 s window ends fast
        await camera.capture(window_s=3.0, clock=lambda: float(next(ticks)))
    assert failed.value.gate == "sharpness" and failed.value.frames == 1


async def test_a_scenario_switched_mid_stream_reaches_the_capture(sim: SimCamera, make_camera: MakeCamera) -> None:
    camera = (await make_camera(sim.url)).adapter
    assert (await camera.capture(window_s=30.0, max_frames=10)).report.ok
    sim.set_fault("dark")
    gates = []
    for _ in range(20):  # a frame or two already in flight may still be good: one frame per capture until dark
        try:
            await camera.capture(window_s=30.0, max_frames=1)
            gates.append(None)
        except CaptureFailed as failed:
            gates.append(failed.gate)
            break
    assert gates[-1] == "exposure" and len(gates) <= 5
    assert sim.info()["faults"] == ["dark"]
    sim.clear_fault("dark")
    assert sim.info()["faults"] == [] and sim.scenario == "good"


async def test_preview_shows_the_newest_frame_and_its_failing_gate(sim: SimCamera, make_camera: MakeCamera) -> None:
    sim.set_scenario("dark")
    camera = (await make_camera(sim.url)).adapter
    preview = await camera.latest_preview()
    assert preview is not None
    assert preview.report.failing_gate == "exposure" and preview.report.hint_en.startswith("Too dark")
    assert cv2.imdecode(np.frombuffer(preview.jpeg, np.uint8), cv2.IMREAD_COLOR).shape == (480, 640, 3)


async def test_stream_dropped_goes_offline_then_recovers_when_the_camera_returns(
        sim: SimCamera, make_camera: MakeCamera) -> None:
    watched = await make_camera(sim.url)
    camera = watched.adapter
    await sim.stop()  # the camera goes away: open streams cut, port closed
    await watched.until(Availability.OFFLINE)
    with pytest.raises(DeviceUnavailable):
        await camera.capture(window_s=30.0, max_frames=3)
    assert await camera.latest_preview() is None
    await sim.start()  # back on the same port; the adapter reconnects by itself
    await watched.until(Availability.ONLINE)
    assert (await camera.capture(window_s=30.0, max_frames=10)).report.ok
    assert camera.reconnects >= 1
    changes = [e.availability for e in watched.events if isinstance(e, AvailabilityChanged)]
    assert changes == [Availability.ONLINE, Availability.OFFLINE, Availability.ONLINE]


async def test_offline_fault_cuts_the_stream_and_clearing_it_restores_it(
        sim: SimCamera, make_camera: MakeCamera) -> None:
    watched = await make_camera(sim.url)
    sim.set_fault("offline")
    await watched.until(Availability.OFFLINE)
    assert sim.info()["offline"] is True and sim.info()["clients"] == 0
    sim.clear_fault()
    await watched.until(Availability.ONLINE)
    assert (await watched.adapter.capture(window_s=30.0, max_frames=10)).report.ok


async def test_absent_camera_does_not_fail_start_and_reports_offline(make_camera: MakeCamera) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    watched = await make_camera(f"http://127.0.0.1:{port}/cam-test.mjpg", online=False)
    await watched.until(Availability.OFFLINE)
    with pytest.raises(DeviceUnavailable):
        await watched.adapter.capture(window_s=30.0, max_frames=3)
    assert watched.adapter.last_seen is None


async def test_simulator_refuses_unknown_faults_and_serves_404_elsewhere(sim: SimCamera) -> None:
    with pytest.raises(ValueError):
        sim.set_fault("melted")
    with pytest.raises(ValueError):
        sim.set_scenario("offline")
    reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
    try:
        writer.write(b"GET /other.mjpg HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), timeout=5.0)
    finally:
        writer.close()
        await writer.wait_closed()
    assert status.startswith(b"HTTP/1.0 404")


async def test_capture_from_a_video_file(tmp_path: Path, make_camera: MakeCamera) -> None:
    path = tmp_path / "kiosk.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (640, 480))
    assert writer.isOpened()
    for name in ("blurred", "good", "good", "good", "good"):
        writer.write(scene(name))
    writer.release()
    camera = (await make_camera(str(path))).adapter
    result = await camera.capture(window_s=30.0, max_frames=10)
    assert result.report.ok


async def test_a_failing_event_handler_does_not_stop_the_camera(sim: SimCamera) -> None:
    def broken(event: DeviceEvent) -> None:
        raise RuntimeError("subscriber bug")

    camera = CameraAdapter("cam-test", sim.url, on_event=broken)
    await camera.start()
    try:
        result = await camera.capture(window_s=30.0, max_frames=10)  # waits for the first frames itself
        assert result.report.ok and camera.availability is Availability.ONLINE
    finally:
        await camera.stop()
