"""Sync test helpers: the central-platform receiver as a real subprocess, bulk outbox rows, a test pusher."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from controller.clock import Clock
from controller.domain.actor import Actor
from controller.settings import SyncConfig
from controller.store.db import Database
from controller.sync.pusher import Pusher
from devices.central_platform.protocol import new_key_file
from tests.procs import Child, free_port


class CentralProcess:
    """``python -m hw_sim.central`` on a free port with its own database and a 0600 key file."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.dir = workdir
        self.port = free_port()
        self.db_path = workdir / "central.db"
        self.key_file = new_key_file(workdir / "site.key")
        self.log = workdir / "central.log"
        self.child = Child([sys.executable, "-m", "hw_sim.central", "--port", str(self.port), "--db",
                            str(self.db_path), "--key-file", str(self.key_file)], log=self.log,
                           what="central-platform receiver", health_url=f"{self.base}/healthz")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/api/v1/sync/batches"

    @property
    def proc(self) -> subprocess.Popen[str] | None:
        return self.child.proc

    def start(self, timeout: float = 30.0) -> CentralProcess:
        self.child.start(timeout)
        return self

    def stop(self) -> None:
        self.child.stop()

    async def _call(self, method: str, path: str, **kw: Any) -> Any:
        async with httpx.AsyncClient(base_url=self.base, timeout=10) as c:
            r = await c.request(method, path, **kw)
            r.raise_for_status()
            return r.json()

    async def mode(self, mode: str, **params: Any) -> None:
        await self._call("POST", "/control/mode", json={"mode": mode, **params})

    async def state(self) -> dict[str, Any]:
        return dict(await self._call("GET", "/control/state"))

    async def reset(self) -> None:
        await self._call("POST", "/control/reset")

    async def events(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/control/events", params={"limit": 1_000_000}))

    async def occupancy(self) -> list[dict[str, Any]]:
        return list(await self._call("GET", "/control/occupancy"))


def bulk_outbox(db: Database, n: int, start: datetime, chunk: int = 10_000) -> None:
    """``n`` outbox rows straight into the table (the set-up of a long outage, not n API calls). Plain SQL in the
    form SQLAlchemy stores on SQLite (naive UTC text, JSON text), so 50,000 rows take a moment, not many seconds."""
    base = start.astimezone(UTC).replace(tzinfo=None)
    sql = ("INSERT INTO outbox (event_id, type, occurred_at, stay_id, payload) VALUES (?, ?, ?, ?, ?)")
    for lo in range(0, n, chunk):
        rows = [(str(uuid.uuid4()), "welfare_checked", (base + timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S.%f"),
                 None, json.dumps({"v": 1, "entity": "room", "entity_id": f"wait-{i % 4 + 1}", "observation": "ok",
                                   "i": i}))
                for i in range(lo, min(n, lo + chunk))]
        db.write_sync(Actor.system("test"), lambda uow, rows=rows: uow.session.connection().exec_driver_sql(sql, rows))


class FastSleep:
    """The pusher's injected backoff sleep: records each requested delay and yields instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0.001)


def sync_config(central: CentralProcess, **kw: Any) -> SyncConfig:
    base: dict[str, Any] = {"platform_url": central.url, "key_file": central.key_file, "batch_size": 500,
                            "retry_base_seconds": 0.05, "retry_cap_seconds": 2.0, "request_timeout_seconds": 5,
                            "lease_seconds": 5, "poll_seconds": 0.05}
    return SyncConfig(**{**base, **kw})


def make_pusher(db: Database, central: CentralProcess, clock: Clock, wall: Clock | None = None,
                site_id: str = "demo-centre", owner: str | None = None, **kw: Any) -> tuple[Pusher, FastSleep]:
    sleep = FastSleep()
    return Pusher(db, site_id, sync_config(central, **kw), clock=clock, wall=wall, sleep=sleep, owner=owner), sleep


async def until(pred: Callable[[], Awaitable[bool]], timeout: float = 60.0, what: str = "condition") -> None:
    """Polls ``pred`` until true: a bounded wait for real I/O (another process), never a wait for time."""
    deadline = time.monotonic() + timeout
    while not await pred():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
