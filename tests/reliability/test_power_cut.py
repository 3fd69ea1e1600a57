"""Power cut during a write: the controller is SIGKILLed while its database thread is mid-transaction, again and
again (``POWER_CUTS``: 4 in CI, more in ``make soak``), under a write-heavy workload (eight clients registering and moving stays, every
request one transaction with its audit and outbox rows).

The kill lands on the acknowledgement of a random count of changes, when the other clients' requests are queued on
or inside the one database thread; the test counts how many requests were in flight at each kill (sent, no answer)
and how many of those had in fact committed. After each cut: the file opens and passes ``PRAGMA integrity_check``,
the outbox is gap-free with one audit entry per row, every acknowledged change is there; after the restart the
audit chain verifies through the API.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.reliability.checks import add_staff, check_audit, check_database, check_stays
from tests.reliability.harness import free_port
from tests.reliability.sites import write_site
from tests.reliability.workload import Ledger, Workload, login
from tests.reliability.zygote import ForkedController, Zygote

pytestmark = pytest.mark.slow

CUTS = int(os.environ.get("POWER_CUTS", "4"))  # CI; `make soak` runs more


def committed_unanswered(db: Path, ledger: Ledger) -> int:
    """Rows of the workload's types beyond those acknowledged: committed, but the answer died with the process."""
    con = sqlite3.connect(db)
    try:
        written = dict(con.execute("SELECT type, count(*) FROM outbox GROUP BY type").fetchall())
    finally:
        con.close()
    return sum(written.get(kind, 0) - ledger.acked[kind] for kind in ledger.attempted)


async def test_power_cut_mid_transaction(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("POWER_SEED", "7")))
    zygote = Zygote()
    site = write_site(tmp_path / "sim", free_port(), grace_s=600)
    proc = ForkedController(zygote, tmp_path / "data", site=site, env={"HCC_FAKE_CLOCK": "1"})
    db = tmp_path / "data" / "controller.db"
    ledger = Ledger()
    in_flight = 0
    try:
        proc.cli("migrate")
        add_staff(proc, PASSWORD)
        token = admin = ""
        for _ in range(CUTS):
            proc.start()
            if not token:
                token, admin = await login(proc.url, "2001", PASSWORD), await login(proc.url, "9001", PASSWORD)
            await check_audit(proc.url, admin)
            answered_before = ledger.total + sum(ledger.refusals.values())
            sent_before = sum(ledger.attempted.values())
            wl = Workload(proc.url, token, ledger, rng=rng, open_lockers=False)
            run = asyncio.create_task(wl.run(workers=8))
            reached = asyncio.create_task(ledger.reached(ledger.total + rng.randint(3, 15)).wait())
            await asyncio.wait([run, reached], return_when=asyncio.FIRST_COMPLETED)
            reached.cancel()
            proc.kill()  # the power goes
            wl.stop.set()
            await run
            check_database(db, ledger)
            sent = sum(ledger.attempted.values()) - sent_before
            answered = ledger.total + sum(ledger.refusals.values()) - answered_before
            in_flight += sent - answered
        proc.start()
        await check_audit(proc.url, admin)
        await check_stays(proc.url, token, ledger)
    finally:
        proc.stop()
        zygote.close()
    print(f"power cuts: {CUTS}, acknowledged changes {ledger.total}, requests in flight at the cuts {in_flight}, "
          f"of which committed but unanswered {committed_unanswered(db, ledger)}; lost 0")
    assert in_flight > 0, "no cut landed while a request was in flight"
