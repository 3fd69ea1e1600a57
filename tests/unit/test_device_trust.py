"""The pure parts of issue 16's device trust: recorder signatures, the per-device ACL and keys, the source watch,
and the alarm gate that folds a flood into one write per condition."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

from controller import ops
from controller.services.alarms import AlarmGate
from controller.settings import load_site
from devices.base import ReplyForged, UnknownSource
from devices.recorder import protocol as p
from devices.trust import SourceWatch, parse_key
from tests.conftest import DEMO_SITE

KEY = bytes(range(32))


def test_only_the_recorders_key_signs_its_confirmation() -> None:
    mac = p.sign_start(KEY, "req-1", "rec-9")
    good = p.StartResult(recording_id="rec-9", room_id="int-1", started_at=1.0, mac=mac)
    assert p.start_signed(KEY, "req-1", good)
    assert not p.start_signed(KEY, "req-2", good)  # replayed for another request
    assert not p.start_signed(bytes(32), "req-1", good)  # another key
    assert not p.start_signed(KEY, "req-1", p.StartResult(recording_id="rec-x", room_id="int-1", started_at=1.0,
                                                          mac=mac))  # another recording
    assert not p.start_signed(KEY, "req-1", p.StartResult(recording_id="rec-9", room_id="int-1", started_at=1.0))


def test_each_device_answers_only_on_its_own_reply_topic_and_gets_an_owner_only_key(tmp_path: Path) -> None:
    out = tmp_path / "mqtt"
    ops.issue_credentials(load_site(DEMO_SITE), out)
    acl = (out / "mosquitto.acl").read_text()
    assert "controller/reply" not in acl
    assert "topic write hcc/demo-centre/recorder/rec-int-1/reply/#" in acl
    clients = json.loads((out / "credentials.json").read_text())["clients"]
    key_file = out / "keys" / "rec-int-1.key"
    assert parse_key(key_file.read_text()) == bytes.fromhex(clients["rec-int-1"]["key"])
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and stat.S_IMODE((out / "keys").stat().st_mode) == 0o700
    assert "key" not in clients["controller"]
    again = json.loads((ops.issue_credentials(load_site(DEMO_SITE), out) and out / "credentials.json").read_text())
    assert again["clients"]["rec-int-1"]["key"] == clients["rec-int-1"]["key"]  # kept unless rotated


def test_unknown_sources_are_counted_and_reported_at_the_threshold() -> None:
    got: list[Any] = []
    watch = SourceWatch("s1", [("panic_button", "p-1")], got.append, threshold=3, clock=lambda: 5.0)
    for topic in ("hcc/s1/panic_button/p-1/event/pressed", "hcc/s1/panic_button/p-1/state",
                  "hcc/s1/panic_button/p-1/reply/r1", "hcc/s1/controller/availability"):
        watch.on_message(topic, b"{}")
    assert watch.counts == {} and got == []
    for _ in range(7):
        watch.on_message("hcc/s1/panic_button/ghost/event/pressed", b"{}")
    watch.on_message("hcc/s1/panic_button/p-1/event/pressed/extra", b"{}")
    assert watch.counts == {"panic_button/ghost": 7, "malformed:panic_button/p-1": 1}
    assert [(e.device_id, e.count) for e in got if isinstance(e, UnknownSource)] == [("panic_button/ghost", 3),
                                                                                    ("panic_button/ghost", 6)]
    watch.on_forged_reply("hcc/s1/door_lock/d-2", "req-1", "wrong_device")
    assert got[-1] == ReplyForged("d-2", "door_lock", 5.0, reason="wrong_device", request_id="req-1")


async def test_the_alarm_gate_folds_a_flood_into_a_few_writes_with_the_full_count() -> None:
    written: list[int] = []
    release = asyncio.Event()

    async def write(fn: Any) -> None:
        await release.wait()  # the first write is slow: everything arriving meanwhile is folded
        written.append(fn.keywords["count"])

    gate = AlarmGate(write)
    starts = [gate.note("panic", "panic:p-1", device_id="p-1") for _ in range(5000)]
    assert starts.count(True) == 1
    await asyncio.sleep(0)  # the first write is under way (held), later notes are merged behind it
    more = [gate.note("panic", "panic:p-1", device_id="p-1") for _ in range(10)]
    release.set()
    await gate.drain()
    assert more == [False] * 10
    assert written == [5000, 10] and gate.writes == 2 and gate.noted == 5010
