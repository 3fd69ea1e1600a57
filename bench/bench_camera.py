"""Camera benchmark: the quality pipeline's per-frame cost against the bare detector call, and capture latency.

``python -m bench.bench_camera`` writes bench/results/camera.json. For each detector (Haar, and the YuNet model
bundled in ``devices/camera/models/``):

- ``quality_pipeline_<detector>``: per-frame time of ``assess()`` (downscale, detect, every gate) against the bare
  OpenCV detection call on the same, already prepared, input, over the simulator's real-image scenes; the two are
  timed in alternating rounds so load from other work on the machine hits both alike. Target ratio <= 1.3.
- ``capture_to_accepted_<detector>``: time from ``CameraAdapter.capture()`` to the accepted image on the simulated
  MJPEG stream (15 fps, real HTTP on 127.0.0.1), against the time to read one frame from that stream with a bare
  VideoCapture. Capture takes the best of 3 passing frames, so about 3 frame times is the floor; target <= 6.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import cv2

from bench.report import figure, write
from devices.base import Availability
from devices.camera import CameraAdapter, FaceDetector, FaceDetectorConfig, QualityThresholds, assess
from devices.camera.adapter import open_video
from devices.camera.quality import BUNDLED_YUNET
from hw_sim.camera import SCENARIOS, SimCamera, scene

FPS = 15.0


def pipeline_vs_detector(detector: FaceDetector, rounds: int = 15) -> dict:
    thresholds = QualityThresholds()
    frames = [scene(name) for name in SCENARIOS]
    prepared = [detector.prepare(frame, thresholds.detect_width)[0] for frame in frames]
    for _ in range(2):  # warm up both paths (model init, cascade buffers)
        for small in prepared:
            detector.detect_prepared(small)
        for frame in frames:
            assess(frame, detector, thresholds)
    bare, whole = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for small in prepared:
            detector.detect_prepared(small)
        bare.append((time.perf_counter() - start) / len(frames))
        start = time.perf_counter()
        for frame in frames:
            assess(frame, detector, thresholds)
        whole.append((time.perf_counter() - start) / len(frames))
    return figure(f"quality_pipeline_{detector.backend}",
                  f"per-frame time: whole quality pipeline vs bare detector call ({len(frames)} real-image frames)",
                  "ms", statistics.median(whole) * 1000, statistics.median(bare) * 1000, target=1.3,
                  runs=rounds * len(frames))


def frame_read_time(url: str, reads: int = 15) -> float:
    """Median seconds of one blocking read from the stream with a bare VideoCapture."""
    cap = open_video(url, 5.0, 5.0)
    try:
        if not cap.read()[0]:
            raise RuntimeError(f"no frame from {url}")
        times = []
        for _ in range(reads):
            start = time.perf_counter()
            if not cap.read()[0]:
                raise RuntimeError(f"stream {url} ended")
            times.append(time.perf_counter() - start)
        return statistics.median(times)
    finally:
        cap.release()


async def capture_latency(model: Path | None, runs: int = 8) -> dict:
    sim = SimCamera("cam-bench", fps=FPS)
    await sim.start()
    online = asyncio.Event()
    adapter = CameraAdapter("cam-bench", sim.url, detector=FaceDetector(FaceDetectorConfig(model_path=model)),
                            on_event=lambda e: online.set() if getattr(e, "availability", None)
                            is Availability.ONLINE else None)
    try:
        baseline = await asyncio.to_thread(frame_read_time, sim.url)
        await adapter.start()
        await asyncio.wait_for(online.wait(), timeout=10.0)
        await adapter.capture(window_s=5.0)  # warm-up
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            result = await adapter.capture(window_s=5.0)
            times.append(time.perf_counter() - start)
            assert result.report.ok
        return figure(f"capture_to_accepted_{adapter.detector.backend}",
                      f"capture request to accepted image, simulated MJPEG {FPS:g} fps; "
                      "baseline: one frame read from the stream", "ms",
                      statistics.median(times) * 1000, baseline * 1000, target=6.0, runs=runs)
    finally:
        await adapter.stop()
        await sim.stop()


def main() -> None:
    models: list[Path | None] = [None, BUNDLED_YUNET]
    figures = [pipeline_vs_detector(FaceDetector(FaceDetectorConfig(model_path=m))) for m in models]
    for m in models:
        figures.append(asyncio.run(capture_latency(m)))
    write("camera", figures)


if __name__ == "__main__":
    cv2.setLogLevel(0) if hasattr(cv2, "setLogLevel") else None
    main()
