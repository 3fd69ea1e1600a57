"""Timers: deadline warnings, overdue alarms, late welfare checks, meals and night rest, escalation. Derived from the database each
sweep, so nothing is lost across restarts. The real clock sweeps every ``interval`` seconds; a fake clock
sweeps on every advance, so tests move time without sleeping."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from .clock import FakeClock
from .domain.actor import Actor
from .services import alarms, case_property, notifications, welfare
from .services.context import SiteContext
from .store.db import Database

log = logging.getLogger(__name__)
SYSTEM = Actor.system("scheduler")


class Scheduler:
    def __init__(self, db: Database, ctx: SiteContext, clock: object, interval: float = 5.0) -> None:
        self.db, self.ctx, self.clock, self.interval = db, ctx, clock, interval
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.sweeps = 0
        self.extra: list[Callable[[], Awaitable[object]]] = []  # e.g. the devicebus's grace-period checks
        if isinstance(clock, FakeClock):
            clock.on_advance(self.sweep)

    async def sweep(self) -> int:
        async with self._lock:
            # each looked at from a reader first; the writer runs it only when something is due (db.py)
            n = await self.db.write_when_due(SYSTEM, lambda uow: alarms.sweep(uow, self.ctx)
                                             + notifications.sweep(uow, self.ctx, uow.now)) or 0
            n += await self.db.write_when_due(SYSTEM, lambda uow: case_property.sweep(uow, self.ctx)) or 0
            n += await self.db.write_when_due(SYSTEM, lambda uow: welfare.sweep(uow, self.ctx)) or 0  # meals, rest
            for fn in list(self.extra):
                await fn()
            self.sweeps += 1
            return n

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed sweep must not stop the timers; the next one retries
                log.exception("scheduler sweep failed")
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
