"""In-process live event hub: the WebSocket, the devicebus and metrics subscribe to committed changes.

Publishing never blocks: a subscriber that falls too far behind loses its oldest events and is told so
(``{"type": "overflow"}``), so one slow dashboard cannot stall the controller.

A live socket subscribes with ``feed(view)``: the hub applies the socket's role filter as it enqueues and numbers
what passes, 1, 2, 3 … per feed. An event lost to a full queue leaves a gap in those numbers, which is how the page
knows it missed something and must load its lists again.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

Event = dict[str, Any]
View = Callable[[Event], Event | None]


class Feed:
    """One numbered subscription: ``queue`` holds ``(n, event)`` pairs, ``n`` counting up from 1 without gaps
    unless an event was dropped for lack of room."""

    def __init__(self, size: int, view: View) -> None:
        self.queue: asyncio.Queue[tuple[int, Event]] = asyncio.Queue(maxsize=size)
        self.view = view
        self.n = 0
        self.dropped = 0

    def offer(self, ev: Event) -> None:
        out = self.view(ev)
        if out is None:
            return
        self.n += 1
        if self.queue.full():
            try:
                self.queue.get_nowait()  # the oldest goes: its number is never sent, so the reader sees a gap
            except asyncio.QueueEmpty:
                pass
            self.dropped += 1
            out = {"type": "overflow"}  # in place of this one, so a reader that does not count is told too
        self.queue.put_nowait((self.n, out))

    def qsize(self) -> int:
        return self.queue.qsize()


class Hub:
    def __init__(self, queue_size: int = 10000) -> None:
        self._queues: set[Any] = set()  # raw queues and feeds (metrics reads their qsize)
        self._callbacks: list[Callable[[Event], None]] = []
        self._size = queue_size
        self._seq = itertools.count(1)
        self.published = 0

    def subscribe(self) -> asyncio.Queue[Event]:
        q: asyncio.Queue[Event] = asyncio.Queue(maxsize=self._size)
        self._queues.add(q)
        return q

    def feed(self, view: View, size: int | None = None) -> Feed:
        f = Feed(size or self._size, view)
        self._queues.add(f)
        return f

    def unsubscribe(self, q: Any) -> None:
        self._queues.discard(q)

    def on_event(self, fn: Callable[[Event], None]) -> None:
        self._callbacks.append(fn)

    def publish(self, events: list[Event]) -> None:
        for ev in events:
            ev = {"seq": next(self._seq), **ev}
            self.published += 1
            for fn in self._callbacks:
                fn(ev)
            self._enqueue(ev)

    def deliver(self, events: list[Event]) -> None:
        """Events derived from published ones (the typed deltas): to the subscribers' queues only, not to the
        callbacks, so what a callback derives never comes back to it (nor wakes the sync pusher)."""
        for ev in events:
            self.published += 1
            self._enqueue(ev)

    def _enqueue(self, ev: Event) -> None:
        for q in self._queues:
            if isinstance(q, Feed):
                q.offer(ev)
                continue
            if q.full():
                try:
                    q.get_nowait()
                except asyncio.QueueEmpty:
                    pass
                q.put_nowait({"type": "overflow"})
                continue
            q.put_nowait(ev)
