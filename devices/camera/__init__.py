"""Face-capture camera (人像采集摄像机): frames from OpenCV VideoCapture by URL, and quality gates on each face."""

from devices.camera.adapter import CameraAdapter, CaptureFailed, CaptureResult, Preview
from devices.camera.quality import (
    DetectorConfigError,
    FaceDetector,
    FaceDetectorConfig,
    QualityReport,
    QualityThresholds,
    assess,
)

__all__ = [
    "CameraAdapter", "CaptureFailed", "CaptureResult", "DetectorConfigError", "FaceDetector", "FaceDetectorConfig",
    "Preview", "QualityReport", "QualityThresholds", "assess",
]
