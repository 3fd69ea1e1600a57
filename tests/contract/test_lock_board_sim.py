"""The production lock-bus adapter against the simulated bus over a real pty: commands, faults, events, recovery."""

from __future__ import annotations

import asyncio
import os
import tempfile
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import serial
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.base import (
    Availability,
    AvailabilityChanged,
    DeviceError,
    DeviceRejected,
    DeviceTimeout,
    DeviceUnavailable,
)
from devices.lock_board.adapter import BoardAvailabilityChanged, LockBoardAdapter, LockerChanged
from devices.lock_board.protocol import BoardSpec
from devices.serial_device import RECOVER_AFTER
from hw_sim.base import BAD_CHECKSUM, DELAYED, GARBLED, OFFLINE, SILENT, SimDevice
from hw_sim.lock_board import STUCK_LATCH, LockBusSim
from hw_sim.serial_devices import build_serial_sims
from tests.contract.serial_harness import pull_and_replug_cable, running

BOARDS = [BoardSpec(0, 16, "high_is_open"), BoardSpec(1, 16, "high_is_open"), BoardSpec(2, 16, "low_is_open")]


@asynccontextmanager
async def bus(run_dir: Path, sink: Any, **options: Any) -> AsyncIterator[tuple[LockBusSim, LockBoardAdapter]]:
    sim = LockBusSim("lock-bus-1", run_dir / "lock-bus-1", BOARDS)
    opts = {"baud": 19200, "poll_s": 0, "reopen_max_s": 0.1} | options
    adapter = LockBoardAdapter("lock-bus-1", str(run_dir / "lock-bus-1"), opts, boards=BOARDS, on_event=sink)
    async with running(sim, adapter):
        yield sim, adapter


def lockers(collector: Any, **match: Any) -> list[LockerChanged]:
    return [e for e in collector.of(LockerChanged) if all(getattr(e, k) == v for k, v in match.items())]


async def test_unlock_opens_only_the_asked_compartment_and_reports_it(tmp_path: Path, collector: Any) -> None:
    async with bus(tmp_path, collector) as (sim, adapter):
        await adapter.unlock(1, 5)
        assert sim.actuations == [(1, 5)]
        assert [(b, c) for b in range(3) for c in range(16) if sim.is_open(b, c)] == [(1, 5)]
        assert lockers(collector, board=1, channel=5, open=True, cause="unlock")


async def test_status_applies_each_boards_latch_polarity(tmp_path: Path, collector: Any) -> None:
    async with bus(tmp_path, collector) as (sim, adapter):
        sim.open_by_hand(2, 3)
        sim.open_by_hand(0, 3)
        sim.put_item(2, 7)
        low = await adapter.status_all(2)
        high = await adapter.status_all(0)
        assert [c for c, s in enumerate(low) if s.open] == [3]
        assert [c for c, s in enumerate(high) if s.open] == [3]
        assert [c for c, s in enumerate(low) if s.item_present] == [7]
        assert (await adapter.status(2, 4)).open is False
        await adapter.unlock(2, 9)
        assert sim.is_open(2, 9)


async def test_silent_board_times_out_after_three_retries(tmp_path: Path, collector: Any) -> None:
    async with bus(tmp_path, collector) as (sim, adapter):
        sim.set_fault(SILENT, board=1)
        with pytest.raises(DeviceTimeout):
            await adapter.status_all(1)
        assert sim.requests_seen == 4  # one try and three retries
        assert adapter.board_availability(1) == Availability.OFFLINE
        await adapter.status_all(0)  # the other boards still answer
        assert adapter.availability == Availability.DEGRADED


@pytest.mark.parametrize("fault", [GARBLED, BAD_CHECKSUM])
async def test_spoiled_reply_is_dropped_and_the_retry_read(tmp_path: Path, collector: Any, fault: str) -> None:
    async with bus(tmp_path, collector) as (sim, adapter):
        sim.set_fault(fault, count=2)
        await adapter.unlock(0, 1)
        assert sim.requests_seen == 3
        assert set(sim.actuations) == {(0, 1)}
        assert adapter.board_availability(0) == Availability.DEGRADED
        assert sum(adapter.bad.counts.values()) >= 2
        for _ in range(RECOVER_AFTER):
            await adapter.status_all(0)
        assert adapter.board_availability(0) == Availability.ONLINE


async def test_delay_within_the_timeout_is_tolerated_and_beyond_it_times_out(tmp_path: Path, collector: Any) -> None:
    async with bus(tmp_path, collector) as (sim, adapter):
        sim.set_fault(DELAYED, delay_s=0.03)
        await adapter.status_all(0)
        assert sim.requests_seen == 1
        sim.set_fault(DELAYED, delay_s=5.0)
        with pytest.raises(DeviceTimeout):
            await adapter.status_all(0)


async def test_stuck_latch_is_rejected_and_not_reported_open(tmp_path: Path, collector: Any) -> None:
    async with bus(tmp_path, collector) as (sim, adapter):
        sim.set_fault(STUCK_LATCH, board=0, channel=4)
        with pytest.raises(DeviceRejected, match="latch did not open"):
            await adapter.unlock(0, 4)
        assert not sim.is_open(0, 4)
        assert not lockers(collector, open=True)
        await adapter.unlock(0, 5)  # the rest of the board works


async def test_pulled_cable_goes_offline_and_recovers(tmp_path: Path, collector: Any) -> None:
    async with bus(tmp_path, collector, poll_s=0.02) as (sim, adapter):
        await pull_and_replug_cable(sim, adapter, collector)
        await collector.wait_for(
            lambda e: isinstance(e, BoardAvailabilityChanged) and e.availability == Availability.ONLINE
        )
        await adapter.unlock(0, 0)
        assert sim.is_open(0, 0)
        sim.set_fault(OFFLINE)
        await collector.wait_for(lambda e: type(e) is AvailabilityChanged and e.availability == Availability.OFFLINE)
        with pytest.raises(DeviceUnavailable):
            await adapter.unlock(0, 1)
        assert not sim.is_open(0, 1)


async def test_poll_reports_hand_opening_closing_and_items(tmp_path: Path, collector: Any) -> None:
    async with bus(tmp_path, collector, poll_s=0.02) as (sim, adapter):
        sim.put_item(1, 0)
        await collector.wait_for(lambda e: isinstance(e, LockerChanged) and e.cause == "initial")
        await adapter.unlock(0, 3)
        sim.open_by_hand(1, 2)
        forced = await collector.wait_for(lambda e: isinstance(e, LockerChanged) and e.cause == "forced")
        assert (forced.board, forced.channel, forced.open) == (1, 2, True)
        sim.close_door(0, 3)
        sim.remove_item(1, 0)
        await collector.wait_for(lambda e: isinstance(e, LockerChanged) and e.cause == "closed")
        await collector.wait_for(lambda e: isinstance(e, LockerChanged) and e.cause == "item_removed")
        assert [(e.board, e.channel) for e in lockers(collector, cause="unlock")] == [(0, 3)]
        assert len(lockers(collector, cause="forced")) == 1


FAULT = st.tuples(
    st.sampled_from([SILENT, GARBLED, BAD_CHECKSUM, DELAYED, STUCK_LATCH]),
    st.sampled_from([None, 0, 1, 2]),
    st.integers(1, 3),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    faults=st.lists(FAULT, max_size=3),
    asked=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 7)), min_size=1, max_size=4),
    forced=st.tuples(st.integers(0, 2), st.integers(8, 15)),
    forced_at=st.integers(0, 3),
)
def test_under_any_faults_only_asked_compartments_open_and_forcing_is_reported(
    faults: list[tuple[str, int | None, int]],
    asked: list[tuple[int, int]],
    forced: tuple[int, int],
    forced_at: int,
) -> None:
    events: list[Any] = []

    async def scenario() -> None:
        with tempfile.TemporaryDirectory() as run_dir:
            async with bus(Path(run_dir), events.append, timeout_s=0.02) as (sim, adapter):
                await adapter.poll_once()
                for name, board, count in faults:
                    sim.set_fault(name, board=board, count=count, delay_s=0.03)
                for i, (board, ch) in enumerate(asked):
                    if i == forced_at:
                        sim.open_by_hand(*forced)
                    try:
                        await adapter.unlock(board, ch)
                    except DeviceError:
                        pass
                if forced_at >= len(asked):
                    sim.open_by_hand(*forced)
                sim.clear_fault()
                adapter.timeout_s = 0.5  # the final look must not miss a board on a busy machine
                await adapter.poll_once()
                opened = {(b, c) for b in range(3) for c in range(16) if sim.is_open(b, c)}
                assert set(sim.actuations) <= set(asked)
                assert opened <= set(asked) | {forced}
                reports = [e for e in events if isinstance(e, LockerChanged) and (e.board, e.channel) == forced]
                assert [(e.open, e.cause) for e in reports] == [(True, "forced")]
                for e in events:
                    if isinstance(e, LockerChanged) and e.cause == "unlock":
                        assert (e.board, e.channel) in set(sim.actuations)

    asyncio.run(scenario())


@pytest.fixture
def demo_site() -> dict[str, Any]:
    return tomllib.loads((Path(__file__).parents[2] / "site" / "demo-site.toml").read_text(encoding="utf-8"))


async def test_demo_site_simulators_match_its_config(tmp_path: Path, collector: Any, demo_site: Any) -> None:
    raw = demo_site
    sims = {s.device_id: s for s in build_serial_sims(raw, tmp_path)}
    assert {k: s.kind for k, s in sims.items()} == {
        "lock-bus-1": "lock_board", "idr-reg": "id_reader", "gate-1": "metal_gate", "breath-1": "breathalyser",
    }
    assert all(isinstance(s, SimDevice) for s in sims.values())
    sim = sims["lock-bus-1"]
    assert isinstance(sim, LockBusSim) and sim.port.baud == 19200 and sims["idr-reg"].port.baud == 115200
    banks = [b for b in raw["locker_banks"] if b["bus"] == "lock-bus-1"]
    adapter = LockBoardAdapter("lock-bus-1", str(tmp_path / "lock-bus-1"), {"boards": banks, "poll_s": 0},
                               on_event=collector)
    async with running(sim, adapter):
        sim.open_by_hand(2, 0)  # board 2 is wired low_is_open
        assert [c for c, s in enumerate(await adapter.status_all(2)) if s.open] == [0]
    assert not os.path.lexists(tmp_path / "lock-bus-1")  # noqa: ASYNC240 - a stat on tmpfs


async def test_published_frames_over_the_pty(tmp_path: Path) -> None:
    """Raw published KR-CU16 requests written to the simulated bus get the published fixed 9-byte replies."""
    sim = LockBusSim("lock-bus-1", tmp_path / "lock-bus-1", BOARDS)
    await sim.start()
    ser = serial.Serial(str(tmp_path / "lock-bus-1"), 19200, timeout=2)  # the host side, as a real driver opens it
    try:
        async def exchange(request: bytes, n: int) -> bytes:
            await asyncio.to_thread(ser.write, request)
            return bytes(await asyncio.to_thread(ser.read, n))

        sim.open_by_hand(0, 1)
        sim.put_item(0, 9)
        # status of board 0, the literal "02 00 30 03 35" of the public drivers; board 0 is wired high_is_open,
        # so channel 1 (bit 1 of L1-8) reads 1; channel 9 (bit 1 of IR9-16) holds an item
        assert await exchange(bytes.fromhex("02 00 30 03 35"), 9) == bytes.fromhex("02 00 35 02 00 00 02 03 3e")
        # unlock board 0 channel 0 ("02 00 31 03 36"): answered by the same status frame, bit 0 now set
        assert await exchange(bytes.fromhex("02 00 31 03 36"), 9) == bytes.fromhex("02 00 35 03 00 00 02 03 3f")
        assert sim.is_open(0, 0)
        # board 2 (low_is_open, i.e. hook bit set = locked, as the published drivers read it), all doors closed
        assert await exchange(bytes.fromhex("02 20 30 03 55"), 9) == bytes.fromhex("02 20 35 ff ff 00 00 03 58")
        # the old dialect's group command byte (lock 20 = 0x41) is no CU16 command: the board stays silent
        ser.timeout = 0.3
        assert await exchange(bytes((0x02, 0x24, 0x41, 0x03, 0x6A)), 1) == b""
        assert sim.actuations == [(0, 0)]
    finally:
        ser.close()
        await sim.stop()


async def test_old_dialect_reply_is_dropped_and_the_retry_read(tmp_path: Path, collector: Any) -> None:
    async with bus(tmp_path, collector) as (sim, adapter):
        # the length-prefixed reply of the old dialect ("02 00 31 03 00 01 00 03 3a") is no CU16 frame
        sim.port.write(bytes.fromhex("02 00 31 03 00 01 00 03 3a"))
        await adapter.unlock(0, 2)
        assert sim.is_open(0, 2)
        assert adapter.bad.counts["bad_frame"] >= 1 and sim.requests_seen == 1
