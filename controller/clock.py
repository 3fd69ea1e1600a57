"""Injectable clocks: the system clock in production, a fake one that tests and demos move by hand.

Everything that reads the time takes a ``Clock``; nothing calls ``datetime.now()`` directly. Times are aware UTC.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told (tests), or runs with the wall clock plus every advance so far (demo).
    Listeners (the scheduler) are called after each advance."""

    def __init__(self, start: datetime | None = None, running: bool = False) -> None:
        self._now = start or datetime.now(UTC).replace(microsecond=0)
        self._running = running
        self._offset = timedelta(0)
        self._listeners: list[Callable[[], object]] = []

    def now(self) -> datetime:
        if self._running:
            return datetime.now(UTC) + self._offset
        return self._now

    def on_advance(self, fn: Callable[[], object]) -> None:
        self._listeners.append(fn)

    def _move(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock never goes back")
        self._now += timedelta(seconds=seconds)
        self._offset += timedelta(seconds=seconds)

    def advance(self, seconds: float) -> datetime:
        """Moves time on and calls the listeners; for a clock with only plain (not async) listeners."""
        self._move(seconds)
        for fn in self._listeners:
            result = fn()
            if asyncio.iscoroutine(result):  # listeners may be async; the caller awaits advance_async instead
                result.close()
                raise TypeError("async listener: use advance_async")
        return self.now()

    async def advance_async(self, seconds: float) -> datetime:
        """Moves time on and awaits each listener (the scheduler's sweep), so timers fire before this returns."""
        self._move(seconds)
        for fn in self._listeners:
            result = fn()
            if asyncio.iscoroutine(result):
                await result
        return self.now()


def utc(dt: datetime) -> datetime:
    """Normalise to aware UTC (SQLite hands back naive datetimes)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
