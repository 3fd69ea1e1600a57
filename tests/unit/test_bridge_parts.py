"""The device bridge's parts that need no broker: every device event crosses the boundary as the same dataclass,
the journal answers a repeated request id without running it again (also after a restart mid-command), and
presence leaves the bridge coalesced, with rule 8 decided on the controller's roster and clock."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from controller.bridge.codec import EVENT_TYPES, decode_event, encode_event
from controller.bridge.journal import Journal
from controller.bridge.messages import CommandResult, DeviceEventMsg, PresenceBatch, Roster, StayHere
from controller.bridge.presence import BridgePresence
from controller.settings import load_site
from devices.base import Availability
from devices.id_reader.adapter import CardRead
from devices.id_reader.protocol import IdentityCard
from devices.lock_board.adapter import BoardAvailabilityChanged, LockerChanged
from devices.wristband_reader.adapter import TagAbsent, TagPresent

ROOT = Path(__file__).resolve().parents[2]
SITE = load_site(ROOT / "site" / "demo-site.toml")


def test_every_device_event_class_is_in_the_codec_table() -> None:
    # every class deriving from a DeviceEvent class in devices/ must cross the boundary, or it would be lost
    names = {c.__name__ for c in EVENT_TYPES}
    event_bases = {"DeviceEvent", *names}
    missing = []
    for path in (ROOT / "devices").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(isinstance(b, ast.Name) and b.id in event_bases
                                                      for b in node.bases) and node.name not in names:
                missing.append(f"{path.name}:{node.name}")
    assert missing == []


def test_events_cross_as_the_same_dataclass_bytes_and_dates_included() -> None:
    card = IdentityCard(name="张三", sex="男", nation_code="01", nation="汉", birth_date=dt.date(1990, 1, 2),
                        address="北京市", id_number="11010519900102001X", authority="某公安局",
                        valid_from=dt.date(2020, 1, 1), valid_to=None, no_expiry=True, photo_wlt=b"\x00\xff\x10")
    events = [CardRead("idr-1", "id_reader", identity=card, valid=True, problems=("expired",)),
              LockerChanged("bus-1", "lock_board", board=1, channel=3, open=True, item_present=False, cause="unlock"),
              BoardAvailabilityChanged("bus-1", "lock_board", availability=Availability.DEGRADED, detail="x", board=2),
              TagPresent("wr-1", "wristband_reader", tag_id="T1", zone="reg", rssi=-50.0, event_id="e1")]
    for ev in events:
        wire = DeviceEventMsg.model_validate_json(encode_event(ev).model_dump_json())
        back = decode_event(wire)
        assert back == ev and type(back) is type(ev)


def test_journal_replays_a_result_and_never_reruns_a_command_cut_off_by_a_crash(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    assert j.known("req-aaaaaaaa") is None
    j.start("req-aaaaaaaa")
    j.finish(CommandResult(request_id="req-aaaaaaaa", ok=True, data={"recording_id": "R1"}))
    j.start("req-bbbbbbbb")  # the process dies here: the device may or may not have acted
    j.close()
    with open(tmp_path / "j.jsonl", "a") as f:
        f.write('{"id": "req-cccc')  # a line torn by the SIGKILL
    again = Journal(tmp_path / "j.jsonl")
    done = again.known("req-aaaaaaaa")
    assert done is not None and done.ok and done.replayed and done.data == {"recording_id": "R1"}
    cut = again.known("req-bbbbbbbb")
    assert cut is not None and not cut.ok and cut.code == "BRIDGE_INDETERMINATE"
    assert again.known("req-cccccccc") is None
    again.close()


def _present(tag: str, zone: str) -> TagPresent:
    return TagPresent("wr-1", "wristband_reader", tag_id=tag, zone=zone, rssi=-40.0, event_id=f"{tag}{zone}")


def _flush(p: BridgePresence) -> tuple[PresenceBatch | None, PresenceBatch | None]:
    """What the bridge sends on a flush, in its order: the moves, then rule 8's findings."""
    return p.take_moves(), p.take_findings()


def test_presence_is_coalesced_and_rule_8_runs_on_the_roster_and_its_clock() -> None:
    p = BridgePresence(SITE)
    moved = [p.on_present(_present("T1", "reg")) for _ in range(10)]
    assert moved == [True] + [False] * 9  # a 10 Hz reader repeating the same place: only the first wakes the flush
    first, found = _flush(p)
    assert first is not None and first.reports == 10 and first.findings == []
    assert [(c.tag_id, c.zone, c.from_zone) for c in first.changes] == [("T1", "reg", None)]
    assert found is None  # no roster yet: nobody is known
    for _ in range(5):
        p.on_present(_present("T1", "reg"))
    assert _flush(p) == (None, None)
    p.on_present(_present("T1", "search"))
    p.on_present(_present("T1", "collect"))  # moved twice before the flush: one change from where it was seen
    batch, _ = _flush(p)
    assert batch is not None and [(c.zone, c.from_zone) for c in batch.changes] == [("collect", "reg")]
    p.on_absent(TagAbsent("wr-1", "wristband_reader", tag_id="T1", zone="collect", event_id="a1"))
    gone, _ = _flush(p)
    assert gone is not None and [(c.zone, c.from_zone) for c in gone.changes] == [(None, "collect")]

    # two subjects of one case in one room: co-case contact at once (no grace); alone in 'collect': after 60 s
    t0 = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    roster = Roster(tag_owner={"S1": ("stay", "st1"), "S2": ("stay", "st2")},
                    stays={"st1": StayHere(case_no="C1", state="in_room", allowed=["collect"]),
                           "st2": StayHere(case_no="C1", state="in_room", allowed=["collect"])}, now=t0)
    p.set_roster(roster)
    p.on_present(_present("S1", "collect"))
    p.on_present(_present("S2", "collect"))
    moves, out = _flush(p)  # the moves leave on their own, before rule 8 is judged
    assert moves is not None and moves.findings == [] and {c.tag_id for c in moves.changes} == {"S1", "S2"}
    assert out is not None and out.changes == [] and {f.kind for f in out.findings} == {"co_case_contact"}
    p.set_roster(roster.model_copy(update={"now": t0 + timedelta(seconds=61), "check_all": True}))
    none, later = _flush(p)
    assert none is None and later is not None and {f.kind for f in later.findings} == {"unattended"}
    assert {f.stay_id for f in later.findings} == {"st1", "st2"}


async def test_command_without_a_broker_link_fails_as_unavailable_after_the_grace(tmp_path: Path,
                                                                                   monkeypatch: Any) -> None:
    """No broker at all (nothing listens on the port): the command is never handed over, and after the short
    grace the caller hears "device unavailable" in words, not after the whole 15 s command timeout."""
    import socket

    import pytest

    from controller.bridge import client as bridge_client
    from devices.base import DeviceUnavailable

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: a port nothing listens on
    site = SITE.model_copy(update={"mqtt": SITE.mqtt.model_copy(update={"url": f"mqtt://127.0.0.1:{port}"})})
    monkeypatch.setattr(bridge_client, "LINK_GRACE_S", 0.2)
    client = bridge_client.BridgeClient(site, tmp_path, lambda ev: None, lambda batch: None, timeout_s=15)
    await client.start()
    try:
        with pytest.raises(DeviceUnavailable) as err:
            await asyncio.wait_for(client.command("locker_open", "lock-bus-1", {"board": 1, "channel": 1}), 5)
        assert err.value.message_zh == "设备不在线"
        assert not client._pending  # nothing left waiting to be resent when a broker appears
    finally:
        await client.stop()


def test_presence_lag_is_kept_by_stage_for_metrics(tmp_path: Path) -> None:
    """Each move's lag from the reader's report to the bridge's send, and the batch's from the bridge to here,
    land in a histogram /metrics renders (cumulative buckets, +Inf = every observation)."""
    import time

    from controller.bridge.client import BridgeClient, LagHistogram
    from controller.bridge.messages import LocationChange

    got: list[PresenceBatch] = []
    client = BridgeClient(SITE, tmp_path, lambda ev: None, got.append)
    sent = time.time() - 0.02  # sent 20 ms ago; the reports 0.3 s and 3 ms before that
    batch = PresenceBatch(changes=[LocationChange(tag_id="T1", zone="reg", from_zone=None, device_id="wr-1",
                                                  t_sent=sent - 0.3),
                                   LocationChange(tag_id="T2", zone="reg", from_zone="search", device_id="wr-1",
                                                  t_sent=sent - 0.003)], sent_at=sent)
    client._on_presence("t", batch.model_dump_json().encode())
    assert len(got) == 1
    lag = client.presence_lag
    reader = dict(lag.cumulative("reader"))
    assert reader["0.005"] == 1 and reader["0.25"] == 1 and reader["0.5"] == 2 and reader["+Inf"] == 2
    bridge = dict(lag.cumulative("bridge"))
    assert bridge["0.01"] == 0 and bridge["0.025"] == 1 and bridge["+Inf"] == 1
    assert abs(lag.sums["reader"] - 0.303) < 1e-6
    old = PresenceBatch(changes=batch.changes)  # from a bridge that does not stamp its batches: not counted
    client._on_presence("t", old.model_dump_json().encode())
    assert dict(lag.cumulative("reader"))["+Inf"] == 2
    h = LagHistogram()
    h.observe("x", 99.0)  # above every bound: only +Inf counts it
    assert dict(h.cumulative("x")) == {**{f"{b:g}": 0 for b in LagHistogram.BUCKETS}, "+Inf": 1}
