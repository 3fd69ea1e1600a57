"""``Database.write_when_due``: the timer sweeps look first from a reader connection and take the one writer thread
only when something is due -- on a real database file, with the real sweeps and the real SQLite connections."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import select

from controller.domain.actor import Actor
from controller.store.db import UnitOfWork
from controller.store.tables import KeyValue

ACTOR = Actor.system("test")


async def test_nothing_due_never_takes_the_writer(container: Any) -> None:
    db = container.db
    before = db.commits
    assert await db.write_when_due(ACTOR, lambda uow: 0) is None
    assert await db.write_when_due(ACTOR, lambda uow: uow.session.exec(select(KeyValue)).all() and 0) is None
    assert db.commits == before, "a sweep that finds nothing commits nothing"


async def test_a_change_is_committed_by_the_writer(container: Any) -> None:
    db = container.db

    def add(uow: UnitOfWork) -> int:
        uow.session.add(KeyValue(key="due-1", value={"n": 1}))
        return 0  # says nothing: the session's new row alone makes it due

    before = db.commits
    assert await db.write_when_due(ACTOR, add) == 0
    assert db.commits == before + 1
    rows = await db.read(lambda s: s.exec(select(KeyValue).where(KeyValue.key == "due-1")).all())
    assert [r.value for r in rows] == [{"n": 1}]


async def test_a_bulk_statement_the_reader_refuses_goes_to_the_writer(container: Any) -> None:
    db = container.db
    await db.write(ACTOR, lambda uow: uow.session.add(KeyValue(key="due-2", value={"n": 1})))

    def bump(uow: UnitOfWork) -> None:  # no ORM object touched, no result: only the statement itself writes
        uow.session.execute(update(KeyValue).where(KeyValue.key == "due-2").values(value={"n": 2}))

    await db.write_when_due(ACTOR, bump)
    rows = await db.read(lambda s: s.exec(select(KeyValue).where(KeyValue.key == "due-2")).all())
    assert [r.value for r in rows] == [{"n": 2}]


async def test_the_scheduler_sweeps_a_quiet_centre_without_a_write_transaction(container: Any) -> None:
    """Every sweep (timers, notifications, case property, welfare, the daily report) over a centre where nothing
    is due commits nothing: the writer stays free for the requests. (That due timers still fire through this path
    is what the timer, welfare and report tests check through the API.)"""
    c = container
    await c.scheduler.sweep()  # whatever the fresh centre had due (the first daily report, say)
    before, sweeps = c.db.commits, c.scheduler.sweeps
    await c.scheduler.sweep()
    await c.scheduler.sweep()
    assert c.scheduler.sweeps == sweeps + 2
    assert c.db.commits == before, "nothing new was due: no write transaction"
