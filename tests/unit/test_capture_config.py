"""The site's ``[capture]`` section: strict keys, ordered thresholds, and a model path resolved against the site
file's folder (a missing model is a config error, not a start-up surprise)."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.settings import SiteConfigError, load_site

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


@pytest.mark.parametrize(("capture", "key"), [
    ('model_path = "models/none.onnx"\n', "capture.model_path"),
    ("windows = 2\n", "capture.windows"),
    ("[capture.thresholds]\nmin_brightness = 200\nmax_brightness = 100\n", "capture.thresholds"),
    ("[capture.thresholds]\nmin_sharpnes = 10\n", "capture.thresholds.min_sharpnes"),
])
def test_bad_capture_settings_are_refused_naming_the_key(tmp_path: Path, capture: str, key: str) -> None:
    with pytest.raises(SiteConfigError) as err:
        load_site(site_file(tmp_path, capture))
    assert any(k.startswith(key) for k, _ in err.value.problems), err.value.problems
