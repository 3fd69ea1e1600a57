"""The production metal-gate and breathalyser adapters against their simulators over real ptys (ASCII lines)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from devices.base import Availability, DeviceTimeout
from devices.breathalyser.adapter import BreathalyserAdapter, BreathResult
from devices.metal_gate.adapter import GateTransit, MetalGateAdapter
from hw_sim.base import DELAYED, GARBLED, SILENT
from hw_sim.breathalyser import BreathalyserSim
from hw_sim.metal_gate import MetalGateSim
from tests.contract.serial_harness import pull_and_replug_cable, running

OPTIONS = {"baud": 9600, "heartbeat_s": 0, "reopen_max_s": 0.1}


@asynccontextmanager
async def gate(run_dir: Path, sink: Any, **options: Any) -> AsyncIterator[tuple[MetalGateSim, MetalGateAdapter]]:
    sim = MetalGateSim("gate-1", run_dir / "gate-1")
    adapter = MetalGateAdapter("gate-1", str(sim.link_path), OPTIONS | options, on_event=sink)
    async with running(sim, adapter):
        yield sim, adapter


@asynccontextmanager
async def breath_tester(run_dir: Path, sink: Any, **options: Any) -> AsyncIterator[tuple[BreathalyserSim, BreathalyserAdapter]]:
    sim = BreathalyserSim("breath-1", run_dir / "breath-1")
    adapter = BreathalyserAdapter("breath-1", str(sim.link_path), OPTIONS | options, on_event=sink)
    async with running(sim, adapter):
        yield sim, adapter


async def test_each_transit_is_reported_with_its_alarm_zones(tmp_path: Path, collector: Any) -> None:
    async with gate(tmp_path, collector) as (sim, adapter):
        sim.walk_through()
        sim.walk_through(zones=[4, 3])
        events = await collector.wait_count(lambda e: isinstance(e, GateTransit), 2)
        assert [(e.counter, e.alarm, e.zones) for e in events] == [(1, False, ()), (2, True, (3, 4))]
        status = await adapter.status()
        assert (status.ok, status.transits, status.sensitivity) == (True, 2, 5)
        assert adapter.availability == Availability.ONLINE


async def test_garbled_line_is_dropped_and_the_next_read(tmp_path: Path, collector: Any) -> None:
    async with gate(tmp_path, collector) as (sim, adapter):
        sim.set_fault(GARBLED, count=1)
        sim.walk_through(zones=[1])
        sim.walk_through(zones=[2])
        transit = await collector.wait_for(lambda e: isinstance(e, GateTransit))
        assert (transit.counter, transit.zones) == (2, (2,))
        sim.walk_through()
        await collector.wait_count(lambda e: isinstance(e, GateTransit), 2)
        assert adapter.bad.counts["garbage"] == 1
        assert adapter.missed_transits == 0  # the first transit the adapter saw was number 2


async def test_lost_and_repeated_lines_are_counted(tmp_path: Path, collector: Any) -> None:
    async with gate(tmp_path, collector) as (sim, adapter):
        sim.push("PASS 7 zones=")
        sim.push("PASS 7 zones=")
        sim.push("ALARM 10 zones=5")
        await collector.wait_for(lambda e: isinstance(e, GateTransit) and e.counter == 10)
        assert [e.counter for e in collector.of(GateTransit)] == [7, 10]
        assert adapter.missed_transits == 2
        assert adapter.bad.counts["duplicate_transit"] == 1


async def test_silent_gate_times_out_after_three_retries(tmp_path: Path, collector: Any) -> None:
    async with gate(tmp_path, collector) as (sim, adapter):
        sim.set_fault(SILENT)
        with pytest.raises(DeviceTimeout):
            await adapter.status()
        assert sim.requests_seen == 4
        assert adapter.availability == Availability.OFFLINE
        sim.clear_fault(SILENT)
        sim.walk_through()
        await collector.wait_for(lambda e: isinstance(e, GateTransit))
        assert adapter.availability == Availability.ONLINE  # a pushed line proves the gate is back


async def test_delayed_answer_within_the_timeout_is_read(tmp_path: Path, collector: Any) -> None:
    async with gate(tmp_path, collector) as (sim, adapter):
        sim.set_fault(DELAYED, delay_s=0.03)
        assert (await adapter.status()).transits == 0
        assert sim.requests_seen == 1


async def test_gate_recovers_after_the_cable_is_pulled(tmp_path: Path, collector: Any) -> None:
    async with gate(tmp_path, collector, heartbeat_s=0.02) as (sim, adapter):
        await pull_and_replug_cable(sim, adapter, collector)
        sim.walk_through(zones=[6])
        await collector.wait_for(lambda e: isinstance(e, GateTransit) and e.zones == (6,))


async def test_breath_results_are_reported(tmp_path: Path, collector: Any) -> None:
    async with breath_tester(tmp_path, collector) as (sim, adapter):
        sim.set_fault(GARBLED, count=1)
        sim.blow(12.0)
        sim.blow(85.3)
        result = await collector.wait_for(lambda e: isinstance(e, BreathResult))
        assert result.value_mg_100ml == 85.3
        assert (await adapter.status()).tests == 2


async def test_breathalyser_recovers_after_the_cable_is_pulled(tmp_path: Path, collector: Any) -> None:
    async with breath_tester(tmp_path, collector, heartbeat_s=0.02) as (sim, adapter):
        await pull_and_replug_cable(sim, adapter, collector)
        sim.blow(0.0)
        await collector.wait_for(lambda e: isinstance(e, BreathResult))
