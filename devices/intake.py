"""A device's intake: a rate limit and a bounded queue between its adapter and the event sink.

One device that floods (a stuck button, a reader gone mad, a forger holding a device's account) must not queue
unbounded work in front of every other device and the API. Each adapter hands its events to its own
:class:`Intake`: a token bucket (``rate_per_s`` on average, ``burst`` at once) lets events straight through while the
device keeps to its rate; beyond it they wait in a queue of at most ``queue_max`` events, delivered in order as the
bucket refills.

When the queue is full, room is made by shedding, in this order:

1. the oldest queued report of the same condition as the new event (same event class, same fields but for time and
   message ids, see :meth:`~devices.base.DeviceEvent.condition`) is folded into the new one;
2. else the oldest queued event that has a newer duplicate in the queue is folded into that duplicate;
3. else (every queued event is distinct) the oldest non-critical event is dropped; the newest critical event (a panic
   press, a door forced open) is never the one dropped.

Folding keeps the count: the surviving event's ``repeats`` adds the folded one's, so "5,000 presses" stays 5,000
presses in one event. ``shed`` counts both kinds (``folded``, ``dropped``) for the device's status and metrics.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Hashable
from typing import Any

from devices.base import DeviceEvent

log = logging.getLogger(__name__)


class Intake:
    def __init__(self, deliver: Callable[[DeviceEvent], None], *, rate_per_s: float = 2000.0, burst: int = 2000,
                 queue_max: int = 1000, clock: Callable[[], float] = time.monotonic, name: str = "") -> None:
        if rate_per_s <= 0 or burst < 1 or queue_max < 1:
            raise ValueError("intake: rate, burst and queue size must be positive")
        self._deliver = deliver
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.queue_max = queue_max
        self._clock = clock
        self.name = name
        self._tokens = float(burst)
        self._stamp = clock()
        self._queue: collections.deque[tuple[Hashable, DeviceEvent]] = collections.deque()
        self._counts: collections.Counter[Hashable] = collections.Counter()  # condition -> how many queued
        self._drainer: asyncio.Task[None] | None = None
        self.received = 0
        self.delivered = 0
        self.shed: dict[str, int] = {"folded": 0, "dropped": 0}
        self._warned = False

    @property
    def queued(self) -> int:
        return len(self._queue)

    def snapshot(self) -> dict[str, Any]:
        return {"received": self.received, "delivered": self.delivered, "queued": len(self._queue),
                "shed": dict(self.shed)}

    # --- intake --------------------------------------------------------------------------------------------------

    def put(self, ev: DeviceEvent) -> None:
        self.received += 1
        if not self._queue and self._take_token():
            self._hand(ev)
            return
        cond = ev.condition()
        if len(self._queue) >= self.queue_max:
            kept = self._make_room(cond, ev)
            if kept is None:
                return  # the new event was the one dropped (distinct, not critical, nothing older to drop)
            ev = kept
        self._queue.append((cond, ev))
        self._counts[cond] += 1
        self._ensure_drainer()

    def _make_room(self, cond: Hashable, ev: DeviceEvent) -> DeviceEvent | None:
        """Frees one place in the full queue; returns the event to append (the new one, maybe with more repeats)."""
        q = self._queue
        if self._counts.get(cond):  # 1. an older report of the same condition: fold it into the new one
            for i, (c, old) in enumerate(q):
                if c == cond:
                    del q[i]
                    self._discount(c)
                    self._note("folded")
                    return dataclasses.replace(ev, repeats=ev.repeats + old.repeats)
        if any(n > 1 for n in self._counts.values()):  # 2. the oldest event that has a newer duplicate
            for i, (c, old) in enumerate(q):
                if self._counts[c] > 1:
                    j = next(k for k in range(i + 1, len(q)) if q[k][0] == c)
                    newer = q[j][1]
                    q[j] = (c, dataclasses.replace(newer, repeats=newer.repeats + old.repeats))
                    del q[i]
                    self._discount(c)
                    self._note("folded")
                    return ev
        # 3. all distinct: drop the oldest non-critical event; never the newest critical one
        victim = next((i for i, (_c, old) in enumerate(q) if not old.critical), None)
        if victim is None:
            if not ev.critical:
                self._note("dropped")
                return None
            victim = 0  # every queued event is critical and distinct: the oldest goes, the newest stays
        c, _old = q[victim]
        del q[victim]
        self._discount(c)
        self._note("dropped")
        return ev

    def _discount(self, cond: Hashable) -> None:
        n = self._counts[cond] - 1
        if n:
            self._counts[cond] = n
        else:
            del self._counts[cond]

    def _note(self, how: str) -> None:
        self.shed[how] += 1
        if not self._warned:
            self._warned = True
            log.warning("%s: more events than the device's intake takes (%.0f/s, queue %d); duplicates are folded "
                        "and counted from here on", self.name, self.rate_per_s, self.queue_max)

    # --- delivery ------------------------------------------------------------------------------------------------

    def _take_token(self) -> bool:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate_per_s)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def _hand(self, ev: DeviceEvent) -> None:
        self.delivered += 1
        try:
            self._deliver(ev)
        except Exception:  # a broken sink must not stop the device
            log.exception("%s: event sink failed on %s", self.name, type(ev).__name__)

    def _ensure_drainer(self) -> None:
        if self._drainer is not None and not self._drainer.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): nothing can wait, deliver what is queued now
            self._flush_now()
            return
        self._drainer = loop.create_task(self._drain(), name=f"intake:{self.name}")

    async def _drain(self) -> None:
        while self._queue:
            if not self._take_token():
                await asyncio.sleep(max((1.0 - self._tokens) / self.rate_per_s, 0.0005))
                continue
            cond, ev = self._queue.popleft()
            self._discount(cond)
            self._hand(ev)

    def _flush_now(self) -> None:
        while self._queue:
            cond, ev = self._queue.popleft()
            self._discount(cond)
            self._hand(ev)

    async def stop(self) -> None:
        """Cancels the drainer; what is still queued is delivered now (the device said it, the sink should know)."""
        task, self._drainer = self._drainer, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._flush_now()
