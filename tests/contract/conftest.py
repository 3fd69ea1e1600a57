"""Fixtures for contract tests: a real Mosquitto broker (one per session, or a fresh one for tests that restart it),
a per-test MQTT site id so retained messages never leak between tests, and an event collector with bounded waits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
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
