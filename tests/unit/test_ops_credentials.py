"""Device credentials from the site config: one account per MQTT device plus the controller, files 0600,
Mosquitto PBKDF2 hashes, passwords kept across runs unless rotated, and a TLS listener only where certificates
are given."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

from controller import ops
from controller.settings import load_site
from tests.conftest import DEMO_SITE


def test_credentials_cover_every_mqtt_device_with_owner_only_files(tmp_path: Path) -> None:
    site = load_site(DEMO_SITE)
    out = tmp_path / "mqtt"
    ops.issue_credentials(site, out)
    clients = json.loads((out / "credentials.json").read_text())["clients"]
    mqtt_ids = {d.id for d in site.devices if d.url.startswith("mqtt://")}
    assert set(clients) == mqtt_ids | {"controller"} and "lock-bus-1" not in clients
    for name in ("credentials.json", "controller.password", "mosquitto.passwd", "mosquitto.acl", "hcc.conf"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert (out / "controller.password").read_text().strip() == clients["controller"]["password"]
    lines = dict(line.split(":", 1) for line in (out / "mosquitto.passwd").read_text().splitlines())
    _, kind, rounds, salt, digest = lines["door-int-1"].split("$")
    assert kind == "7" and base64.b64decode(digest) == hashlib.pbkdf2_hmac(
        "sha512", clients["door-int-1"]["password"].encode(), base64.b64decode(salt), int(rounds))
    assert clients["door-int-1"]["password"] not in (out / "mosquitto.passwd").read_text()
    acl = (out / "mosquitto.acl").read_text()
    assert "topic read hcc/demo-centre/door_lock/door-int-1/cmd/#" in acl
    assert "listener 8883" not in (out / "hcc.conf").read_text()

    ops.issue_credentials(site, out)  # a second run keeps what devices were given
    again = json.loads((out / "credentials.json").read_text())["clients"]
    assert again["door-int-1"]["password"] == clients["door-int-1"]["password"]
    ops.issue_credentials(site, out, rotate=True, tls={"ca": Path("/c/ca.crt"), "cert": Path("/c/s.crt"),
                                                       "key": Path("/c/s.key")})
    rotated = json.loads((out / "credentials.json").read_text())["clients"]
    assert rotated["door-int-1"]["password"] != clients["door-int-1"]["password"]
    conf = (out / "hcc.conf").read_text()
    assert "listener 8883" in conf and "certfile /c/s.crt" in conf and "allow_anonymous false" in conf


def test_rotate_key_keeps_the_previous_key_owner_only(tmp_path: Path) -> None:
    key = tmp_path / "sync.key"
    assert ops.rotate_key(key) is None
    first = key.read_text()
    prev = ops.rotate_key(key)
    assert prev is not None and prev.read_text() == first and key.read_text() != first
    for p in (key, prev):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600


def test_every_broker_config_carries_the_site_broker_settings(tmp_path: Path) -> None:
    """The queue and in-flight limits the presence stream needs (devices/mqtt_proto.BROKER_SETTINGS) are in the
    generated site include, the simulator's broker config and the hand-installed systemd/mosquitto/hcc.conf alike:
    a production broker left at mosquitto's 20 messages in flight held wristband reports back."""
    from devices.mqtt_proto import BROKER_SETTINGS
    from hw_sim.broker import write_mosquitto_config

    assert "max_inflight_messages 1000" in BROKER_SETTINGS
    generated = ops.broker_conf(tmp_path).splitlines()
    simulated = write_mosquitto_config(tmp_path, 18999).read_text().splitlines()
    installed = (Path(__file__).resolve().parents[2] / "systemd" / "mosquitto" / "hcc.conf").read_text().splitlines()
    for conf in (generated, simulated, installed):
        assert all(line in conf for line in BROKER_SETTINGS), conf
