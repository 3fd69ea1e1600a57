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


async def test_where_reads_share_the_writers_engine_a_bulk_statement_is_still_committed(tmp_path: Any) -> None:
    """PostgreSQL (and in-memory SQLite) has no query_only reader: reads share the writer's engine. The look-first
    transaction is then made read-only itself, so a write it would have made and rolled back unseen goes to the
    writer instead; the connection is writable again after. (Here a database file with its reads put on the
    writer's engine and thread, as the shared case has them.)"""
    from datetime import UTC, datetime

    from sqlmodel import SQLModel

    from controller.clock import FakeClock
    from controller.store.db import Database

    db = Database(f"sqlite:///{tmp_path / 'shared.db'}", FakeClock(datetime(2026, 11, 22, 1, 0, tzinfo=UTC)))
    SQLModel.metadata.create_all(db.engine, tables=[KeyValue.__table__])  # type: ignore[list-item]
    db.reader_engine, db._readers = db.engine, db._executor
    try:
        await db.write(ACTOR, lambda uow: uow.session.add(KeyValue(key="mem", value={"n": 1})))
        await db.write_when_due(ACTOR, lambda uow: uow.session.execute(
            update(KeyValue).where(KeyValue.key == "mem").values(value={"n": 2})) and None)
        rows = await db.read(lambda s: s.exec(select(KeyValue)).all())
        assert [r.value for r in rows] == [{"n": 2}]
        await db.write(ACTOR, lambda uow: uow.session.add(KeyValue(key="mem-2", value={})))  # still writable
        assert await db.write_when_due(ACTOR, lambda uow: 0) is None
    finally:
        db.close()
