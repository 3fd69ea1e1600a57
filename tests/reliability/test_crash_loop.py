"""Crash loop: the controller is SIGKILLed at random moments of a many-stay workload driven through the API and the
simulated devices, and restarted, ``CRASH_CYCLES`` times (CI: 12; ``make soak``: more). A kill comes after a random
count of acknowledged changes, never after a time.

After every kill: the database passes ``integrity_check``; the outbox is gap-free with one row (and one audit entry)
per change; every change that got a 2xx is there and nothing that was never asked for; no locker opening was written
twice for one request (the lock board is the simulated one, over a pty, driven by the device bridge process).
After every restart the audit chain verifies through the API. Every tenth restart the fake clock is moved past every open stay's deadline: the new
process, which never saw those stays in memory, raises each one's overdue alarm (timers rebuilt from the database).

Restarts fork from a warm server (``zygote.py``) so a cycle costs the controller's own start-up, not Python's
imports; the figures (start-up time per cycle, total) are printed and written to ``bench/results/crash_loop.json``
when ``RELIABILITY_REPORT=1``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.reliability.checks import add_staff, check_audit, check_database, check_stays
from tests.reliability.simproc import SimProcess
from tests.reliability.workload import Ledger, Workload, login
from tests.reliability.zygote import ForkedController, Zygote

pytestmark = pytest.mark.slow

CYCLES = int(os.environ.get("CRASH_CYCLES", "12"))
RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"


async def check_timers_rebuilt(url: str, admin: str) -> int:
    """Moves the fake clock past every open stay's deadline; each one must have its overdue alarm."""
    h = {"Authorization": f"Bearer {admin}"}
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=h) as c:
        stays = (await c.get("/api/v1/stays?state=open")).json()
        r = await c.post("/api/v1/dev/clock/advance", json={"seconds": 25 * 3600})
        assert r.status_code == 200, r.text
    now = datetime.fromisoformat(r.json()["now"])
    # a restart sets the test clock back to the wall clock, so a stay registered after an earlier advance can
    # still be inside its time: only those past their deadline must have the alarm
    stays = [s for s in stays if datetime.fromisoformat(s["deadline_at"]) <= now]
    admin = await login(url, "9001", PASSWORD)  # 25 h idle: the session expired, as it would
    async with httpx.AsyncClient(base_url=url, timeout=60, headers={"Authorization": f"Bearer {admin}"}) as c:
        alarms = (await c.get("/api/v1/alarms?state=open")).json()
    overdue = {a["stay_id"] for a in alarms if a["kind"] == "deadline_overdue"}
    missing = [s["id"] for s in stays if s["id"] not in overdue]
    assert not missing, f"open stays past their deadline without an overdue alarm: {missing[:5]}"
    return len(stays)


async def test_crash_loop_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("CRASH_SEED", "20261122")))
    sim = SimProcess(tmp_path / "sim", grace_s=600)
    sim.start()
    zygote = Zygote()
    # the devices in the bridge process, as a site runs them: each SIGKILL of the controller ends its bridge too
    # (PR_SET_PDEATHSIG) and each restart starts a new one over the same journal
    proc = ForkedController(zygote, tmp_path / "data", site=sim.site,
                            env={"HCC_FAKE_CLOCK": "1", "HCC_BRIDGE_MODE": "process"})
    ledger = Ledger()
    db = tmp_path / "data" / "controller.db"
    token = admin = ""
    timers_checked: list[int] = []
    try:
        proc.cli("migrate")
        add_staff(proc, PASSWORD)
        t0 = time.monotonic()  # the loop's figure: cycles only, not the one-off set-up
        for cycle in range(CYCLES):
            tc = time.monotonic()
            proc.start()
            ta = time.monotonic()
            if not token:
                token, admin = await login(proc.url, "2001", PASSWORD), await login(proc.url, "9001", PASSWORD)
            await check_audit(proc.url, admin)
            if cycle % 10 == 9:
                timers_checked.append(await check_timers_rebuilt(proc.url, admin))
                token, admin = await login(proc.url, "2001", PASSWORD), await login(proc.url, "9001", PASSWORD)
            tb = time.monotonic()
            wl = Workload(proc.url, token, ledger, rng=rng, sim_url=sim.url)
            run = asyncio.create_task(wl.run(workers=3))
            reached = asyncio.create_task(ledger.reached(ledger.total + rng.randint(1, 4)).wait())
            await asyncio.wait([run, reached], return_when=asyncio.FIRST_COMPLETED)  # kill after a count
            reached.cancel()
            proc.kill()
            wl.stop.set()
            await run  # surfaces a worker's failed assertion
            td = time.monotonic()
            check_database(db, ledger)
            print(f"cycle {cycle}: start {ta - tc:.2f} checks {tb - ta:.2f} work {td - tb:.2f} "
                  f"db {time.monotonic() - td:.2f}", flush=True)
        loop_s = time.monotonic() - t0
        proc.start()
        await check_audit(proc.url, admin)
        await check_stays(proc.url, token, ledger)
    finally:
        proc.stop()
        zygote.close()
        sim.stop()
    figures = report(ledger, proc.start_times, loop_s, timers_checked)
    print(json.dumps(figures, indent=1))
    assert ledger.total >= CYCLES, "the workload barely ran"
    assert sum(ledger.opens_acked.values()) > 0 or CYCLES < 20, "no locker opening was exercised"


def report(ledger: Ledger, starts: list[float], loop_s: float, timers: list[int]) -> dict[str, Any]:
    figures = {"cycles": CYCLES, "loop_seconds": round(loop_s, 1), "acknowledged_changes": ledger.total,
               "changes_by_type": dict(ledger.acked), "locker_opens_acknowledged": sum(ledger.opens_acked.values()),
               "restart_median_s": round(statistics.median(starts), 3), "restart_max_s": round(max(starts), 3),
               "timer_checks": len(timers), "stays_checked_for_overdue": sum(timers), "lost": 0}
    if os.environ.get("RELIABILITY_REPORT"):
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "crash_loop.json").write_text(json.dumps(figures, indent=2))
    return figures
