"""Read path benchmark: a read (the ledger's newest 50 outbox rows and a stay count, as a screen's GET does)
while the writer thread works through a queue of writes (each a state change with its audit and outbox entry,
synchronous=FULL), against the same read on an idle database, in the same process on the same file.

Figures: median and p95 read latency under the write load, as ratios to idle (target: median at most 5 — a read
waits for its reader thread and the GIL, never for the queued writes); and the median on the reader path against
the same read queued on the writer thread as before (target: at most 0.5). ``python -m bench --only reads``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.report import figure, write  # noqa: E402
from controller.clock import FakeClock  # noqa: E402
from controller.settings import Settings  # noqa: E402
from controller.store.db import Actor, Database, UnitOfWork  # noqa: E402
from controller.store.migrate import upgrade  # noqa: E402
from controller.store.tables import KeyValue  # noqa: E402

READS = 300
WRITERS = 16  # writes kept queued at once


def read(s: Any) -> int:
    rows = s.connection().execute(text("SELECT seq, payload FROM outbox ORDER BY seq DESC LIMIT 50")).all()
    count = s.connection().execute(text("SELECT count(*) FROM stay")).scalar_one()
    return len(rows) + int(count)


def change(i: int) -> Any:
    def fn(uow: UnitOfWork) -> None:
        uow.session.merge(KeyValue(key=f"bench-{i % 100}", value={"i": i}))
        uow.record("bench_write", entity="bench", entity_id=str(i), after={"i": i}, live=False)
    return fn


async def reads(db: Database, behind_writes: bool = False) -> list[float]:
    """READS reads one after another; ``behind_writes`` queues each on the writer thread instead, as every read
    was before reads had their own path (the comparison figure)."""
    loop = asyncio.get_running_loop()
    out = []
    for _ in range(READS if not behind_writes else READS // 10):
        t0 = time.perf_counter()
        if behind_writes:
            await loop.run_in_executor(db._executor, db._run_read, read)
        else:
            await db.read(read)
        out.append(time.perf_counter() - t0)
    return out


async def under_load(db: Database, behind_writes: bool = False) -> tuple[list[float], int]:
    stop = asyncio.Event()
    done = [0]

    async def writer(k: int) -> None:
        i = k
        while not stop.is_set():
            await db.write(Actor.system("bench"), change(i))
            done[0] += 1
            i += WRITERS

    tasks = [asyncio.create_task(writer(k)) for k in range(WRITERS)]
    await asyncio.sleep(0.2)  # the queue fills
    try:
        return await reads(db, behind_writes), done[0]
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def p95(xs: list[float]) -> float:
    return sorted(xs)[int(len(xs) * 0.95) - 1]


async def run(db: Database) -> list[dict[str, Any]]:
    for i in range(500):  # some rows to read
        await db.write(Actor.system("bench"), change(i))
    await reads(db)  # warm-up: connections open, pages cached
    idle = await reads(db)
    loaded, writes = await under_load(db)
    print(f"{writes} writes committed while {READS} reads ran", flush=True)
    queued, writes = await under_load(db, behind_writes=True)
    print(f"{writes} writes committed while {len(queued)} reads queued behind them", flush=True)
    return [
        figure("read_p50_under_writes_vs_idle", "median read latency", "s", statistics.median(loaded),
               statistics.median(idle), target=5.0, runs=READS),
        figure("read_p95_under_writes_vs_idle", "p95 read latency", "s", p95(loaded), p95(idle), target=None,
               runs=READS),
        figure("read_p50_own_path_vs_behind_writes", "median read latency: own path / queued with the writes",
               "s", statistics.median(loaded), statistics.median(queued), target=0.5, runs=READS),
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(site_file=ROOT / "site" / "demo-site.toml", data_dir=Path(tmp), fake_clock=True)
        upgrade(settings.db_url())
        db = Database(settings.db_url(), FakeClock(datetime(2026, 1, 1, tzinfo=UTC)))
        try:
            figures = asyncio.run(run(db))
        finally:
            db.close()
    write("reads", figures)


if __name__ == "__main__":
    main()
