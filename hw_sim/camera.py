"""Simulated face-capture camera: an HTTP MJPEG stream of real face images, with the bad cases switchable at run time.

The frames come from the public-domain astronaut photograph in ``hw_sim/assets/`` (see its README) and are derived
from it with OpenCV: blurred, darkened, two faces side by side, cropped to no face, and a head turned and tilted.
The stream is ``multipart/x-mixed-replace`` over a real TCP socket, which OpenCV's VideoCapture (FFmpeg) reads like
an IP camera's. Fault ``offline`` stops serving: open streams are cut and new connections closed unanswered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from hw_sim.base import OFFLINE

log = logging.getLogger(__name__)

ASSET = Path(__file__).parent / "assets" / "astronaut.jpg"
FRAME_SIZE = (640, 480)
SCENARIOS = ("good", "no_face", "two_faces", "blurred", "dark", "turned_head", "far")
BOUNDARY = "hccframe"

# Where the face is in the "good" frame (640x480), measured once; used to shape the turned-head warp.
_FACE_CENTRE = (280.0, 150.0)
_NOSE = (280.0, 160.0)


@cache
def _base() -> np.ndarray:
    img = cv2.imread(str(ASSET), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f"camera simulator asset missing: {ASSET}")
    return img


def scene(name: str) -> np.ndarray:
    """One 640x480 BGR frame of a scenario, derived from the astronaut photograph."""
    base = _base()
    w, h = FRAME_SIZE
    good = cv2.resize(base[0:384, 0:512], (w, h), interpolation=cv2.INTER_AREA)
    if name == "good":
        return good
    if name == "blurred":  # as if the person moved during exposure
        return cv2.GaussianBlur(good, (0, 0), 3.0)
    if name == "dark":
        return cv2.convertScaleAbs(good, alpha=0.22, beta=0)
    if name == "no_face":  # the camera sees the suit and helmet only
        return cv2.resize(base[280:512, 0:512], (w, h), interpolation=cv2.INTER_AREA)
    if name == "far":  # the whole picture shrunk to 60 %: the face is too small
        out = np.full((h, w, 3), 200, np.uint8)
        sw, sh = w * 3 // 5, h * 3 // 5
        x0, y0 = (w - sw) // 2, (h - sh) // 2
        out[y0:y0 + sh, x0:x0 + sw] = cv2.resize(good, (sw, sh), interpolation=cv2.INTER_AREA)
        return out
    if name == "two_faces":  # the head and its mirror image side by side
        face = cv2.resize(base[20:260, 100:340], (320, 320), interpolation=cv2.INTER_AREA)
        out = np.full((h, w, 3), 200, np.uint8)
        out[80:400, 0:320] = face
        out[80:400, 320:640] = cv2.flip(face, 1)
        return out
    if name == "turned_head":
        return _turned(good, yaw_deg=35.0, roll_deg=22.0)
    raise ValueError(f"unknown camera scenario {name!r}; known: {', '.join(SCENARIOS)}")


def _turned(img: np.ndarray, yaw_deg: float, roll_deg: float) -> np.ndarray:
    """Turn the head about a vertical axis (depth = a half-ellipsoid plus a nose), then tilt it."""
    h, w = img.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    cx, cy = _FACE_CENTRE
    u, v = (xs - cx) / 62.0, (ys - cy) / 85.0
    depth = np.sqrt(np.clip(1 - u * u - v * v, 0, None)) * 37.0
    depth += 50.0 * np.exp(-(((xs - _NOSE[0]) / 16.0) ** 2 + ((ys - _NOSE[1]) / 28.0) ** 2))
    map_x = (xs - depth * np.sin(np.radians(yaw_deg))).astype(np.float32)
    out = cv2.remap(img, map_x, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    rot = cv2.getRotationMatrix2D((cx, cy), roll_deg, 1.0)
    return cv2.warpAffine(out, rot, (w, h), borderMode=cv2.BORDER_REPLICATE)


@cache
def scene_jpeg(name: str) -> bytes:
    ok, buf = cv2.imencode(".jpg", scene(name), [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


class SimCamera:
    """A capture camera on ``http://127.0.0.1:<port>/<device_id>.mjpg`` (or ``path``), switchable between scenarios.

    ``/snapshot.jpg`` on the same port answers one JPEG of the current scenario.
    """

    kind = "capture_camera"
    FAULTS: ClassVar[tuple[str, ...]] = (OFFLINE, *SCENARIOS[1:])
    ACTIONS: ClassVar[tuple[str, ...]] = ("set_scenario",)

    def __init__(self, device_id: str = "cam-collect", *, host: str = "127.0.0.1", port: int = 0,
                 fps: float = 10.0, path: str | None = None) -> None:
        self.device_id = device_id
        self.host = host
        self._port = port
        self._path = path or f"/{device_id}.mjpg"
        self.fps = fps
        self.scenario = "good"
        self.offline = False
        self.frames_sent = 0
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()

    @property
    def port(self) -> int:
        return self._port

    @property
    def path(self) -> str:
        return self._path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}{self.path}"

    async def start(self) -> None:
        """Listen (again on the same port after a stop) and serve the stream."""
        if self._server is not None:
            return
        for name in SCENARIOS:  # encode once, before the first client, off the loop
            await asyncio.to_thread(scene_jpeg, name)
        self._server = await asyncio.start_server(self._handle, self.host, self._port, reuse_address=True)
        self._port = self._server.sockets[0].getsockname()[1]
        log.info("sim camera %s serving %s", self.device_id, self.url)

    async def stop(self) -> None:
        """Stop listening and cut every open stream."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self._cut_clients()
        self._changed.set()  # wake paced streams so they see their connection is gone
        if self._handlers:
            _, late = await asyncio.wait(list(self._handlers), timeout=2.0)
            for task in late:  # a client stuck before its request: give up on it
                task.cancel()
            if late:
                await asyncio.wait(late)
        if server is not None:
            await server.wait_closed()

    def set_scenario(self, name: str) -> None:
        if name not in SCENARIOS:
            raise ValueError(f"unknown camera scenario {name!r}; known: {', '.join(SCENARIOS)}")
        self.scenario = name
        self._changed.set()

    def set_fault(self, name: str, **params: Any) -> None:
        """``offline`` stops serving; a scenario name (``blurred``, ``dark``, ...) switches the picture."""
        if name == OFFLINE:
            self.offline = True
            self._cut_clients()
        elif name in SCENARIOS and name != "good":
            self.set_scenario(name)
        else:
            raise ValueError(f"camera does not support fault {name!r}; supported: {', '.join(self.FAULTS)}")

    def clear_fault(self, name: str | None = None) -> None:
        if name in (None, OFFLINE):
            self.offline = False
        if name is None or name == self.scenario:
            self.set_scenario("good")

    def info(self) -> dict[str, Any]:
        faults = ([OFFLINE] if self.offline else []) + ([self.scenario] if self.scenario != "good" else [])
        return {"id": self.device_id, "kind": self.kind, "url": self.url, "faults": faults,
                "scenario": self.scenario, "offline": self.offline, "serving": self._server is not None,
                "clients": len(self._clients), "frames_sent": self.frames_sent, "fps": self.fps}

    def _cut_clients(self) -> None:
        for writer in list(self._clients):
            writer.transport.abort()
        self._clients.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # only stop() cancels a handler; end quietly (asyncio logs a cancelled connection task)
        finally:
            self._handlers.discard(task)
            self._clients.discard(writer)
            writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.offline:
            return  # accept and hang up: nothing is served while offline
        request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5.0)
        parts = request.split(b"\r\n", 1)[0].split()
        target = parts[1].decode("latin-1") if len(parts) >= 2 else ""
        if target.split("?", 1)[0] == "/snapshot.jpg":
            body = scene_jpeg(self.scenario)
            writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n" % len(body) + body)
            await writer.drain()
            return
        if target.split("?", 1)[0] != self.path:
            writer.write(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            return
        writer.write(f"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary={BOUNDARY}\r\n"
                     "Cache-Control: no-cache\r\nConnection: close\r\n\r\n".encode())
        self._clients.add(writer)
        period = 1.0 / self.fps
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while not self.offline and not writer.is_closing():
            body = scene_jpeg(self.scenario)
            writer.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(body)}\r\n\r\n"
                         .encode() + body + b"\r\n")
            await writer.drain()
            self.frames_sent += 1
            next_at += period
            self._changed.clear()
            # Pace the stream; a scenario change is sent at once rather than at the next tick.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=max(0.0, next_at - loop.time()))
            next_at = max(next_at, loop.time() - period)
