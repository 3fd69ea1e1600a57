"""Fixtures for contract tests: a real Mosquitto broker (one per session, or a fresh one for tests that restart it),
a per-test MQTT site id so retained messages never leak between tests, and an event collector with bounded waits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from hw_sim.broker import MosquittoProcess, find_mosquitto

needs_mosquitto = pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed (apt install mosquitto)")


@pytest.fixture(scope="session")
def mqtt_broker() -> Iterator[MosquittoProcess]:
    """A real Mosquitto on a free port for the whole session. Tests isolate themselves by ``mqtt_site``."""
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (apt install mosquitto)")
    broker = MosquittoProcess().start()
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture
def fresh_broker() -> Iterator[MosquittoProcess]:
    """A Mosquitto of this test alone, which it may stop and start again on the same port."""
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (apt install mosquitto)")
    broker = MosquittoProcess().start()
    try:
        yield broker
    finally:
        broker.close()


@pytest.fixture
def mqtt_site() -> str:
    """A site id unique to this test: its topics (and retained messages) are its own on the shared broker."""
    return f"t-{uuid.uuid4().hex[:10]}"


class Collector:
    """An EventSink that records events and lets a test await one matching a predicate (bounded wait)."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._changed = asyncio.Event()

    def __call__(self, item: Any) -> None:
        self.items.append(item)
        self._changed.set()

    def of(self, cls: type) -> list[Any]:
        return [i for i in self.items if isinstance(i, cls)]

    async def wait_for(self, pred: Callable[[Any], bool], timeout_s: float = 5.0) -> Any:
        async with asyncio.timeout(timeout_s):
            while True:
                for item in self.items:
                    if pred(item):
                        return item
                self._changed.clear()
                await self._changed.wait()

    async def wait_count(self, pred: Callable[[Any], bool], n: int, timeout_s: float = 5.0) -> list[Any]:
        async with asyncio.timeout(timeout_s):
            while True:
                found = [i for i in self.items if pred(i)]
                if len(found) >= n:
                    return found
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
def collector() -> Collector:
    return Collector()


class Rig:
    """A controller-side MQTT link plus simulated devices and their adapters, all stopped at teardown."""

    def __init__(self, url: str, site: str) -> None:
        from devices import mqtt_proto
        from devices.transport.mqtt import MqttLink

        self.url, self.site = url, site
        self.link = MqttLink(url, site=site, availability_topic=mqtt_proto.controller_topic(site, "availability"))
        self.events = Collector()
        self.sims: list[Any] = []
        self.adapters: list[Any] = []

    async def pair(self, sim_cls: type, adapter_cls: type, device_id: str, *, room_id: str | None = None,
                   sim_options: dict[str, Any] | None = None, sim_kw: dict[str, Any] | None = None,
                   **adapter_kw: Any) -> tuple[Any, Any]:
        """Start a simulated device and its production adapter; return both once the adapter sees it online."""
        from devices.base import Availability, AvailabilityChanged

        sim = sim_cls(device_id, url=self.url, site=self.site, room_id=room_id, options=sim_options or {},
                      **(sim_kw or {}))
        self.sims.append(sim)
        await sim.start()
        await sim.wait_ready(5)
        adapter = adapter_cls(device_id, self.link, self.events, room_id=room_id, **adapter_kw)
        self.adapters.append(adapter)
        await adapter.start()
        await self.events.wait_for(lambda e: isinstance(e, AvailabilityChanged) and e.device_id == device_id
                                   and e.availability == Availability.ONLINE)
        return sim, adapter

    async def close(self) -> None:
        for a in self.adapters:
            await a.stop()
        for s in self.sims:
            await s.stop()
        await self.link.stop()


@pytest.fixture
async def rig(mqtt_broker: MosquittoProcess, mqtt_site: str) -> AsyncIterator[Rig]:
    r = Rig(mqtt_broker.url, mqtt_site)
    await r.link.start()
    await r.link.wait_connected(5)
    try:
        yield r
    finally:
        await r.close()
