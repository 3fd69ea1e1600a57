"""Face-capture quality gates on real images: each gate accepts the good frame and rejects its bad case.

Every test runs with the Haar cascade shipped in OpenCV, and again with the YuNet model bundled in the repository.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from devices.camera.quality import (
    BUNDLED_YUNET,
    GATE_ORDER,
    DetectorConfigError,
    Face,
    FaceDetector,
    FaceDetectorConfig,
    QualityThresholds,
    _pose_gate,
    assess,
)
from hw_sim.camera import scene

YUNET_PATH = BUNDLED_YUNET
YUNET_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"  # devices/camera/models/README.md


def detector_params() -> list[object]:
    """The detectors to run the camera tests with: the Haar cascade and the bundled YuNet."""
    return [pytest.param(None, id="haar"), pytest.param(YUNET_PATH, id="yunet")]


_DETECTORS: dict[Path | None, FaceDetector] = {}


@pytest.fixture(params=detector_params())
def detector(request: pytest.FixtureRequest) -> FaceDetector:
    path = request.param
    if path not in _DETECTORS:  # loading a model is the slow part; the detector itself holds no per-test state
        _DETECTORS[path] = FaceDetector(FaceDetectorConfig(model_path=path))
    return _DETECTORS[path]


def gate_of(report, name):
    return next(g for g in report.gates if g.gate == name)


def test_good_frame_passes_every_gate(detector: FaceDetector) -> None:
    report = assess(scene("good"), detector)
    assert report.ok, report.as_dict()
    assert [g.gate for g in report.gates] == list(GATE_ORDER)
    assert all(g.ok for g in report.gates)
    assert report.failing_gate is None and report.hint_zh == ""
    x, y, w, h = report.face_box or (0, 0, 0, 0)
    assert 200 < x + w / 2 < 360 and 80 < y + h / 2 < 230  # the astronaut's face, not the flag or the helmet
    assert 0 < report.score <= 1


@pytest.mark.parametrize(("name", "count", "hint_zh"), [
    ("no_face", 0, "未检测到人脸，请正对摄像头"),
    ("two_faces", 2, "画面中只能有一人"),
])
def test_one_face_gate_rejects_no_face_and_two_faces(detector: FaceDetector, name: str, count: int,
                                                      hint_zh: str) -> None:
    report = assess(scene(name), detector)
    assert not report.ok
    assert report.failing_gate == "one_face"
    gate = gate_of(report, "one_face")
    assert (gate.value, gate.threshold) == (count, 1)
    assert report.hint_zh == hint_zh and report.hint_en
    assert report.face_box is None and report.score == 0


def test_face_size_gate_rejects_a_face_too_far(detector: FaceDetector) -> None:
    report = assess(scene("far"), detector)
    assert report.failing_gate == "face_size"
    gate = gate_of(report, "face_size")
    assert gate.value is not None and gate.value < QualityThresholds().min_face_ratio
    assert (report.hint_zh, report.hint_en) == ("请靠近摄像头", "Move closer to the camera")


def test_face_size_gate_rejects_a_face_too_close(detector: FaceDetector) -> None:
    report = assess(scene("good"), detector, QualityThresholds(max_face_ratio=0.15))
    assert report.failing_gate == "face_size"
    assert report.hint_zh == "请稍微后退"


def test_exposure_gate_rejects_dark_before_blaming_sharpness(detector: FaceDetector) -> None:
    report = assess(scene("dark"), detector)
    gate = gate_of(report, "exposure")
    assert report.failing_gate == "exposure"  # the dark face is also unsharp; light is what to fix first
    assert gate.value is not None and gate.value < QualityThresholds().min_brightness
    assert gate.threshold == (QualityThresholds().min_brightness, QualityThresholds().max_brightness)
    assert report.hint_zh.startswith("光线不足") and "light" in report.hint_en


def test_exposure_gate_rejects_overexposed_and_flat_faces(detector: FaceDetector) -> None:
    bright = cv2.convertScaleAbs(scene("good"), alpha=0.6, beta=130)
    report = assess(bright, detector)
    assert report.failing_gate == "exposure" and report.hint_zh.startswith("光线过强")
    flat = cv2.convertScaleAbs(scene("good"), alpha=0.3, beta=100)
    report = assess(flat, detector)
    assert report.failing_gate == "exposure" and report.hint_zh.startswith("光线不均匀")
    assert gate_of(report, "exposure").detail["std"] < QualityThresholds().min_contrast


def test_exposure_named_when_a_frame_is_too_dark_to_find_a_face(detector: FaceDetector) -> None:
    report = assess(cv2.convertScaleAbs(scene("no_face"), alpha=0.2), detector)
    assert report.failing_gate == "exposure"
    assert gate_of(report, "one_face").ok is False


def test_pose_gate_rejects_a_turned_and_tilted_head(detector: FaceDetector) -> None:
    good = gate_of(assess(scene("good"), detector), "pose")
    assert good.ok and good.value is not None and good.value < 6
    report = assess(scene("turned_head"), detector)
    gate = gate_of(report, "pose")
    assert report.failing_gate == "pose"
    assert gate.value is not None and gate.value > QualityThresholds().max_roll_deg
    assert gate.detail["roll_from"] == "eyes"  # the eye cascade, guided by YuNet's landmarks where it has them
    assert report.hint_zh.startswith("请正对摄像头")


@pytest.mark.parametrize("tilt_deg", [20, -15])
def test_pose_gate_rejects_a_head_tilted_either_way_after_jpeg(detector: FaceDetector, tilt_deg: float) -> None:
    rotation = cv2.getRotationMatrix2D((280, 150), tilt_deg, 1.0)
    tilted = cv2.warpAffine(scene("good"), rotation, (640, 480), borderMode=cv2.BORDER_REPLICATE)
    ok, jpeg = cv2.imencode(".jpg", tilted, [cv2.IMWRITE_JPEG_QUALITY, 90])
    report = assess(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), detector)
    gate = gate_of(report, "pose")
    assert report.failing_gate == "pose", gate
    assert gate.detail["roll_deg"] * tilt_deg < 0  # image rotation counter-clockwise reads as a negative roll


def test_pose_gate_measures_yaw_from_landmarks() -> None:
    crop = np.full((130, 112), 128, np.uint8)  # no eyes for the cascade: roll comes from the landmarks
    eyes_level = ((40.0, 50.0), (80.0, 50.0))
    centred = Face((0, 0, 112, 130), 0.9, (*eyes_level, (60.0, 75.0), (45.0, 95.0), (75.0, 95.0)))
    turned = Face((0, 0, 112, 130), 0.9, (*eyes_level, (78.0, 75.0), (63.0, 95.0), (93.0, 95.0)))
    t = QualityThresholds()
    ok = _pose_gate(FaceDetector(), crop, centred, t)
    assert ok.ok and ok.detail["roll_from"] == "landmarks" and ok.detail["yaw"] == 0
    bad = _pose_gate(FaceDetector(), crop, turned, t)
    assert not bad.ok and bad.detail["measure"] == "yaw"
    assert bad.value == pytest.approx(0.45) and bad.threshold == t.max_yaw


def test_pose_not_measurable_is_reported_but_does_not_block() -> None:
    crop = np.full((112, 112), 128, np.uint8)
    gate = _pose_gate(FaceDetector(), crop, Face((0, 0, 112, 112), 1.0), QualityThresholds())
    assert gate.ok and gate.value is None and gate.detail["measured"] is False


def test_sharpness_gate_rejects_motion_blur(detector: FaceDetector) -> None:
    report = assess(scene("blurred"), detector)
    gate = gate_of(report, "sharpness")
    assert report.failing_gate == "sharpness"
    assert gate.value is not None and gate.value < gate.threshold  # type: ignore[operator]
    assert (report.hint_zh, report.hint_en) == ("请保持不动", "Hold still")
    assert gate_of(assess(scene("good"), detector), "sharpness").ok


def test_score_prefers_the_sharper_of_two_passing_frames(detector: FaceDetector) -> None:
    sharp = assess(scene("good"), detector)
    soft = assess(cv2.GaussianBlur(scene("good"), (0, 0), 0.8), detector)
    assert sharp.ok and soft.ok
    assert sharp.score > soft.score


def test_report_serialises_with_values_thresholds_and_hints(detector: FaceDetector) -> None:
    data = assess(scene("blurred"), detector).as_dict()
    assert data["ok"] is False and data["failing_gate"] == "sharpness"
    assert data["detector"] == detector.backend
    sharp = next(g for g in data["gates"] if g["gate"] == "sharpness")
    assert set(sharp) >= {"gate", "ok", "value", "threshold", "hint_zh", "hint_en"}


def test_thresholds_refuse_unknown_keys_and_bad_values() -> None:
    with pytest.raises(ValidationError):
        QualityThresholds.model_validate({"min_face_ratio": 0.1, "sharpnes": 3})
    with pytest.raises(ValidationError):
        QualityThresholds(min_face_ratio=1.5)
    with pytest.raises(ValidationError, match="min_brightness"):
        QualityThresholds(min_brightness=200, max_brightness=150)
    assert QualityThresholds.model_validate({"max_roll_deg": 15}).max_roll_deg == 15


def test_yunet_is_used_only_with_the_expected_sha256(tmp_path: Path) -> None:
    assert FaceDetector(FaceDetectorConfig(model_path=YUNET_PATH, model_sha256=YUNET_SHA256)).backend == "yunet"
    with pytest.raises(DetectorConfigError, match="sha256"):
        FaceDetector(FaceDetectorConfig(model_path=YUNET_PATH, model_sha256="0" * 64))
    tampered = tmp_path / "yunet.onnx"
    shutil.copyfile(YUNET_PATH, tampered)
    with tampered.open("ab") as f:
        f.write(b"\0")
    with pytest.raises(DetectorConfigError, match="expected"):
        FaceDetector(FaceDetectorConfig(model_path=tampered))


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DetectorConfigError, match="not readable"):
        FaceDetector(FaceDetectorConfig(model_path=tmp_path / "absent.onnx"))
    assert FaceDetector().backend == "haar"
