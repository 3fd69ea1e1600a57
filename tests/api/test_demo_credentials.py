"""The demo's broker runs as a site's does (issue 16): ``python -m controller demo`` issues one account and signing
key per device into the data dir, signs the controller in, checks recorder confirmations with the keys and starts
the simulators with their own accounts, never in the open bench mode."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from controller.__main__ import demo_credentials, simulator_process
from controller.ops import mqtt_devices
from controller.settings import production_problems

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_signs_every_device_and_the_controller_in(container: Any) -> None:
    site, creds = demo_credentials(container.settings, container.site)
    assert creds == container.settings.data_dir / "mqtt"
    assert container.site.mqtt.username is None  # the site file itself is left alone
    assert site.mqtt.username == "controller" and site.mqtt.password_file == creds / "controller.password"
    assert site.mqtt.device_keys_dir == creds / "keys"
    # What a production site demands of its broker holds for the demo's (its TLS is the one exception: loopback).
    assert not [p for p in production_problems(site) if p.startswith("mqtt")]
    clients = json.loads((creds / "credentials.json").read_text())["clients"]
    recorders = [d for d, kind in mqtt_devices(site) if kind == "recorder"]
    assert recorders and set(recorders) <= set(clients)
    for device_id in recorders:
        key = creds / "keys" / f"{device_id}.key"
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    acl = (creds / "mosquitto.acl").read_text()
    assert "user controller" in acl and f"user {recorders[0]}" in acl
    # A restart keeps the accounts (a running simulator and a restarted controller still agree).
    again, _ = demo_credentials(container.settings, container.site)
    assert json.loads((creds / "credentials.json").read_text())["clients"] == clients
    assert again.mqtt == site.mqtt

    argv = simulator_process(container.settings.site_file, creds).argv
    assert argv[argv.index("--credentials") + 1] == str(creds) and "--open-bench" not in argv


def test_the_simulator_service_runs_with_credentials_not_open() -> None:
    unit = (ROOT / "systemd" / "hw-sim.service").read_text()
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert "--credentials" in exec_start and "--open-bench" not in exec_start
