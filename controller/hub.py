"""In-process live event hub: the WebSocket, the devicebus and metrics subscribe to committed changes.

Publishing never blocks: a subscriber that falls too far behind loses its oldest events and is told so
(``{"type": "overflow"}``), so one slow dashboard cannot stall the controller.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

Event = dict[str, Any]


class Hub:
    def __init__(self, queue_size: int = 10000) -> None:
        self._queues: set[asyncio.Queue[Event]] = set()
        self._callbacks: list[Callable[[Event], None]] = []
        self._size = queue_size
        self._seq = itertools.count(1)
        self.published = 0

    def subscribe(self) -> asyncio.Queue[Event]:
        q: asyncio.Queue[Event] = asyncio.Queue(maxsize=self._size)
        self._queues.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[Event]) -> None:
        self._queues.discard(q)

    def on_event(self, fn: Callable[[Event], None]) -> None:
        self._callbacks.append(fn)

    def publish(self, events: list[Event]) -> None:
        for ev in events:
            ev = {"seq": next(self._seq), **ev}
            self.published += 1
            for fn in self._callbacks:
                fn(ev)
            for q in self._queues:
                if q.full():
                    try:
                        q.get_nowait()
                    except asyncio.QueueEmpty:
                        pass
                    q.put_nowait({"type": "overflow"})
                    continue
                q.put_nowait(ev)
