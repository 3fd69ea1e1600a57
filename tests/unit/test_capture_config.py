"""The site's ``[capture]`` section: strict keys, ordered thresholds, and a model path resolved against the site
file's folder (a missing model is a config error, not a start-up surprise)."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.settings import SiteConfigError, load_site
from devices.camera.quality import BUNDLED_YUNET, YUNET_2023MAR_SHA256, verify_model

BASE = '[site]\nid = "c"\nname = "采集"\n\n[[rooms]]\nid = "collect"\nname = "采集室"\nkind = "collection"\ncapacity = 1\n'


def site_file(tmp_path: Path, capture: str) -> Path:
    p = tmp_path / "conf" / "site.toml"
    p.parent.mkdir(exist_ok=True)
    p.write_text(BASE + "\n[capture]\n" + capture, encoding="utf-8")
    return p


def test_model_path_is_resolved_against_the_site_files_folder(tmp_path: Path) -> None:
    (tmp_path / "conf" / "models").mkdir(parents=True)
    (tmp_path / "conf" / "models" / "yunet.onnx").write_bytes(b"model")
    site = load_site(site_file(tmp_path, 'model_path = "models/yunet.onnx"\nwindow_s = 2.5\n'))
    assert site.capture.model_path == (tmp_path / "conf" / "models" / "yunet.onnx").resolve()
    assert site.capture.window_s == 2.5


def test_a_site_without_a_model_uses_the_bundled_yunet_and_may_choose_haar(tmp_path: Path) -> None:
    site = load_site(site_file(tmp_path, "window_s = 2.5\n"))
    assert site.capture.detector == "yunet" and site.capture.model_file == BUNDLED_YUNET
    verify_model(BUNDLED_YUNET, YUNET_2023MAR_SHA256)  # the file in the repository is the one its sha256 names
    haar = load_site(site_file(tmp_path, 'detector = "haar"\n'))
    assert haar.capture.model_file is None


@pytest.mark.parametrize(("capture", "key"), [
    ('detector = "haar"\nmodel_path = "models/yunet.onnx"\n', "capture"),
    ('detector = "dlib"\n', "capture.detector"),
    ('model_path = "models/none.onnx"\n', "capture.model_path"),
    ("windows = 2\n", "capture.windows"),
    ("[capture.thresholds]\nmin_brightness = 200\nmax_brightness = 100\n", "capture.thresholds"),
    ("[capture.thresholds]\nmin_sharpnes = 10\n", "capture.thresholds.min_sharpnes"),
])
def test_bad_capture_settings_are_refused_naming_the_key(tmp_path: Path, capture: str, key: str) -> None:
    with pytest.raises(SiteConfigError) as err:
        load_site(site_file(tmp_path, capture))
    assert any(k.startswith(key) for k, _ in err.value.problems), err.value.problems
