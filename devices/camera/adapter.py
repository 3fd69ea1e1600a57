"""The capture camera's adapter: reads frames off the event loop, keeps availability, and captures the best face.

Blocking OpenCV work crosses one boundary, ``asyncio.to_thread``: one call per frame read (by the adapter's single
reader task) and one per quality assessment. A read the adapter must abandon (on stop) is awaited to its end before
the capture is released, so no thread is left holding a freed VideoCapture. FFmpeg's open and read timeouts bound
every blocking call. When the stream drops the adapter goes offline and reopens it with backoff.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import cv2
import numpy as np

from devices.adapter import AdapterBase
from devices.base import (
    Availability,
    DeviceError,
    DeviceTimeout,
    DeviceUnavailable,
    EventSink,
)
from devices.camera.quality import GATE_ORDER, FaceDetector, QualityReport, QualityThresholds, assess

log = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], float]


class FrameSource(Protocol):
    """What the adapter needs of a ``cv2.VideoCapture``."""

    def read(self) -> tuple[bool, Any]: ...

    def release(self) -> None: ...

    def isOpened(self) -> bool: ...  # noqa: N802 - OpenCV's name


class CaptureFailed(DeviceError):
    """No frame passed every gate within the window; ``gate`` is the one that failed most often."""

    code = "CAPTURE_FAILED"
    message_zh = "人像采集未通过"

    def __init__(self, gate: str, *, hint_zh: str, hint_en: str, failures: dict[str, int], frames: int,
                 report: QualityReport | None, device_id: str | None = None) -> None:
        super().__init__(f"capture failed on gate {gate} in {frames} frames: {hint_en}", device_id=device_id)
        self.gate = gate
        self.hint_zh = hint_zh
        self.hint_en = hint_en
        self.failures = failures
        self.frames = frames
        self.report = report

    def details(self) -> dict[str, Any]:
        return {"gate": self.gate, "hint_zh": self.hint_zh, "hint_en": self.hint_en, "failures": self.failures,
                "frames": self.frames, "report": self.report.as_dict() if self.report else None}


@dataclass(frozen=True, slots=True)
class CaptureResult:
    """An accepted face image: JPEG bytes, their sha256 (the storage name) and the frame's quality report."""

    jpeg: bytes
    sha256: str
    report: QualityReport
    frames: int  # frames assessed before acceptance
    elapsed_s: float
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Preview:
    """The newest frame for the kiosk's live view, with its quality report (the failing gate to show)."""

    jpeg: bytes
    report: QualityReport
    seq: int
    received_at: float  # wall-clock time the frame arrived


@dataclass(slots=True)
class _Frame:
    seq: int
    image: np.ndarray
    received_at: float


def open_video(url: str, open_timeout_s: float, read_timeout_s: float) -> cv2.VideoCapture:
    """Open a VideoCapture by URL: a device index ("0"), a file, or a stream (http MJPEG, rtsp) with timeouts."""
    if url.isdigit():
        return cv2.VideoCapture(int(url))
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(open_timeout_s * 1000),
              cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(read_timeout_s * 1000)]
    return cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)


async def _blocking(fn: Callable[..., T], *args: Any, abandon: Callable[[T], Any] | None = None) -> T:
    """Run a blocking call in a worker thread; if cancelled meanwhile, let the call finish before re-raising.

    ``abandon`` receives the result of a call whose caller was cancelled (to release what it opened).
    """
    fut = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    try:
        return await asyncio.shield(fut)
    except asyncio.CancelledError:
        await asyncio.wait([fut])
        if abandon is not None and not fut.cancelled() and fut.exception() is None:
            abandon(fut.result())
        raise


class CameraAdapter(AdapterBase):
    """A face-capture camera configured by URL; ``capture()`` returns the best passing frame of a short window.
    Availability, last seen and the event sink come from :class:`~devices.adapter.AdapterBase`."""

    kind = "capture_camera"

    def __init__(
        self,
        device_id: str,
        url: str,
        *,
        detector: FaceDetector | None = None,
        thresholds: QualityThresholds | None = None,
        on_event: EventSink | None = None,
        clock: Clock = time.monotonic,
        reconnect_min_s: float = 0.2,
        reconnect_max_s: float = 10.0,
        open_timeout_s: float = 5.0,
        read_timeout_s: float = 3.0,
        jpeg_quality: int = 92,
        opener: Callable[[str], FrameSource] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(device_id, on_event, options=options)
        self.url = url
        self.detector = detector or FaceDetector()
        self.thresholds = thresholds or QualityThresholds()
        self._capture_clock = clock  # the capture window's clock (monotonic); last seen is wall-clock time
        self._reconnect = (reconnect_min_s, reconnect_max_s)
        self._timeouts = (open_timeout_s, read_timeout_s)
        self._jpeg_quality = jpeg_quality
        self._opener = opener
        self._is_file = Path(url).is_file()
        self._latest: _Frame | None = None
        self._seq = 0
        self._new_frame = asyncio.Event()
        self._assess_lock = asyncio.Lock()  # one assessment at a time: no second worker thread waits on the detector
        self._preview: Preview | None = None
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0

    # --- Adapter protocol -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Begin reading; never raises for an absent camera (the reader retries with backoff)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"camera-{self.device_id}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            self._set_availability(Availability.OFFLINE, "adapter stopped / 已停止")
        await self._stop_events()

    # --- reading ----------------------------------------------------------------------------------------------

    def _open(self) -> FrameSource | None:
        source: FrameSource = (self._opener(self.url) if self._opener is not None
                               else open_video(self.url, *self._timeouts))
        if not source.isOpened():
            source.release()
            return None
        return source

    async def _run(self) -> None:
        delay = self._reconnect[0]
        while True:
            try:
                source = await _blocking(self._open, abandon=lambda src: src and src.release())
                if source is None:
                    self._set_availability(Availability.OFFLINE, "stream did not open / 视频流无法打开")
                else:
                    try:
                        if await self._read_all(source):
                            delay = self._reconnect[0]
                    finally:
                        await _blocking(source.release)
                    self._set_availability(Availability.OFFLINE, "stream ended / 视频流中断")
            except (cv2.error, OSError) as exc:  # a backend failure must not end the reader: retry like a drop
                log.warning("camera %s read failed: %s", self.device_id, exc)
                self._set_availability(Availability.OFFLINE, "stream error / 视频流错误")
            self.reconnects += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._reconnect[1])

    async def _read_all(self, source: FrameSource) -> bool:
        """Read frames until the stream ends; True if at least one frame came."""
        pace = 0.0
        if self._is_file:  # a video file is played at its own rate, not decoded flat out
            fps = source.get(cv2.CAP_PROP_FPS) if hasattr(source, "get") else 0.0
            pace = 1.0 / fps if fps and fps > 0 else 0.04
        got = False
        while True:
            ok, image = await _blocking(source.read)
            if not ok or image is None:
                return got
            got = True
            self._seq += 1
            self._latest = _Frame(self._seq, image, time.time())
            self._last_seen = self._latest.received_at
            event, self._new_frame = self._new_frame, asyncio.Event()
            event.set()
            if self._availability is not Availability.ONLINE:
                self._set_availability(Availability.ONLINE, "streaming / 视频流正常")
            if pace:
                await asyncio.sleep(pace)

    async def _next_frame(self, after: int, wait_s: float) -> _Frame | None:
        """The first frame newer than ``after``, waiting at most ``wait_s`` seconds of real time for it."""
        latest = self._latest
        if latest is not None and latest.seq > after:
            return latest
        try:
            await asyncio.wait_for(self._new_frame.wait(), timeout=max(wait_s, 0.0))
        except TimeoutError:
            return None
        return self._latest

    # --- quality ----------------------------------------------------------------------------------------------

    async def _assess(self, image: np.ndarray, thresholds: QualityThresholds) -> QualityReport:
        async with self._assess_lock:
            return await _blocking(assess, image, self.detector, thresholds)

    def _encode(self, image: np.ndarray) -> bytes:
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self._jpeg_quality])
        if not ok:
            raise DeviceError("JPEG encoding failed", device_id=self.device_id)
        return bytes(buf.tobytes())

    async def latest_preview(self, thresholds: QualityThresholds | None = None) -> Preview | None:
        """The newest frame as JPEG with its report; None before the first frame or while the camera is offline."""
        frame = self._latest
        if frame is None or self._availability is Availability.OFFLINE:
            return None
        cached = self._preview
        if cached is not None and cached.seq == frame.seq:
            return cached
        report = await self._assess(frame.image, thresholds or self.thresholds)
        jpeg = await _blocking(self._encode, frame.image)
        self._preview = Preview(jpeg, report, frame.seq, frame.received_at)
        return self._preview

    async def capture(
        self,
        window_s: float = 2.0,
        thresholds: QualityThresholds | None = None,
        *,
        clock: Clock | None = None,
        max_frames: int | None = None,
        enough_passing: int = 3,
        frame_timeout_s: float = 3.0,
    ) -> CaptureResult:
        """The best frame passing every gate among those arriving within ``window_s`` (by ``clock``).

        Stops early once ``enough_passing`` frames have passed, or after ``max_frames`` assessed frames. Raises
        ``CaptureFailed`` naming the gate that failed most, ``DeviceUnavailable`` when the camera is offline, and
        ``DeviceTimeout`` when no frame arrives for ``frame_timeout_s`` seconds.
        """
        clock = clock or self._capture_clock
        t = thresholds or self.thresholds
        if self._availability is Availability.OFFLINE:
            raise DeviceUnavailable("camera offline", device_id=self.device_id)
        start = clock()
        deadline = start + window_s
        seen = self._seq  # only frames taken after the request count
        best: tuple[QualityReport, np.ndarray] | None = None
        passing = 0
        failures: Counter[str] = Counter()
        last_failed: dict[str, QualityReport] = {}
        frames = 0
        while clock() < deadline and (max_frames is None or frames < max_frames) and passing < enough_passing:
            frame = await self._next_frame(seen, min(deadline - clock(), frame_timeout_s))
            if frame is None:
                if frames == 0 and self._availability is not Availability.ONLINE:
                    raise DeviceUnavailable("camera offline", device_id=self.device_id)
                break
            seen = frame.seq
            report = await self._assess(frame.image, t)
            frames += 1
            if report.ok:
                passing += 1
                if best is None or report.score > best[0].score:
                    best = (report, frame.image)
            else:
                gate = report.failing_gate or "unknown"
                failures[gate] += 1
                last_failed[gate] = report
        if best is not None:
            report, image = best
            jpeg = await _blocking(self._encode, image)
            return CaptureResult(jpeg, hashlib.sha256(jpeg).hexdigest(), report, frames, clock() - start,
                                 image.shape[1], image.shape[0])
        if frames == 0:
            raise DeviceTimeout("no frame from the camera within the window", device_id=self.device_id)
        # The gate that failed most; on a tie, the one a person should fix first.
        gate = max(failures, key=lambda g: (failures[g], -_gate_rank(g)))
        failing = last_failed[gate]
        raise CaptureFailed(gate, hint_zh=failing.hint_zh, hint_en=failing.hint_en, failures=dict(failures),
                            frames=frames, report=failing, device_id=self.device_id)


def _gate_rank(gate: str) -> int:
    return GATE_ORDER.index(gate) if gate in GATE_ORDER else len(GATE_ORDER)


__all__ = ["CameraAdapter", "CaptureFailed", "CaptureResult", "Preview", "open_video"]
