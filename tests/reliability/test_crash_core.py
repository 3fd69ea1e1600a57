"""SIGKILL the controller in the middle of a stream of requests: every change that got a 2xx is still there
after a restart, with the audit chain intact and one gap-free outbox entry per change."""

from __future__ import annotations

import asyncio
import random
import sqlite3

import httpx
import pytest

from tests.conftest import PASSWORD, registration
from tests.reliability.harness import ControllerProcess, free_port
from tests.reliability.sites import write_site

pytestmark = pytest.mark.slow

STAFF = [("1001", "off-1", "male", "case_officer"), ("1002", "off-2", "male", "case_officer"),
         ("2001", "cus-f", "female", "custody_staff"), ("2002", "cus-m", "male", "custody_staff"),
         ("9001", "adm-1", "male", "admin")]
STEPS = [("search", lambda: {"checker_id": "cus-m", "witness_id": "off-1", "gate_result": "pass"}, "searched"),
         ("collection", lambda: {"fingerprints_taken": True, "dna_taken": False}, "collected")]


async def client_loop(url: str, token: str, acked: dict[str, str], stop: asyncio.Event, rng: random.Random) -> None:
    """Registers subjects and walks them through steps until the server dies; records every 2xx."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=5) as client:
        while not stop.is_set():
            try:
                r = await client.post("/api/v1/stays", json=registration(case_no=f"K-{rng.randrange(10**9)}"))
                assert r.status_code == 201, r.text
                stay = r.json()
                acked[stay["id"]] = "registered"
                for step, body, state in STEPS:
                    r = await client.post(f"/api/v1/stays/{stay['id']}/{step}", json=body())
                    assert r.status_code == 200, r.text
                    acked[stay["id"]] = state
            except httpx.HTTPError:
                return  # the server is gone


async def run_cycle(proc: ControllerProcess, acked: dict[str, str], kill_after: int, seed: int) -> None:
    async with httpx.AsyncClient(base_url=proc.url) as c:
        r = await c.post("/api/v1/auth/login", json={"police_no": "2002", "password": PASSWORD})
        token = r.json()["token"]
    stop = asyncio.Event()
    rng = random.Random(seed)
    before = len(acked)
    tasks = [asyncio.create_task(client_loop(proc.url, token, acked, stop, rng)) for _ in range(4)]
    while len(acked) - before < kill_after:  # kill after a count of acknowledged changes, not after a time
        if any(t.done() for t in tasks):
            await asyncio.gather(*tasks)  # a client failed: surface its assertion
        await asyncio.sleep(0.01)
    proc.kill()
    stop.set()
    await asyncio.gather(*tasks)


ORDER = ["registered", "searched", "collected"]


async def test_no_acknowledged_change_lost_across_sigkill(tmp_path):
    # the demo site re-pointed at ports and ptys of this test's own (nothing listens there: devices stay offline),
    # so a demo running on this machine is never touched
    site = write_site(tmp_path / "sim", free_port())
    proc = ControllerProcess(tmp_path / "data", site=site)
    proc.cli("migrate")
    for no, sid, sex, role in STAFF:
        proc.cli("user", "add", "--police-no", no, "--name", sid, "--sex", sex, "--roles", role, "--staff-id", sid,
                 env={"HCC_NEW_PASSWORD": PASSWORD})
    acked: dict[str, str] = {}
    try:
        for cycle in range(2):  # two kills in CI (each after 15-20 acknowledged changes)
            proc.start()
            await run_cycle(proc, acked, kill_after=15 + cycle * 5, seed=cycle)
        proc.start()
        async with httpx.AsyncClient(base_url=proc.url) as c:
            token = (await c.post("/api/v1/auth/login", json={"police_no": "9001", "password": PASSWORD})).json()["token"]
            h = {"Authorization": f"Bearer {token}"}
            verify = (await c.get("/api/v1/audit/verify", headers=h)).json()
            assert verify["ok"] is True, verify
            for stay_id, state in acked.items():
                r = await c.get(f"/api/v1/stays/{stay_id}", headers=h)
                assert r.status_code == 200, stay_id
                assert ORDER.index(r.json()["state"]) >= ORDER.index(state), (stay_id, state)
    finally:
        proc.stop()
    assert len(acked) >= 25  # the two cycles acknowledged 15 + 20 changes (some on the same stay)
    con = sqlite3.connect(tmp_path / "data" / "controller.db")
    seqs = [r[0] for r in con.execute("SELECT seq FROM outbox ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1)), "outbox has a gap"
    counts = dict(con.execute("SELECT type, count(*) FROM outbox GROUP BY type").fetchall())
    registered = sum(1 for _ in acked)
    assert counts["stay_registered"] >= registered
    searched = sum(1 for s in acked.values() if s != "registered")
    assert counts["stay_searched"] >= searched
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
