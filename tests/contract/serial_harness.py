"""Helpers the serial contract tests share: run a simulator and an adapter together, and the cable-pull check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from devices.base import Availability, AvailabilityChanged
from devices.serial_device import SerialAdapter
from hw_sim.base import OFFLINE
from hw_sim.serial_sim import SerialSim


@asynccontextmanager
async def running(sim: SerialSim, adapter: SerialAdapter) -> AsyncIterator[None]:
    """Start the simulator, then the adapter; wait for the port to open; stop both, whatever happens."""
    await sim.start()
    try:
        await adapter.start()
        try:
            await adapter.link.wait_connected(2.0)
            yield
        finally:
            await adapter.stop()
    finally:
        await sim.stop()


def _availability(value: Availability) -> Any:
    return lambda e: type(e) is AvailabilityChanged and e.availability == value


async def pull_and_replug_cable(sim: SerialSim, adapter: SerialAdapter, collector: Any) -> None:
    """The adapter (with its poll or heartbeat running) goes online, offline when the pty closes, online again."""
    await collector.wait_for(_availability(Availability.ONLINE))
    sim.set_fault(OFFLINE)
    await collector.wait_for(_availability(Availability.OFFLINE))
    assert not adapter.link.connected
    collector.items.clear()
    sim.clear_fault(OFFLINE)
    await collector.wait_for(_availability(Availability.ONLINE))
    assert adapter.link.opens == 2
