"""The generated broker credentials and ACL on a real Mosquitto: each client signs in with its own password, a
device cannot publish under another device's topics (nor send it commands), and cannot subscribe to the
controller's replies or to another device's commands; the controller reads everything and commands devices.

Ordering on the broker stands in for waiting: a forbidden publish is followed by an allowed marker from the same
client, so once the marker has arrived the forbidden message would have arrived before it.
"""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from controller import ops
from controller.settings import parse_site

pytestmark = pytest.mark.skipif(shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists(),
                                reason="mosquitto not installed")
SITE = "acl-centre"
ROOT = f"hcc/{SITE}"


def site() -> Any:
    return parse_site({
        "site": {"id": SITE, "name": "ACL"},
        "rooms": [{"id": "int-1", "name": "讯问室", "kind": "interrogation", "capacity": 2}],
        "devices": [
            {"id": "door-a", "kind": "door_lock", "url": "mqtt://127.0.0.1:1883", "room_id": "int-1"},
            {"id": "door-b", "kind": "door_lock", "url": "mqtt://127.0.0.1:1883", "room_id": "int-1"},
            {"id": "gate-1", "kind": "metal_gate", "url": "/dev/ttyUSB0"},  # serial: no MQTT credentials
        ],
    })


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    creds_dir = tmp_path / "mqtt"
    ops.issue_credentials(site(), creds_dir)
    port = free_port()
    conf = ops.broker_conf(creds_dir, port=port).replace("per_listener_settings false\n", "")
    conf = "per_listener_settings false\npersistence false\nlog_dest stderr\n" + conf
    if os.geteuid() == 0:
        conf += "user root\n"  # stay who we are so mosquitto can read the 0600 files it was given
    (tmp_path / "mosquitto.conf").write_text(conf)
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    log = open(tmp_path / "mosquitto.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([exe, "-c", str(tmp_path / "mosquitto.conf")], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:  # bounded poll for the listener of a real process
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "mosquitto.log").read_text()
                assert time.monotonic() < deadline, "mosquitto did not listen"
                time.sleep(0.02)
        import json

        clients = json.loads((creds_dir / "credentials.json").read_text())["clients"]
        yield port, clients
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


class Client:
    """A paho client in its own network thread; messages and SUBACK codes land in queues."""

    def __init__(self, port: int, username: str | None, password: str | None) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.subacks: queue.Queue[list[int]] = queue.Queue()
        self.connack: queue.Queue[int] = queue.Queue()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{username}-{os.urandom(3).hex()}",
                             protocol=mqtt.MQTTv311)
        if username is not None:
            self.c.username_pw_set(username, password)
        self.c.on_connect = lambda c, u, f, rc, p: self.connack.put(rc.value)
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload))
        self.c.on_subscribe = lambda c, u, mid, rcs, p: self.subacks.put([rc.value for rc in rcs])
        self.c.connect("127.0.0.1", port, keepalive=30)
        self.c.loop_start()

    def connected(self) -> int:
        return self.connack.get(timeout=10)

    def subscribe(self, topic: str) -> int:
        self.c.subscribe(topic, qos=1)
        return self.subacks.get(timeout=10)[0]

    def publish(self, topic: str, payload: str) -> None:
        self.c.publish(topic, payload, qos=1).wait_for_publish(timeout=10)

    def until(self, topic: str) -> list[tuple[str, bytes]]:
        """Every message up to and including the first on ``topic`` (bounded wait)."""
        got = []
        while True:
            msg = self.messages.get(timeout=10)
            got.append(msg)
            if msg[0] == topic:
                return got

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def connect(broker: tuple[int, dict[str, Any]]) -> Iterator[Any]:
    port, clients = broker
    made: list[Client] = []

    def make(user: str | None, password: str | None = None) -> Client:
        pw = password if password is not None or user is None else clients[user]["password"]
        c = Client(port, user, pw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def test_only_clients_with_their_own_password_connect(connect: Any) -> None:
    assert connect("controller").connected() == 0
    assert connect("door-a").connected() == 0
    assert connect("door-a", "wrong-password").connected() != 0
    assert connect(None).connected() != 0  # anonymous
    assert connect("gate-1", "anything").connected() != 0  # serial devices get no broker account


def test_a_device_cannot_publish_under_another_devices_topics(connect: Any) -> None:
    controller, a, b = connect("controller"), connect("door-a"), connect("door-b")
    for c in (controller, a, b):
        assert c.connected() == 0
    assert controller.subscribe(f"{ROOT}/#") == 1
    assert b.subscribe(f"{ROOT}/door_lock/door-b/cmd/#") == 1
    a.publish(f"{ROOT}/door_lock/door-b/event/opened", '{"v":1}')
    a.publish(f"{ROOT}/door_lock/door-b/state", '{"v":1}')
    a.publish(f"{ROOT}/door_lock/door-b/cmd/unlock", '{"v":1}')
    a.publish(f"{ROOT}/controller/availability", "offline")  # nor speak for the controller
    a.publish(f"{ROOT}/door_lock/door-b/reply/req-1", '{"v":1,"request_id":"req-1","ok":true}')  # nor answer for b
    a.publish(f"{ROOT}/controller/reply/req-1", '{"v":1,"request_id":"req-1","ok":true}')  # the old shared topic
    a.publish(f"{ROOT}/door_lock/door-a/event/opened", '{"v":1,"marker":true}')
    seen = [t for t, _ in controller.until(f"{ROOT}/door_lock/door-a/event/opened")]
    assert not [t for t in seen if "door-b" in t or "/controller/" in t], seen
    controller.publish(f"{ROOT}/door_lock/door-b/cmd/unlock", '{"v":1,"from":"controller"}')
    got = b.until(f"{ROOT}/door_lock/door-b/cmd/unlock")
    assert len(got) == 1 and b"controller" in got[0][1]  # only the controller's command reached door-b


def test_a_device_cannot_subscribe_to_replies_or_other_devices_commands(connect: Any) -> None:
    controller, a, b = connect("controller"), connect("door-a"), connect("door-b")
    for c in (controller, a, b):
        assert c.connected() == 0
    assert controller.subscribe(f"{ROOT}/+/+/reply/#") == 1
    # Mosquitto 2.0 may grant such a SUBACK (it checks reads per message); what counts is that nothing arrives
    for topic in (f"{ROOT}/+/+/reply/#", f"{ROOT}/door_lock/door-b/cmd/#", f"{ROOT}/#"):
        assert a.subscribe(topic) in (0x80, 0, 1)
    assert a.subscribe(f"{ROOT}/door_lock/door-a/cmd/#") == 1
    b.publish(f"{ROOT}/door_lock/door-b/reply/req-b-1", '{"v":1,"request_id":"req-b-1","ok":true}')
    b.publish(f"{ROOT}/door_lock/door-b/state", '{"v":1}')
    assert controller.until(f"{ROOT}/door_lock/door-b/reply/req-b-1")  # the controller reads device replies
    controller.publish(f"{ROOT}/door_lock/door-b/cmd/unlock", '{"v":1}')
    controller.publish(f"{ROOT}/door_lock/door-a/cmd/lock", '{"v":1}')
    got = a.until(f"{ROOT}/door_lock/door-a/cmd/lock")
    # neither door-b's reply to the controller, nor its state, nor its command reached door-a
    assert {t for t, _ in got} == {f"{ROOT}/door_lock/door-a/cmd/lock"}, got
