"""Face detection and the quality gates of a face capture (人像采集质量检测): pure functions over BGR frames.

One detector per camera (YuNet, the model bundled in ``models/`` or another configured file whose sha256 matches,
or the Haar cascade that ships in the OpenCV 4.x wheel), and `assess(frame, detector, thresholds)` which runs it once and measures the gates
on the face crop only, so the whole pipeline costs little more than the detection itself. Every gate reports its
value and threshold; a failing frame names the first failing gate, in the order a person can fix it, with a hint.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

# OpenCV Zoo's face_detection_yunet_2023mar.onnx (MIT licence, libfacedetection.train).
YUNET_2023MAR_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
BUNDLED_YUNET = Path(__file__).resolve().parent / "models" / "face_detection_yunet.onnx"
"""That model, shipped in the repository (licence and sha256 in ``models/README.md``): every site's default."""

GATE_ORDER = ("one_face", "face_size", "exposure", "pose", "sharpness")
"""Gates in the order a failing frame reports them: the first one a person should fix first."""

_EYE_PX = 22  # eye width the landmark-guided eye search scales the crop to (the eye cascade's window is 20 px)
_EYE_PAD = 18  # half-size of the search band around the landmark eyes, in those scaled pixels
_CROP_WIDTH = 112  # face crops are resized to this width so sharpness is comparable across face sizes


class QualityThresholds(BaseModel):
    """Limits of the quality gates; embedded in the site config, so unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_face_ratio: float = Field(default=0.14, gt=0, lt=1, description="face width / frame width, at least")
    max_face_ratio: float = Field(default=0.7, gt=0, le=1, description="face width / frame width, at most")
    min_sharpness: float = Field(default=40.0, ge=0, description="variance of the Laplacian on the face crop (112 px wide)")
    min_brightness: float = Field(default=70.0, ge=0, le=255, description="mean grey level of the face crop, at least")
    max_brightness: float = Field(default=210.0, ge=0, le=255, description="mean grey level of the face crop, at most")
    min_contrast: float = Field(default=25.0, ge=0, description="standard deviation of the face crop's grey levels")
    max_roll_deg: float = Field(default=10.0, gt=0, le=90, description="tilt of the eye line, degrees")
    max_yaw: float = Field(default=0.3, gt=0, description="nose offset from the eyes' midpoint / eye distance (landmarks)")
    detect_width: int = Field(default=320, ge=160, le=1920, description="frames are downscaled to this width to detect")

    @model_validator(mode="after")
    def _ranges_are_ordered(self) -> QualityThresholds:
        if self.min_face_ratio >= self.max_face_ratio:
            raise ValueError("min_face_ratio must be below max_face_ratio")
        if self.min_brightness >= self.max_brightness:
            raise ValueError("min_brightness must be below max_brightness")
        return self


_DEFAULT_THRESHOLDS = QualityThresholds()


class FaceDetectorConfig(BaseModel):
    """Which detector a camera uses. No model path: the Haar cascade shipped in the OpenCV wheel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_path: Path | None = None
    model_sha256: str = Field(default=YUNET_2023MAR_SHA256, pattern=r"^[0-9a-f]{64}$")
    score_threshold: float = Field(default=0.7, gt=0, lt=1)


class DetectorConfigError(ValueError):
    """The configured face-detection model is missing or is not the file its sha256 names."""


@dataclass(frozen=True, slots=True)
class Face:
    """One detected face in frame coordinates. Landmarks (YuNet only): right eye, left eye, nose, mouth corners."""

    box: tuple[int, int, int, int]  # x, y, w, h
    score: float
    landmarks: tuple[tuple[float, float], ...] | None = None


class FaceDetector:
    """A face detector over BGR frames. OpenCV's detectors keep state per call: ``assess`` holds ``lock``."""

    backend: Literal["yunet", "haar"]

    def __init__(self, config: FaceDetectorConfig | None = None) -> None:
        config = config or FaceDetectorConfig()
        self.config = config
        self.lock = threading.Lock()
        self._eyes = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_eye.xml"))  # type: ignore[attr-defined]
        if config.model_path is not None:
            verify_model(config.model_path, config.model_sha256)
            self.backend = "yunet"
            self._yunet = cv2.FaceDetectorYN.create(str(config.model_path), "", (320, 240), config.score_threshold)
            self._input_size = (320, 240)
        else:
            self.backend = "haar"
            path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
            self._haar = cv2.CascadeClassifier(str(path))
            if self._haar.empty():
                raise DetectorConfigError(f"Haar cascade not loadable: {path}")

    def prepare(self, frame: np.ndarray, detect_width: int) -> tuple[np.ndarray, float]:
        """The detector's input for a frame (downscaled; grey for Haar) and the scale back to it.

        Haar gets no histogram equalisation: on our test frames it lost a small face and the cascade finds the
        dark face without it.
        """
        h, w = frame.shape[:2]
        scale = min(1.0, detect_width / w)
        small = frame if scale == 1.0 else cv2.resize(frame, (round(w * scale), round(h * scale)),
                                                      interpolation=cv2.INTER_AREA)
        if self.backend == "haar":
            small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        return small, scale

    def detect_prepared(self, small: np.ndarray) -> np.ndarray:
        """The bare detector call on a prepared input: YuNet's rows, or Haar's boxes."""
        if self.backend == "yunet":
            size = (small.shape[1], small.shape[0])
            if size != self._input_size:
                self._yunet.setInputSize(size)
                self._input_size = size
            _, rows = self._yunet.detect(small)
            return np.empty((0, 15), np.float32) if rows is None else rows
        boxes = self._haar.detectMultiScale(small, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
        return np.asarray(boxes, np.int32).reshape(-1, 4)

    def detect(self, frame: np.ndarray, detect_width: int = 320) -> list[Face]:
        small, scale = self.prepare(frame, detect_width)
        raw = self.detect_prepared(small)
        faces = []
        for row in raw:
            x, y, w, h = (float(v) / scale for v in row[:4])
            box = (max(0, round(x)), max(0, round(y)), round(w), round(h))
            if self.backend == "yunet":
                pts = tuple((float(row[4 + 2 * i]) / scale, float(row[5 + 2 * i]) / scale) for i in range(5))
                faces.append(Face(box, float(row[14]), pts))
            else:
                faces.append(Face(box, 1.0))
        return faces

    def eye_centres(self, crop_grey: np.ndarray, near: tuple[tuple[float, float], ...] | None = None
                    ) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The two eyes in a face crop, left to right in the image, or None when not both are found.

        With landmark positions (``near``, crop coordinates) only a small window around each is searched; otherwise
        the band where eyes sit in a detector's face box. Eye sizes are bounded by the crop width; together this
        keeps the eye cascade a small fraction of the face detection's cost.
        """
        h, w = crop_grey.shape[:2]
        lo, hi = max(20, int(w * 0.17)), max(21, int(w * 0.36))
        if near is None:
            y0, y1 = int(h * 0.1), int(h * 0.6)
            found = self._find_eyes(crop_grey[y0:y1], lo, hi)
            if len(found) < 2:
                return None
            two = sorted(sorted(found, key=lambda r: -r[2] * r[3])[:2], key=lambda r: r[0])
            (xa, ya, wa, ha), (xb, yb, wb, hb) = two
            if xa + wa > xb + wb / 2:  # overlapping boxes: one eye found twice, not a pair
                return None
            return (xa + wa / 2, y0 + ya + ha / 2), (xb + wb / 2, y0 + yb + hb / 2)
        # Around landmarks: shrink so an eye (about a quarter of the face width) just fits the cascade's 20 px
        # window, then search one small band around both landmarks, at three scales only.
        k = min(1.0, _EYE_PX / (w * 0.25))
        small = cv2.resize(crop_grey, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA) if k < 1 else crop_grey
        pts = [(px * k, py * k) for px, py in near[:2]]
        pad = _EYE_PAD
        x0 = max(0, int(min(p[0] for p in pts)) - pad)
        y0 = max(0, int(min(p[1] for p in pts)) - pad)
        x1, y1 = int(max(p[0] for p in pts)) + pad, int(max(p[1] for p in pts)) + pad
        candidates = [(x0 + ex + ew / 2, y0 + ey + eh / 2) for ex, ey, ew, eh in
                      self._find_eyes(small[y0:y1, x0:x1], 20, 28)]
        centres = []
        for px, py in pts:
            near_one = [c for c in candidates if abs(c[0] - px) <= pad and abs(c[1] - py) <= pad]
            if not near_one:
                return None
            cx, cy = min(near_one, key=lambda c: (c[0] - px) ** 2 + (c[1] - py) ** 2)
            centres.append((cx / k, cy / k))
        a, b = sorted(centres)
        return (a, b) if b[0] - a[0] > w * 0.15 else None

    def _find_eyes(self, region: np.ndarray, lo: int, hi: int) -> list[list[int]]:
        if region.shape[0] < lo or region.shape[1] < lo:
            return []
        eyes = self._eyes.detectMultiScale(region, scaleFactor=1.15, minNeighbors=3, minSize=(lo, lo),
                                           maxSize=(hi, hi))
        return [list(map(int, r)) for r in np.asarray(eyes).reshape(-1, 4)]


def verify_model(path: Path, expected_sha256: str) -> None:
    """Refuse a model file that is absent or whose sha256 differs from the configured one."""
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise DetectorConfigError(f"face model {path} not readable: {exc}") from exc
    if digest != expected_sha256.lower():
        raise DetectorConfigError(f"face model {path} has sha256 {digest}, expected {expected_sha256}")


@dataclass(frozen=True, slots=True)
class GateResult:
    gate: str
    ok: bool
    value: float | None  # None: not measurable on this frame (reported, not blocking)
    threshold: float | tuple[float, float] | None
    hint_zh: str = ""
    hint_en: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"gate": self.gate, "ok": self.ok, "value": self.value, "threshold": self.threshold}
        if self.detail:
            out["detail"] = self.detail
        if not self.ok:
            out["hint_zh"], out["hint_en"] = self.hint_zh, self.hint_en
        return out


@dataclass(frozen=True, slots=True)
class QualityReport:
    """The quality of one frame: every gate measured, the first failing one named, and a score to rank frames."""

    ok: bool
    gates: tuple[GateResult, ...]
    face_box: tuple[int, int, int, int] | None
    score: float
    detector: str

    @property
    def failing(self) -> GateResult | None:
        return next((g for g in self.gates if not g.ok), None)

    @property
    def failing_gate(self) -> str | None:
        gate = self.failing
        return gate.gate if gate else None

    @property
    def hint_zh(self) -> str:
        gate = self.failing
        return gate.hint_zh if gate else ""

    @property
    def hint_en(self) -> str:
        gate = self.failing
        return gate.hint_en if gate else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "failing_gate": self.failing_gate, "hint_zh": self.hint_zh, "hint_en": self.hint_en,
            "face_box": list(self.face_box) if self.face_box else None, "score": round(self.score, 4),
            "detector": self.detector, "gates": [g.as_dict() for g in self.gates],
        }


def _gate(gate: str, ok: bool, value: float | None, threshold: Any, zh: str = "", en: str = "",
          **detail: Any) -> GateResult:
    return GateResult(gate, ok, None if value is None else round(float(value), 3), threshold,
                      "" if ok else zh, "" if ok else en, detail)


def _exposure_gate(grey: np.ndarray, t: QualityThresholds) -> GateResult:
    mean, std = (float(v[0][0]) for v in cv2.meanStdDev(grey))
    threshold = (t.min_brightness, t.max_brightness)
    if mean < t.min_brightness:
        return _gate("exposure", False, mean, threshold, "光线不足，请补光", "Too dark: more light", std=round(std, 1))
    if mean > t.max_brightness:
        return _gate("exposure", False, mean, threshold, "光线过强，请减弱光线", "Too bright: less light",
                     std=round(std, 1))
    if std < t.min_contrast:
        return _gate("exposure", False, mean, threshold, "光线不均匀，请调整光线", "Flat lighting: adjust the light",
                     std=round(std, 1), min_contrast=t.min_contrast)
    return _gate("exposure", True, mean, threshold, std=round(std, 1))


def _pose_gate(detector: FaceDetector, crop: np.ndarray, face: Face, t: QualityThresholds) -> GateResult:
    """Roll from the eye line (eye cascade on the crop, else landmarks); yaw from the nose offset (landmarks only).

    The eye cascade is preferred for roll even with YuNet: YuNet's regressed eye landmarks under-read a tilted
    head by a factor of two to three on our test images (a 22 degree tilt reads as about 7).
    """
    hint = ("请正对摄像头，头部摆正", "Look straight at the camera, head upright")
    roll: float | None = None
    source = ""
    near = None
    if face.landmarks is not None:  # the landmark eyes, in crop coordinates, guide the eye search
        fx, fy, fw, _ = face.box
        k = crop.shape[1] / max(1, fw)
        near = tuple(((px - fx) * k, (py - fy) * k) for px, py in face.landmarks[:2])
    eyes = detector.eye_centres(crop, near)
    if eyes is None and near is not None:  # landmarks too far off for the small search: search the eye band
        eyes = detector.eye_centres(crop)
    if eyes is not None:
        (x1, y1), (x2, y2) = eyes
        roll, source = math.degrees(math.atan2(y2 - y1, x2 - x1)), "eyes"
    elif face.landmarks is not None:
        (rx, ry), (lx, ly) = face.landmarks[0], face.landmarks[1]
        roll, source = math.degrees(math.atan2(ly - ry, lx - rx)), "landmarks"
    yaw: float | None = None
    if face.landmarks is not None:
        (rx, ry), (lx, ly), (nx, _ny) = face.landmarks[0], face.landmarks[1], face.landmarks[2]
        eye_dist = math.hypot(lx - rx, ly - ry)
        if eye_dist > 1:
            yaw = (nx - (rx + lx) / 2) / eye_dist
    if roll is None and yaw is None:
        return _gate("pose", True, None, t.max_roll_deg, measured=False, note="pose not measurable / 姿态无法测量")
    roll_ok = roll is None or abs(roll) <= t.max_roll_deg
    yaw_ok = yaw is None or abs(yaw) <= t.max_yaw
    detail: dict[str, Any] = {"roll_deg": None if roll is None else round(roll, 1), "roll_from": source,
                              "yaw": None if yaw is None else round(yaw, 3), "max_yaw": t.max_yaw}
    value = abs(roll) if roll is not None else None
    if not yaw_ok and roll_ok:
        return _gate("pose", False, abs(yaw or 0.0), t.max_yaw, *hint, **detail, measure="yaw")
    return _gate("pose", roll_ok and yaw_ok, value, t.max_roll_deg, *hint, **detail, measure="roll")


def assess(frame: np.ndarray, detector: FaceDetector, thresholds: QualityThresholds | None = None) -> QualityReport:
    """Run the detector once on a BGR frame and measure every gate; only the face crop is analysed further."""
    with detector.lock:
        return _assess(frame, detector, thresholds or _DEFAULT_THRESHOLDS)


def _assess(frame: np.ndarray, detector: FaceDetector, t: QualityThresholds) -> QualityReport:
    faces = detector.detect(frame, t.detect_width)
    frame_h, frame_w = frame.shape[:2]
    if len(faces) != 1:
        failed = [_gate("one_face", False, len(faces), 1, *(
            ("画面中只能有一人", "Only one person in view") if faces
            else ("未检测到人脸，请正对摄像头", "No face found: look at the camera")))]
        if not faces:
            # A dark frame hides the face: say "more light" rather than "no face" when that is the cause.
            small = cv2.resize(frame, (64, 48), interpolation=cv2.INTER_AREA)
            exposure = _exposure_gate(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), t)
            if not exposure.ok and exposure.value is not None and exposure.value < t.min_brightness:
                failed.insert(0, exposure)
        return QualityReport(False, tuple(failed), None, 0.0, detector.backend)

    face = faces[0]
    x, y, w, h = face.box
    x2, y2 = min(frame_w, x + w), min(frame_h, y + h)
    crop_bgr = frame[y:y2, x:x2]
    if crop_bgr.shape[0] < 8 or crop_bgr.shape[1] < 8:  # a degenerate box at the frame's edge: no usable face
        return QualityReport(False, (_gate("one_face", False, 0, 1, "未检测到人脸，请正对摄像头",
                                           "No face found: look at the camera"),), None, 0.0, detector.backend)
    crop_h = max(1, round(_CROP_WIDTH * crop_bgr.shape[0] / max(1, crop_bgr.shape[1])))
    crop = cv2.resize(cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY), (_CROP_WIDTH, crop_h),
                      interpolation=cv2.INTER_AREA)

    ratio = w / frame_w
    if ratio < t.min_face_ratio:
        size = _gate("face_size", False, ratio, t.min_face_ratio, "请靠近摄像头", "Move closer to the camera")
    elif ratio > t.max_face_ratio:
        size = _gate("face_size", False, ratio, t.max_face_ratio, "请稍微后退", "Move back a little")
    else:
        size = _gate("face_size", True, ratio, (t.min_face_ratio, t.max_face_ratio))
    exposure = _exposure_gate(crop, t)
    pose = _pose_gate(detector, crop, face, t)
    sharp_value = float(cv2.meanStdDev(cv2.Laplacian(crop, cv2.CV_32F))[1][0][0]) ** 2
    sharp = _gate("sharpness", sharp_value >= t.min_sharpness, sharp_value, t.min_sharpness,
                  "请保持不动", "Hold still")
    gates = (_gate("one_face", True, 1, 1), size, exposure, pose, sharp)
    ok = all(g.ok for g in gates)
    return QualityReport(ok, gates, face.box, _score(ok, sharp_value, exposure, pose, t), detector.backend)


def _score(ok: bool, sharpness: float, exposure: GateResult, pose: GateResult, t: QualityThresholds) -> float:
    """Rank of a frame among passing ones: sharper, better lit and straighter scores higher (0..1)."""
    if not ok:
        return 0.0
    sharp = min(sharpness / (t.min_sharpness * 4), 1.0)
    light = 1.0 - min(abs((exposure.value or 128.0) - 128.0) / 128.0, 1.0)
    roll = pose.detail.get("roll_deg")
    straight = 1.0 if roll is None else 1.0 - min(abs(roll) / t.max_roll_deg, 1.0)
    return 0.5 * sharp + 0.25 * light + 0.25 * straight
