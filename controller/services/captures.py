"""Face capture (人像采集): the best passing frame of a camera's window, stored by sha256 and linked to a stay.

The JPEG is written once under ``<data_dir>/captures/<sha256[:2]>/<sha256>.jpg`` (file 0600, folders 0700) before
the row that names it is committed with its audit and outbox entries; those entries carry the sha256 and the
quality figures, never the image. Nothing here logs an image or an identity number. The collection step accepts a
``capture_id`` only if that capture exists and is this stay's (or not yet linked to any stay, when it is linked).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session

from devices.camera.adapter import CaptureFailed, CaptureResult
from devices.camera.quality import FaceDetector, FaceDetectorConfig, QualityThresholds

from ..domain.actor import Actor
from ..domain.errors import NotFound, RuleViolation, invalid
from ..ops import private_dir, write_private
from ..settings import CaptureConfig, SiteConfig
from ..store.db import Database, UnitOfWork
from ..store.tables import Capture, Stay
from .common import OPEN, load_stay

CAPTURE_DIR = "captures"


def capture_path(data_dir: Path, sha256: str) -> Path:
    return data_dir / CAPTURE_DIR / sha256[:2] / f"{sha256}.jpg"


def write_image(data_dir: Path, sha256: str, jpeg: bytes) -> Path:
    """Writes the JPEG once (content-addressed), owner-only, fsynced before the rename; returns its path."""
    path = capture_path(data_dir, sha256)
    if path.exists():
        return path
    private_dir(data_dir / CAPTURE_DIR)
    private_dir(path.parent)
    write_private(path, jpeg)
    return path


def read_image(data_dir: Path, row: Capture) -> bytes:
    """The stored JPEG, checked against its sha256 (a file changed on disk is refused, not served)."""
    try:
        raw = (data_dir / row.path).read_bytes()
    except FileNotFoundError:
        raise RuleViolation("CAPTURE_IMAGE_MISSING", "人像图片文件缺失", "the capture's image file is missing",
                            status=410, capture_id=row.id) from None
    if hashlib.sha256(raw).hexdigest() != row.sha256:
        raise RuleViolation("CAPTURE_IMAGE_CORRUPT", "人像图片文件与记录不符", "the image file does not match its sha256",
                            status=409, capture_id=row.id)
    return raw


def capture_view(row: Capture) -> dict[str, Any]:
    return {"capture_id": row.id, "stay_id": row.stay_id, "camera_id": row.camera_id, "sha256": row.sha256,
            "report": row.report, "width": row.width, "height": row.height,
            "taken_at": row.taken_at.isoformat(), "taken_by": row.taken_by}


def load_capture(session: Session, capture_id: str) -> Capture:
    row = session.get(Capture, capture_id)
    if row is None:
        raise NotFound("capture", capture_id, "人像采集记录")
    return row


def camera_config(site: SiteConfig, camera_id: str) -> None:
    """Refuses an id that is not a capture camera of this site."""
    if not any(d.id == camera_id and d.kind == "capture_camera" for d in site.devices):
        raise RuleViolation("NOT_FOUND", "人像采集摄像机不存在", f"no capture camera {camera_id}", status=404,
                            entity="camera", id=camera_id)


def failure_error(exc: CaptureFailed) -> RuleViolation:
    """A capture that never passed: the gate that failed and what the subject should change, in the error shape."""
    return RuleViolation("CAPTURE_FAILED", f"人像采集未通过：{exc.hint_zh}", f"face capture failed: {exc.hint_en}",
                         status=422, device_id=exc.device_id, **exc.details())


def record_capture(uow: UnitOfWork, *, camera_id: str, stay_id: str | None, result: CaptureResult,
                   rel_path: str) -> Capture:
    """The row, its audit entry and outbox entry, in one transaction; refuses a closed or unknown stay."""
    if stay_id is not None:
        stay = load_stay(uow.session, stay_id)
        if stay.state not in OPEN:
            raise RuleViolation("STAY_CLOSED", "该在区记录已结束", "the stay is closed", stay_id=stay_id)
    row = Capture(id=f"cap-{uuid.uuid4().hex[:16]}", stay_id=stay_id, camera_id=camera_id, sha256=result.sha256,
                  path=rel_path, report=result.report.as_dict(), width=result.width, height=result.height,
                  taken_at=uow.now, taken_by=uow.actor.id)
    uow.session.add(row)
    uow.record("face_captured", entity="capture", entity_id=row.id, stay_id=stay_id,
               after={"camera_id": camera_id, "sha256": row.sha256, "detector": result.report.detector,
                      "score": round(result.report.score, 4), "frames": result.frames,
                      "width": row.width, "height": row.height})
    return row


def link_to_collection(uow: UnitOfWork, stay: Stay, capture_id: str) -> Capture:
    """The collection step's check: the capture exists and is this stay's; an unlinked capture becomes this stay's."""
    row = uow.session.get(Capture, capture_id)
    if row is None:
        raise invalid("CAPTURE_NOT_FOUND", "人像采集记录不存在", f"no capture {capture_id}",
                      field="capture_id")
    if row.stay_id is not None and row.stay_id != stay.id:
        raise invalid("CAPTURE_OTHER_STAY", "该人像属于另一在区记录", "the capture belongs to another stay",
                      field="capture_id", capture_id=capture_id)
    if row.stay_id is None:
        row.stay_id = stay.id
        uow.session.add(row)
        uow.record("capture_linked", entity="capture", entity_id=row.id, stay_id=stay.id,
                   before={"stay_id": None}, after={"stay_id": stay.id}, live=False)
    return row


@dataclass
class CaptureService:
    """Runs captures on the devicebus's cameras with the site's thresholds and detector, and stores the result."""

    db: Database
    site: SiteConfig
    data_dir: Path
    devices: Any  # the DeviceBus (its ``registry``), or None when devices are not attached

    def __post_init__(self) -> None:
        self._detector: FaceDetector | None = None
        self._armed: set[int] = set()

    @property
    def config(self) -> CaptureConfig:
        return self.site.capture

    @property
    def thresholds(self) -> QualityThresholds:
        return self.config.thresholds

    def detector(self) -> FaceDetector:
        """The site's detector (YuNet unless the site chose Haar; its sha256 is checked), built once and shared."""
        if self._detector is None:
            cfg = self.config
            self._detector = FaceDetector(FaceDetectorConfig(model_path=cfg.model_file,
                                                             model_sha256=cfg.model_sha256))
        return self._detector

    def camera(self, camera_id: str) -> Any:
        """The camera's adapter, given the site's detector on first use."""
        camera_config(self.site, camera_id)
        if self.devices is None:
            raise RuleViolation("DEVICES_NOT_ATTACHED", "设备未接入", "devices are not attached to this controller",
                                status=503, device_id=camera_id)
        try:
            adapter = self.devices.registry.get(camera_id)
        except KeyError:
            raise RuleViolation("DEVICE_UNAVAILABLE", "人像采集摄像机未就绪", f"camera {camera_id} has no adapter",
                                status=503, device_id=camera_id) from None
        if id(adapter) not in self._armed:
            adapter.detector = self.detector()
            adapter.thresholds = self.thresholds
            self._armed.add(id(adapter))
        return adapter

    async def capture(self, actor: Actor, camera_id: str, stay_id: str | None,
                      window_s: float | None = None) -> tuple[Capture, CaptureResult]:
        if stay_id is not None:
            await self.db.read(lambda s: load_stay(s, stay_id))  # refuse an unknown stay before using the camera
        adapter = self.camera(camera_id)
        try:
            result: CaptureResult = await adapter.capture(window_s=window_s or self.config.window_s,
                                                          thresholds=self.thresholds)
        except CaptureFailed as exc:
            raise failure_error(exc) from None
        path = await asyncio.to_thread(write_image, self.data_dir, result.sha256, result.jpeg)
        rel = str(path.relative_to(self.data_dir))
        row = await self.db.write(actor, lambda uow: record_capture(uow, camera_id=camera_id, stay_id=stay_id,
                                                                    result=result, rel_path=rel))
        return row, result
