"""Sync benchmark: drain rate of a 100,000-row outbox backlog through the pusher, against a bare HTTP POST loop of
the same batches to the same receiver, in the same run.

``python -m bench.bench_sync [--rows N] [--runs R]`` writes bench/results/sync.json.

- value: the real ``Pusher`` (lease, reading and encoding each batch from the database, signing, POST, checking
  the acknowledgement, writing the acknowledged seq durably), timed from start until the platform has
  acknowledged every row;
- baseline: the same batch bodies, read and encoded before the clock starts, each signed and POSTed in a plain
  loop with the same HTTP client, checking only the status.

Both go to one ``hw_sim.central`` receiver process, reset before each drain so both apply every event (no
duplicates make either side cheaper). They alternate (ABBA) for ``runs`` rounds; medians are reported. On a busy
machine the receiver's round trip varies run to run far more than the pusher's own overhead, so use more runs.
``ratio`` = pusher rate / bare rate; the target is a minimum: ratio >= 0.8.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.report import figure, write

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from controller.clock import SystemClock  # noqa: E402
from controller.domain.actor import Actor  # noqa: E402
from controller.settings import SyncConfig  # noqa: E402
from controller.store.db import Database  # noqa: E402
from controller.store.migrate import upgrade  # noqa: E402
from controller.store.tables import KeyValue  # noqa: E402
from controller.sync import feed  # noqa: E402
from controller.sync.pusher import Pusher  # noqa: E402
from devices.central_platform.protocol import load_key, sign  # noqa: E402
from tests.reliability.sync_harness import CentralProcess, bulk_outbox  # noqa: E402

SITE = "bench-centre"
TARGET_MIN_RATIO = 0.8


def forget_acks(db: Database) -> None:
    def fn(uow):  # type: ignore[no-untyped-def]
        for key in (feed.ACKED_KEY, "sync.lease"):
            row = uow.session.get(KeyValue, key)
            if row is not None:
                uow.session.delete(row)

    db.write_sync(Actor.system("bench"), fn)


def batches(db: Database, size: int) -> list[bytes]:
    out, after = [], 0
    while True:
        b = db.read_sync(lambda s, after=after: feed.next_batch(s, SITE, after, size, False))
        if b is None:
            return out
        out.append(b.body)
        after = b.last_seq


async def bare_loop(central: CentralProcess, bodies: list[bytes], key: bytes) -> float:
    await central.reset()
    async with httpx.AsyncClient(timeout=30) as client:
        t0 = time.perf_counter()
        for body in bodies:
            r = await client.post(central.url, content=body, headers=sign(key, SITE, "k1", body, time.time()))
            r.raise_for_status()
        return time.perf_counter() - t0


async def pusher_drain(central: CentralProcess, db: Database, rows: int, size: int) -> float:
    await central.reset()
    forget_acks(db)
    cfg = SyncConfig(platform_url=central.url, key_file=central.key_file, batch_size=size, poll_seconds=0.5)
    pusher = Pusher(db, SITE, cfg, clock=SystemClock())
    t0 = time.perf_counter()
    await pusher.start()
    try:
        deadline = time.monotonic() + 600
        while pusher.state.changes_acked < rows:
            if pusher.state.last_error or time.monotonic() > deadline:
                raise RuntimeError(f"pusher did not drain: {pusher.state}")
            await asyncio.sleep(0.01)  # watching an in-memory counter; the pusher does the work meanwhile
        return time.perf_counter() - t0
    finally:
        await pusher.stop()


async def run(rows: int, size: int, runs: int) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/controller.db"
        upgrade(url)
        db = Database(url, SystemClock())
        print(f"filling the outbox with {rows} rows ...", flush=True)
        bulk_outbox(db, rows, SystemClock().now())
        bodies = batches(db, size)
        central = CentralProcess(Path(tmp) / "central").start()
        key = load_key(central.key_file)
        try:
            bare, pushed = [], []
            for i in range(runs):  # ABBA order, so a drift in the machine's load hits both alike
                if i % 2 == 0:
                    bare.append(await bare_loop(central, bodies, key))
                    pushed.append(await pusher_drain(central, db, rows, size))
                else:
                    pushed.append(await pusher_drain(central, db, rows, size))
                    bare.append(await bare_loop(central, bodies, key))
                print(f"run {i + 1}: bare {rows / bare[-1]:,.0f} rows/s, pusher {rows / pushed[-1]:,.0f} rows/s",
                      flush=True)
        finally:
            central.stop()
            db.close()
    value, baseline = rows / statistics.median(pushed), rows / statistics.median(bare)
    return [figure("sync_backlog_drain", f"{rows:,}-row backlog in batches of {size}: pusher vs bare POST loop",
                   "rows/s", value, baseline, target=TARGET_MIN_RATIO, runs=runs, direction=">=")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_sync", description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    figures = asyncio.run(run(args.rows, args.batch, args.runs))
    write("sync", figures)
    return 0 if all(f["ok"] for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
