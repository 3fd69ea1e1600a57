"""Face capture (人像采集) over HTTP: take a capture, read its record and image, and the kiosk's live preview.

Images (stored and live) go only to the staff who work with the subject: custody staff, case officers and
supervisors. The preview is loaded by an ``<img>`` tag, which cannot send headers, so for the preview routes only
the token may come as the ``token`` query parameter (as on the WebSocket). Responses carrying a face are never
cached.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from devices.base import DeviceUnavailable

from ...container import Container
from ...domain.actor import Actor
from ...services.captures import CaptureService, capture_view, load_capture, read_image
from ...services.commands import Id
from ..deps import ContainerDep, allow
from ..scope import ensure_stay

router = APIRouter(prefix="/api/v1/captures", tags=["captures"])
FACE_ROLES = ("custody_staff", "case_officer", "supervisor")
FaceActor = Annotated[Actor, allow(*FACE_ROLES)]
PreviewActor = Annotated[Actor, allow(*FACE_ROLES, query_token=True)]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BOUNDARY = "hccframe"
PREVIEW_FPS = 8.0


class CaptureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    camera_id: Id
    stay_id: Id | None = None
    window_s: float | None = Field(default=None, gt=0, le=30, description="capture window; default from site config")


def service(c: Container) -> CaptureService:
    """The container's capture service (built with it; its devices may be absent in API-only runs)."""
    if c.captures is None:
        c.captures = CaptureService(c.db, c.site, c.settings.data_dir, c.devices)
    return c.captures


@router.post("", status_code=201, summary="Capture a face: the best passing frame of the camera's window")
async def take_capture(body: CaptureIn, c: ContainerDep, actor: FaceActor) -> dict[str, Any]:
    """201 with ``{capture_id, sha256, report, elapsed_s}``; 422 ``CAPTURE_FAILED`` naming the failing gate, with
    ``details.gate`` and the hint to show (``details.hint_zh``); 503 when the camera is offline."""
    await ensure_stay(c, actor, body.stay_id)
    row, result = await service(c).capture(actor, body.camera_id, body.stay_id, body.window_s)
    return {**capture_view(row), "elapsed_s": round(result.elapsed_s, 3), "frames": result.frames}


@router.get("/preview/{camera_id}", summary="Live preview (multipart MJPEG; ?once=1 for one JPEG)",
            response_class=Response)
async def preview(camera_id: str, request: Request, c: ContainerDep, actor: PreviewActor,
                  once: Annotated[bool, Query()] = False,
                  frames: Annotated[int | None, Query(ge=1, le=100000)] = None,
                  max_s: Annotated[float, Query(gt=0, le=600)] = 120.0,
                  token: Annotated[str | None, Query(description="the sign-in token, for an <img> tag")] = None,
                  ) -> Response:
    """The camera's newest frame with ``X-Quality-Gate`` (the failing gate, or ``ok``) in the headers (per part
    for the stream). The stream ends after ``frames`` frames or ``max_s`` seconds; the kiosk reloads it."""
    svc = service(c)
    adapter = svc.camera(camera_id)
    first = await adapter.latest_preview(svc.thresholds)
    if first is None:
        raise DeviceUnavailable("no frame from the camera", device_id=camera_id)
    if once:
        return Response(first.jpeg, media_type="image/jpeg", headers={**NO_STORE, **_gate_headers(first.report)})

    async def stream() -> AsyncIterator[bytes]:
        sent, last_seq, started = 0, -1, time.monotonic()
        pv = first
        while True:
            if pv is not None and pv.seq != last_seq:
                last_seq = pv.seq
                head = "".join(f"{k}: {v}\r\n" for k, v in _gate_headers(pv.report).items())
                yield (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(pv.jpeg)}\r\n{head}\r\n"
                       ).encode() + pv.jpeg + b"\r\n"
                sent += 1
            if (frames is not None and sent >= frames) or time.monotonic() - started > max_s:
                break
            if await request.is_disconnected():
                break
            await asyncio.sleep(1 / PREVIEW_FPS)  # pacing of the live view, not a wait for an outcome
            pv = await adapter.latest_preview(svc.thresholds)
        yield f"--{BOUNDARY}--\r\n".encode()

    return StreamingResponse(stream(), media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                             headers=NO_STORE)


@router.get("/preview/{camera_id}/report", summary="The live preview's current quality report (failing gate, hint)")
async def preview_report(camera_id: str, c: ContainerDep, actor: PreviewActor,
                         token: Annotated[str | None, Query(description="the sign-in token")] = None,
                         ) -> dict[str, Any]:
    svc = service(c)
    adapter = svc.camera(camera_id)
    pv = await adapter.latest_preview(svc.thresholds)
    if pv is None:
        raise DeviceUnavailable("no frame from the camera", device_id=camera_id)
    rep = pv.report.as_dict()
    return {"camera_id": camera_id, "seq": pv.seq, "ok": rep["ok"], "failing_gate": rep["failing_gate"],
            "hint_zh": rep["hint_zh"], "hint_en": rep["hint_en"], "report": rep}


@router.get("/{capture_id}", summary="A capture's record: camera, stay, sha256, quality report")
async def get_capture(capture_id: str, c: ContainerDep, actor: FaceActor) -> dict[str, Any]:
    return await c.db.read(lambda s: capture_view(load_capture(s, capture_id)))


@router.get("/{capture_id}/image", summary="The accepted face image (JPEG)", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}})
async def get_image(capture_id: str, c: ContainerDep, actor: FaceActor) -> Response:
    row = await c.db.read(lambda s: load_capture(s, capture_id))
    raw = await asyncio.to_thread(read_image, c.settings.data_dir, row)
    return Response(raw, media_type="image/jpeg", headers={**NO_STORE, "ETag": f'"{row.sha256}"'})


def _gate_headers(report: Any) -> dict[str, str]:
    """Header values are ASCII: the gate name and English hint; the Chinese hint is in the report endpoint."""
    return {"X-Quality-Gate": report.failing_gate or "ok",
            "X-Quality-Hint": (report.hint_en or "").encode("ascii", "replace").decode()}
