"""Reads never wait behind a queue of writes (issue 16: a flood of writes stalled every screen and /healthz).

Each test holds a write transaction open on the writer thread (it has written and not committed), queues more
writes behind it, and shows a read — a plain ``db.read`` and a signed-in GET — answering while every one of those
writes is still pending. Order, not time: the waits below only guard against a hang on the old single thread.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from controller.store.db import Actor, UnitOfWork
from controller.store.tables import KeyValue, Stay
from tests.conftest import Api, walk

GUARD = 60.0  # seconds before a read still waiting is taken for a hang (the old code's behaviour)


class HeldWrite:
    """A write transaction that has written a row and waits, holding the write lock, until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, uow: UnitOfWork) -> None:
        uow.session.add(KeyValue(key="held", value={"n": 1}))
        uow.session.flush()  # the row is written: the transaction holds SQLite's write lock from here
        self.entered.set()
        self.release.wait(GUARD)


def _queued(container: Any, n: int) -> list[asyncio.Task[Any]]:
    def bump(i: int) -> Any:
        return lambda uow: uow.session.add(KeyValue(key=f"queued-{i}", value={"i": i}))

    return [asyncio.create_task(container.db.write(Actor.system("test"), bump(i))) for i in range(n)]


async def test_a_read_answers_while_a_write_is_held_and_more_are_queued(container: Any) -> None:
    held = HeldWrite()
    first = asyncio.create_task(container.db.write(Actor.system("test"), held))
    try:
        assert await asyncio.to_thread(held.entered.wait, GUARD)
        queued = _queued(container, 50)
        await asyncio.sleep(0)  # the queued writes reach the writer's queue before the read is asked for
        seen = await asyncio.wait_for(container.db.read(lambda s: (s.get(KeyValue, "held"), s.get(KeyValue, "queued-0"))),
                                      GUARD)
        assert not first.done() and not any(t.done() for t in queued)  # the read came first
        assert seen == (None, None)  # and it saw the last commit, not the open transaction
    finally:
        held.release.set()
    await first
    await asyncio.gather(*queued)
    after = await container.db.read(lambda s: (s.get(KeyValue, "held"), s.get(KeyValue, "queued-49")))
    assert after[0] is not None and after[1] is not None and after[1].value == {"i": 49}


async def test_a_signed_in_get_answers_while_writes_queue(api: Api, container: Any) -> None:
    stay = await walk(api, to="registered")
    await api.login("2001")  # signing in is a write: done before the writer is held
    held = HeldWrite()
    first = asyncio.create_task(container.db.write(Actor.system("test"), held))
    try:
        assert await asyncio.to_thread(held.entered.wait, GUARD)
        queued = _queued(container, 20)
        await asyncio.sleep(0)
        status, view = await asyncio.wait_for(api.get(f"/api/v1/stays/{stay['id']}", as_="2001"), GUARD)
        assert status == 200 and view["id"] == stay["id"] and view["version"] == stay["version"]
        assert not first.done() and not any(t.done() for t in queued)
    finally:
        held.release.set()
    await first
    await asyncio.gather(*queued)


async def test_a_read_that_tries_to_write_fails_loudly(container: Any) -> None:
    with pytest.raises(OperationalError):
        await container.db.read(lambda s: (s.add(KeyValue(key="sneaky", value={})), s.flush()))
    assert await container.db.read(lambda s: s.get(KeyValue, "sneaky")) is None
    assert await container.db.read(lambda s: s.get(Stay, "no-such-stay")) is None
