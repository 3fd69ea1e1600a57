"""Core benchmark: a state transition (rules + state + audit entry + outbox entry in one transaction) against a
bare one-row insert through the same process, HTTP stack, auth and database thread; 16 concurrent clients.

Figures: median and p99 latency of each, and their ratios. Target: median ratio at most 3.
"""

from __future__ import annotations

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

from tests.conftest import PASSWORD, registration  # noqa: E402
from tests.reliability.harness import ControllerProcess  # noqa: E402

CLIENTS = 16
PER_ROUND = 40  # requests per client per round
ROUNDS = 2


def bench_site(tmp: Path) -> Path:
    """The demo site plus one waiting room per client, so every client owns a stay that can move freely."""
    text = (ROOT / "site" / "demo-site.toml").read_text(encoding="utf-8")
    rooms = "".join(f'\n[[rooms]]\nid = "bench-{i}"\nname = "压测候问室{i}"\nkind = "waiting"\ncapacity = 1\n'
                    for i in range(CLIENTS))
    # rooms must come before the locker banks' array of tables? TOML allows any order of [[rooms]] entries
    path = tmp / "bench-site.toml"
    path.write_text(text + rooms, encoding="utf-8")
    return path


async def prepare(proc: ControllerProcess) -> tuple[str, str, list[str]]:
    async with httpx.AsyncClient(base_url=proc.url, timeout=30) as c:
        staff = (await c.post("/api/v1/auth/login", json={"police_no": "2002", "password": PASSWORD})).json()["token"]
        admin = (await c.post("/api/v1/auth/login", json={"police_no": "9001", "password": PASSWORD})).json()["token"]
        h = {"Authorization": f"Bearer {staff}"}
        stays = []
        for i in range(CLIENTS):
            r = await c.post("/api/v1/stays", json=registration(case_no=f"BENCH-{i}"), headers=h)
            sid = r.json()["id"]
            for step, body in [("search", {"checker_id": "cus-m", "witness_id": "off-1", "gate_result": "pass"}),
                               ("collection", {"fingerprints_taken": True, "dna_taken": False}),
                               ("property", {"custodian_id": "cus-m", "locker_id": f"c-{i + 1:02d}", "items": []}),
                               ("placement", {"room_id": f"bench-{i}"})]:
                r = await c.post(f"/api/v1/stays/{sid}/{step}", json=body, headers=h)
                assert r.status_code == 200, r.text
            stays.append(sid)
        return staff, admin, stays


async def transitions(url: str, token: str, stay_id: str, n: int, out: list[float]) -> None:
    """Alternates WAITING -> IN_ACTIVITY -> WAITING: every request is one state transition."""
    h = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=h, timeout=30) as c:
        activity = None
        for _ in range(n):
            t0 = time.perf_counter()
            if activity is None:
                r = await c.post(f"/api/v1/stays/{stay_id}/activities",
                                 json={"kind": "medical_check", "performed_by_id": "cus-m"})
                activity = r.json()["activity_id"]
            else:
                r = await c.post(f"/api/v1/activities/{activity}/end", json={})
                activity = None
            out.append(time.perf_counter() - t0)
            assert r.status_code in (200, 201), r.text
        if activity is not None:
            await c.post(f"/api/v1/activities/{activity}/end", json={})


async def inserts(url: str, token: str, n: int, out: list[float]) -> None:
    h = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=h, timeout=30) as c:
        for _ in range(n):
            t0 = time.perf_counter()
            r = await c.post("/api/v1/dev/bench/insert")
            out.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text


def p99(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=100)[98]


async def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        proc = ControllerProcess(tmp / "data", site=bench_site(tmp), env={"HCC_BENCH_ENDPOINTS": "1"})
        proc.cli("migrate")
        for no, sid, sex, role in [("2002", "cus-m", "male", "custody_staff"), ("1001", "off-1", "male", "case_officer"),
                                   ("1002", "off-2", "male", "case_officer"), ("9001", "adm-1", "male", "admin")]:
            proc.cli("user", "add", "--police-no", no, "--name", sid, "--sex", sex, "--roles", role,
                     "--staff-id", sid, env={"HCC_NEW_PASSWORD": PASSWORD})
        proc.start()
        try:
            staff, admin, stays = await prepare(proc)
            trans: list[float] = []
            bare: list[float] = []
            for _ in range(ROUNDS):  # interleaved rounds, so drift in the machine's load hits both alike
                await asyncio.gather(*(inserts(proc.url, admin, PER_ROUND, bare) for _ in range(CLIENTS)))
                await asyncio.gather(*(transitions(proc.url, staff, s, PER_ROUND, trans) for s in stays))
        finally:
            proc.stop()
    ms = 1000.0
    write("core", [
        figure("transition_vs_insert_median", "latency median, 16 clients", "ms", statistics.median(trans) * ms,
               statistics.median(bare) * ms, target=3.0, runs=len(trans)),
        figure("transition_vs_insert_p99", "latency p99, 16 clients", "ms", p99(trans) * ms, p99(bare) * ms,
               target=None, runs=len(trans)),
    ])


if __name__ == "__main__":
    asyncio.run(main())
