"""Central platform sync through outages: the real pusher against the real receiver (hw_sim.central, a subprocess).

Every change reaches the platform, in order, applied once, through: a long outage (50,000 changes), random
failures (some after the platform applied the batch), a stalled platform, the controller SIGKILLed mid-batch,
refused signatures and replays, and two pushers started at once.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from controller.clock import FakeClock
from controller.store.db import Database
from controller.store.tables import OutboxEntry
from devices.central_platform.protocol import new_key_file, sign
from tests.reliability.harness import ROOT, ControllerProcess
from tests.reliability.sync_harness import CentralProcess, bulk_outbox, make_pusher, until

pytestmark = pytest.mark.slow
SITE = "demo-centre"


@pytest.fixture(scope="module")
def central_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CentralProcess]:
    proc = CentralProcess(tmp_path_factory.mktemp("central")).start()
    yield proc
    proc.stop()


@pytest.fixture
async def central(central_proc: CentralProcess) -> AsyncIterator[CentralProcess]:
    await central_proc.mode("normal")
    await central_proc.reset()
    yield central_proc
    await central_proc.mode("normal")  # releases any stalled request


def outbox_ids(db: Database) -> list[tuple[int, str]]:
    return db.read_sync(lambda s: [(r[0], r[1]) for r in s.exec(
        select(OutboxEntry.seq, OutboxEntry.event_id).order_by(col(OutboxEntry.seq))).all()])


async def assert_arrived_once_in_order(central: CentralProcess, expected: list[tuple[int, str]]) -> dict[str, Any]:
    events = await central.events()
    assert [(e["seq"], e["event_id"]) for e in events] == expected  # all of them, in seq order, each once
    state = await central.state()
    assert state["events"] == state["distinct_events"] == len(expected)
    assert state["counters"]["order_violations"] == 0
    assert state["sites"][SITE] == expected[-1][0]
    return state


async def test_outage_of_50000_changes_drains_in_order_once(container, central):
    bulk_outbox(container.db, 50_000, container.clock.now())
    expected = outbox_ids(container.db)
    await central.mode("fail")
    pusher, sleep = make_pusher(container.db, central, container.clock)
    await pusher.start()
    try:
        async def failing() -> bool:
            return pusher.state.consecutive_failures >= 6

        await until(failing, what="pusher failures while the platform is down")
        st = await pusher.status()
        assert st["acked_seq"] == 0 and st["lag_rows"] == len(expected)
        assert st["last_error_status"] == 500 and "500" in st["last_error"]
        assert st["lag_seconds"] >= 0
        # capped exponential backoff with jitter: each wait within [d/2, d] of d = min(cap, base * 2**n)
        for n, waited in enumerate(sleep.delays[:6]):
            d = min(2.0, 0.05 * 2 ** n)
            assert d / 2 <= waited <= d, (n, waited)
        await central.mode("normal")

        async def drained() -> bool:
            return (await pusher.status())["lag_rows"] == 0

        await until(drained, timeout=120, what="the 50,000-change backlog to drain")
        st = await pusher.status()
        assert st["acked_seq"] == expected[-1][0] and st["consecutive_failures"] == 0
        assert st["last_success_at"] is not None
    finally:
        await pusher.stop()
    state = await assert_arrived_once_in_order(central, expected)
    assert state["counters"]["duplicates"] == 0


async def test_random_failures_and_lost_answers_apply_nothing_twice(container, central):
    bulk_outbox(container.db, 4000, container.clock.now())
    expected = outbox_ids(container.db)
    await central.mode("random", p=0.4, seed=7)  # half the failures come after the platform applied the batch
    pusher, _sleep = make_pusher(container.db, central, container.clock, batch_size=200)
    await pusher.start()
    try:
        async def drained() -> bool:
            return (await pusher.status())["lag_rows"] == 0

        await until(drained, what="drain through random failures")
    finally:
        await pusher.stop()
    state = await assert_arrived_once_in_order(central, expected)
    assert state["counters"]["injected_failures"] > 0 and pusher.state.failures_total > 0
    assert state["counters"]["duplicates"] > 0  # re-sent batches whose answer was lost: acknowledged, not re-applied


async def test_stalled_platform_times_out_then_drains(container, central):
    bulk_outbox(container.db, 1000, container.clock.now())
    expected = outbox_ids(container.db)
    await central.mode("stall")
    pusher, _sleep = make_pusher(container.db, central, container.clock, request_timeout_seconds=0.3)
    await pusher.start()
    try:
        async def timed_out() -> bool:
            return pusher.state.last_error_reason == "timeout"

        await until(timed_out, what="a timeout against the stalled platform")
        assert (await pusher.status())["acked_seq"] == 0
        await central.mode("normal")

        async def drained() -> bool:
            return (await pusher.status())["lag_rows"] == 0

        await until(drained, what="drain after the stall")
    finally:
        await pusher.stop()
    await assert_arrived_once_in_order(central, expected)


async def test_tampered_and_replayed_batches_are_refused(central):
    key = central.key_file.read_bytes().strip()
    body = json.dumps({"v": 1, "site_id": SITE, "first_seq": 1, "last_seq": 1, "count": 1, "changes": [
        {"seq": 1, "event_id": "e-1", "type": "t", "occurred_at": None, "payload": {"v": 1}}]}).encode()
    headers = sign(key, SITE, "k1", body, time.time())
    async with httpx.AsyncClient(timeout=5) as c:
        tampered = body.replace(b'"seq": 1', b'"seq": 9')
        r = await c.post(central.url, content=tampered, headers=headers)
        assert r.status_code == 401 and r.json()["code"] == "BAD_SIGNATURE"
        forged_site = {**headers, "X-HCC-Site": "other-centre"}
        r = await c.post(central.url, content=body, headers=forged_site)
        assert r.status_code == 401
        stale = sign(key, SITE, "k1", body, time.time() - 3600)
        r = await c.post(central.url, content=body, headers=stale)
        assert r.status_code == 401 and r.json()["code"] == "STALE"
        r = await c.post(central.url, content=body, headers=headers)
        assert r.status_code == 200 and r.json()["applied"] == 1
        r = await c.post(central.url, content=body, headers=headers)  # the same request again: a replay
        assert r.status_code == 409 and r.json()["code"] == "REPLAY"
    state = await central.state()
    assert state["events"] == 1
    assert state["counters"]["rejected_signature"] == 2 and state["counters"]["rejected_replay"] == 1


async def test_pusher_with_a_wrong_key_reports_and_does_not_advance(container, central, tmp_path):
    bulk_outbox(container.db, 300, container.clock.now())
    pusher, _sleep = make_pusher(container.db, central, container.clock, key_file=new_key_file(tmp_path / "k"))
    await pusher.start()
    try:
        async def refused() -> bool:
            return pusher.state.consecutive_failures >= 3

        await until(refused, what="refusals of a wrongly signed batch")
        st = await pusher.status()
        assert st["last_error_status"] == 401 and st["last_error_reason"] == "BAD_SIGNATURE"
        assert st["acked_seq"] == 0 and st["lag_rows"] == len(outbox_ids(container.db))
    finally:
        await pusher.stop()
    assert (await central.state())["events"] == 0


async def test_two_pushers_one_pushes_the_other_takes_over_when_it_dies(container, central, settings):
    bulk_outbox(container.db, 2000, container.clock.now())
    wall = FakeClock(datetime.now(UTC), running=True)  # leases expire when this is moved on
    db_a = Database(settings.db_url(), container.clock)  # two connections, as two processes would have
    db_b = Database(settings.db_url(), container.clock)
    a, _ = make_pusher(db_a, central, container.clock, wall=wall, owner="a")
    b, _ = make_pusher(db_b, central, container.clock, wall=wall, owner="b")
    try:
        await asyncio.gather(a.start(), b.start())

        async def drained() -> bool:
            return (await a.status())["lag_rows"] == 0

        await until(drained, what="the first backlog")
        leader, standby = (a, b) if a.state.changes_acked else (b, a)
        assert leader.state.role == "active" and leader.state.changes_acked > 0

        async def standing_by() -> bool:  # on a loaded machine the second may not have looked at the lease yet
            standby.wake()
            return standby.state.role == "standby"

        await until(standing_by, what="the second pusher to see the lease held and stand by")
        assert standby.state.changes_acked == 0 and standby.state.batches_acked == 0

        # the leader dies without releasing its lease (a SIGKILL): the standby waits for the lease to expire
        assert leader._task is not None
        leader._task.cancel()
        await asyncio.gather(leader._task, return_exceptions=True)
        bulk_outbox(container.db, 1000, container.clock.now())
        assert not await standby._hold_lease()  # the dead leader's lease still holds: nothing may be pushed
        assert standby.state.role == "standby" and standby.state.changes_acked == 0
        wall.advance(6)  # past lease_seconds = 5
        standby.wake()

        async def taken_over() -> bool:
            return (await standby.status())["lag_rows"] == 0

        await until(taken_over, what="the standby to take over and drain")
        assert standby.state.role == "active" and standby.state.changes_acked == 1000
    finally:
        await a.stop()
        await b.stop()
        db_a.close()
        db_b.close()
    state = await assert_arrived_once_in_order(central, outbox_ids(container.db))
    assert state["counters"]["duplicates"] == 0


def outbox_ids_file(db_file: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(db_file) as conn:
        return [(int(a), b) for a, b in conn.execute("SELECT seq, event_id FROM outbox ORDER BY seq")]


def _controller_acked(db_file: Path) -> int:
    with sqlite3.connect(db_file) as conn:
        row = conn.execute("SELECT value FROM kv WHERE key = 'sync.acked'").fetchone()
    return int(json.loads(row[0])["seq"]) if row else 0


async def test_controller_killed_mid_batch_loses_and_doubles_nothing(tmp_path, central):
    site = tmp_path / "site.toml"
    site.write_text((ROOT / "site" / "demo-site.toml").read_text(encoding="utf-8") + f"""
[sync]
platform_url = "{central.url}"
key_file = "{central.key_file}"
batch_size = 500
retry_base_seconds = 0.05
retry_cap_seconds = 0.5
poll_seconds = 0.1
lease_seconds = 2
""", encoding="utf-8")
    proc = ControllerProcess(tmp_path / "data", site=site)
    proc.cli("migrate")
    db = Database(f"sqlite:///{proc.data_dir / 'controller.db'}", FakeClock())
    bulk_outbox(db, 10_000, datetime.now(UTC))
    expected = outbox_ids(db)
    db.close()
    db_file = proc.data_dir / "controller.db"
    # 1) the platform applies the first batch, then takes its time answering: kill the controller meanwhile
    await central.mode("slow", delay_s=30)
    try:
        proc.start()

        async def first_applied() -> bool:
            return (await central.state())["counters"]["batches"] >= 1

        await until(first_applied, what="the first batch to be applied")
        proc.kill()
        assert _controller_acked(db_file) == 0  # applied by the platform, never acknowledged to the controller
        # 2) restart; kill again in full flow, wherever it happens to be
        await central.mode("normal")
        proc.start()

        async def some_more() -> bool:
            return (await central.state())["counters"]["batches"] >= 8

        await until(some_more, what="pushing to resume after the restart")
        proc.kill()
        acked = _controller_acked(db_file)
        assert 0 < acked < expected[-1][0]
        # 3) restart and let it finish
        proc.start()

        async def all_acked() -> bool:
            return _controller_acked(db_file) >= expected[-1][0] and _controller_acked(db_file) == \
                outbox_ids_file(db_file)[-1][0]

        await until(all_acked, timeout=120, what="the rest to drain after the second restart")
    finally:
        proc.stop()
    expected = outbox_ids_file(db_file)  # the controller itself wrote changes while running (start-up, devices)
    state = await assert_arrived_once_in_order(central, expected)
    assert state["counters"]["duplicates"] >= 500  # the first batch came again and was acknowledged, not re-applied
