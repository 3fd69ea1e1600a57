"""The database: engine set-up (SQLite WAL + synchronous=FULL, or PostgreSQL), and the unit of work.

Every accepted change runs as ``db.write(fn)``: one transaction on the single writer thread, in which the
service writes state, an audit entry and an outbox entry (``uow.record``). Live events queued during the
transaction are published only after the commit. All database work crosses one explicit boundary: executors,
so the event loop never blocks. Writers are serialised in-process on the one writer thread; ``BEGIN
IMMEDIATE`` serialises them across processes on SQLite.

Reads never wait behind a queue of writes (issue 16: a flood of writes stalled every screen): ``db.read(fn)``
runs on a small pool of reader threads, each with its own read-only connection (SQLite: ``query_only``, a
deferred ``BEGIN``; in WAL mode a reader sees the last commit and neither blocks nor is blocked by the writer).
A read that tries to write fails loudly. On PostgreSQL the readers share the engine's connection pool.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from ..domain.actor import Actor as Actor  # re-exported: code written before Actor moved imports it here
from . import audit, outbox

log = logging.getLogger(__name__)
T = TypeVar("T")


def private_sqlite(url: str) -> None:
    """The database's directory 0700 and its file 0600, however they came to exist (``init``, the demo, a
    migration, a copied file): the ledger holds identity numbers. SQLite gives its -wal and -shm files the
    database file's mode."""
    if not url.startswith("sqlite"):
        return
    path = url.split("///", 1)[-1]
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    db = Path(path)
    db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(db.parent, 0o700)
    os.close(os.open(db, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(db, 0o600)
    for extra in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if extra.exists():
            os.chmod(extra, 0o600)


READERS = 3  # reader threads: a few GETs at once on a small PC; the writer stays one


def _file_sqlite(url: str) -> bool:
    """A SQLite file that other connections can open too (not ``:memory:``, which is private to one)."""
    path = url.split("///", 1)[1] if url.startswith("sqlite") and "///" in url else ""
    return bool(path) and ":memory:" not in path and "mode=memory" not in path


def make_reader_engine(url: str) -> Engine:
    """Read-only connections to the same SQLite file: a deferred transaction (a snapshot from its first SELECT)
    that takes no write lock, and ``query_only`` so a read that writes is an error, not a hidden lock."""
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           pool_size=READERS, max_overflow=READERS)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        private_sqlite(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


@dataclass
class UnitOfWork:
    session: Session
    now: datetime
    actor: Actor
    events: list[dict[str, Any]] = field(default_factory=list)

    def record(self, action: str, *, entity: str, entity_id: str, stay_id: str | None = None,
               before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
               payload: dict[str, Any] | None = None, corrects_seq: int | None = None,
               live: bool = True) -> None:
        """One audit entry and one outbox entry for a change, and a live event after commit."""
        audit.append(self.session, at=self.now, actor_id=self.actor.id, actor_role=self.actor.role, action=action,
                     entity=entity, entity_id=entity_id, stay_id=stay_id, before=before, after=after,
                     corrects_seq=corrects_seq)
        body = payload if payload is not None else (after or {})
        outbox.append(self.session, type=action, occurred_at=self.now, stay_id=stay_id,
                      payload={"entity": entity, "entity_id": entity_id, **body})
        if live:
            self.events.append({"type": action, "entity": entity, "entity_id": entity_id, "stay_id": stay_id,
                                "at": self.now.isoformat(), "data": audit._jsonable(body)})

    def emit(self, type: str, **data: Any) -> None:
        """A live event (for the dashboard and devicebus) that is not itself a state change."""
        self.events.append({"type": type, "at": self.now.isoformat(), **audit._jsonable(data)})


class Database:
    def __init__(self, url: str, clock: Any, publish: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.clock = clock
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="db")
        self.publish = publish
        self.commits = 0  # state changes committed by this process (api/listcache.py keys on it)
        if url.startswith("sqlite") and not _file_sqlite(url):
            # an in-memory database exists on one connection only: reads share the writer's thread
            self.reader_engine, self._readers = self.engine, self._executor
        else:
            if url.startswith("sqlite"):
                with self.engine.connect():
                    pass  # the writer's first connection puts the file in WAL mode before any reader opens it
            self.reader_engine = make_reader_engine(url) if url.startswith("sqlite") else self.engine
            self._readers = concurrent.futures.ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="db-read")

    def _run_write(self, actor: Actor, fn: Callable[[UnitOfWork], T]) -> tuple[T, list[dict[str, Any]]]:
        with Session(self.engine, expire_on_commit=False) as session:
            with session.begin():
                uow = UnitOfWork(session=session, now=self.clock.now(), actor=actor)
                result = fn(uow)
            self.commits += 1  # committed (a refusal raised above and rolled back): answers kept before are stale
            return result, uow.events

    def _run_read(self, fn: Callable[[Session], T]) -> T:
        with Session(self.reader_engine, expire_on_commit=False) as session:
            with session.begin():
                return fn(session)

    async def write(self, actor: Actor, fn: Callable[[UnitOfWork], T]) -> T:
        loop = asyncio.get_running_loop()
        result, events = await loop.run_in_executor(self._executor, self._run_write, actor, fn)
        if events and self.publish:
            self.publish(events)
        return result

    def _would_change(self, actor: Actor, fn: Callable[[UnitOfWork], object]) -> bool:
        """Whether ``fn`` would change anything: run in a transaction that refuses writes and is rolled back (a
        ``query_only`` reader connection; where reads share the writer's engine -- PostgreSQL, in-memory SQLite --
        a read-only transaction). A change it makes, an event it emits, a truthy result, or any error (a write the
        transaction refuses included) says yes; the writer then runs it for real."""
        shared = self.reader_engine is self.engine
        sqlite = self.reader_engine.dialect.name == "sqlite"
        with Session(self.reader_engine, expire_on_commit=False) as session:
            transaction = session.begin()
            try:
                if shared:
                    session.execute(text("PRAGMA query_only=ON" if sqlite else "SET TRANSACTION READ ONLY"))
                uow = UnitOfWork(session=session, now=self.clock.now(), actor=actor)
                result = fn(uow)
                return bool(result or uow.events or session.new or session.dirty or session.deleted)
            except Exception:
                return True
            finally:
                if shared and sqlite:  # a pragma of the connection, which the writer uses next
                    session.connection().exec_driver_sql("PRAGMA query_only=OFF")
                transaction.rollback()

    async def write_when_due(self, actor: Actor, fn: Callable[[UnitOfWork], T]) -> T | None:
        """A periodic job that mostly finds nothing to do (the timer sweeps over every open stay): tried first on
        a reader connection, beside the writes, and run on the one writer thread -- where it would hold up every
        request's write for its whole length -- only when it would change something. Something that falls due
        between the two is found by the next run. Returns None when it was not due."""
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(self._readers, self._would_change, actor, fn):
            return None
        return await self.write(actor, fn)

    async def read(self, fn: Callable[[Session], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, fn)

    def write_behind(self, fn: Callable[[Session], None]) -> concurrent.futures.Future[None]:
        """Bookkeeping that is no state change of the centre (a session's last-seen time), queued on the writer
        thread and not awaited: the request that caused it does not wait behind the writes. No audit entry."""

        def run() -> None:
            with Session(self.engine, expire_on_commit=False) as session:
                with session.begin():
                    fn(session)

        future = self._executor.submit(run)
        future.add_done_callback(_log_failure)
        return future

    def write_sync(self, actor: Actor, fn: Callable[[UnitOfWork], T]) -> T:
        """For the CLI and tests outside a loop; publishes nothing."""
        return self._run_write(actor, fn)[0]

    def read_sync(self, fn: Callable[[Session], T]) -> T:
        return self._run_read(fn)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self.engine.dispose()
        self.reader_engine.dispose()


def _log_failure(future: concurrent.futures.Future[None]) -> None:
    if not future.cancelled() and (exc := future.exception()) is not None:
        log.warning("background write failed: %s", type(exc).__name__)
