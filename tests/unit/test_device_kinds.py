"""The one table of device kinds (devices/kinds.py) is what the registry, the site configuration and hw_sim use, and
``check-config`` refuses a bad device option with its key named, in Chinese and English."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

import pytest

from controller.__main__ import cmd_check_config
from devices.kinds import KINDS, OptionsError, serial_bauds, validate_options
from devices.lock_board import protocol as lock_board_protocol
from devices.registry import DeviceRegistry
from hw_sim import serial_devices, site
from tests.conftest import DEMO_SITE

LOCK_BUS = 'options = { baud = 19200 }'  # the demo site's lock bus, the first device of its file


def check(tmp_path: Path, capsys: Any, old: str, new: str) -> tuple[int, str]:
    text = DEMO_SITE.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path = tmp_path / "site.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    code = cmd_check_config(argparse.Namespace(file=path))
    return code, capsys.readouterr().err


def test_every_adapter_is_the_class_its_row_names_with_that_kind() -> None:
    for row in KINDS.values():
        if row.module is None or row.adapter is None:
            continue
        cls = getattr(importlib.import_module(row.module), row.adapter)
        assert cls.kind == row.name


def test_hw_sim_takes_its_serial_kinds_and_bauds_from_the_table() -> None:
    assert serial_devices.SERIAL_KINDS == serial_bauds()
    assert serial_bauds() == {"lock_board": lock_board_protocol.BAUD, "id_reader": 115200, "metal_gate": 9600,
                              "breathalyser": 9600}
    assert set(site.MQTT_SIMS) == {k for k, row in KINDS.items() if row.style == "mqtt"}


def test_the_serial_adapter_takes_its_default_baud_from_the_table(tmp_path: Path) -> None:
    from devices.id_reader.adapter import IdReaderAdapter

    assert IdReaderAdapter("idr", str(tmp_path / "none"), {}).baud == KINDS["id_reader"].default_baud
    assert IdReaderAdapter("idr", str(tmp_path / "none"), {"baud": 9600}).baud == 9600


def test_options_are_checked_against_the_kind() -> None:
    assert validate_options("lock_board", {"baud": 19200, "poll_s": 0.2}).model_dump()["poll_s"] == 0.2
    with pytest.raises(OptionsError) as bad:
        validate_options("lock_board", {"baud": 19201, "pol_s": 1, "boards": [{"address": 16}]})
    assert {p.key for p in bad.value.problems} == {"baud", "pol_s", "boards.0.address"}
    with pytest.raises(LookupError):
        validate_options("toaster", {})


def test_check_config_names_an_unknown_option_in_chinese_and_english(tmp_path: Path, capsys: Any) -> None:
    code, err = check(tmp_path, capsys, LOCK_BUS, 'options = { baud = 19200, bauds = 9600 }')
    assert code == 2
    assert "devices.0.options.bauds" in err and "没有此选项" in err and "no such option" in err
    assert "站点配置无效" in err and "invalid site config" in err


def test_check_config_names_a_bad_option_value(tmp_path: Path, capsys: Any) -> None:
    code, err = check(tmp_path, capsys, LOCK_BUS, 'options = { baud = 19201, intake_queue_max = 0 }')
    assert code == 2
    assert "devices.0.options.baud" in err and "devices.0.options.intake_queue_max" in err and "选项取值无效" in err


def test_check_config_refuses_an_unknown_kind(tmp_path: Path, capsys: Any) -> None:
    code, err = check(tmp_path, capsys, 'kind = "lock_board"', 'kind = "lock_bored"')
    assert code == 2 and "devices.0.kind" in err and "未知的设备类型" in err and "unknown device kind" in err


def test_check_config_accepts_the_demo_site(tmp_path: Path, capsys: Any) -> None:
    assert check(tmp_path, capsys, LOCK_BUS, LOCK_BUS)[0] == 0


def test_the_registry_builds_no_adapter_from_bad_options() -> None:
    specs = [{"id": "gate-x", "kind": "metal_gate", "url": "/nonexistent/gate", "options": {"baud": 7}}]
    registry = DeviceRegistry(specs, lambda ev: None, site="s")
    assert "gate-x" in registry.skipped and "baud" in registry.skipped["gate-x"]
