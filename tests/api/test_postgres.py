"""The same controller on PostgreSQL (a site's choice): migrations, a whole stay, the audit chain, the feed.

Runs against a throwaway PostgreSQL cluster started for the test (Debian's postgresql package, on a Unix socket in
a temporary directory); skipped with the reason when the server binaries are not installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from controller.app import create_app
from controller.clock import FakeClock
from controller.container import build
from controller.settings import Settings, load_site
from controller.store.migrate import upgrade
from tests.conftest import DEMO_SITE, Api, seed_staff, walk

BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    if not BINS or not shutil.which("runuser") and os.geteuid() == 0:
        pytest.skip("PostgreSQL server binaries are not installed")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install '.[postgres]')")
    bindir = Path(BINS[-1])
    tmp = Path(tempfile.mkdtemp(prefix="hcc-pg-"))
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
        shutil.chown(sock, "postgres")
    run = _as_postgres()
    subprocess.run([*run, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"], check=True,
                   capture_output=True)
    with socket.socket() as probe:  # a free TCP port number: the server listens only on its Unix socket
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    subprocess.run([*run, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(tmp / "log"), "-o",
                    f"-p {port} -k {sock} -c listen_addresses='' -c fsync=on", "start"], check=True,
                   capture_output=True)
    try:
        subprocess.run([*run, str(bindir / "createdb"), "-h", str(sock), "-p", port, "-U", "postgres", "hcc"],
                       check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@/hcc?host={sock}&port={port}"
    finally:
        subprocess.run([*run, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


async def test_a_whole_stay_on_postgresql(pg_url, tmp_path):
    upgrade(pg_url)
    settings = Settings(site_file=DEMO_SITE, data_dir=tmp_path, database_url=pg_url, fake_clock=True)
    container = build(settings, load_site(DEMO_SITE), FakeClock(datetime(2026, 11, 22, 1, 0, tzinfo=UTC)))
    seed_staff(container)
    try:
        app = create_app(container, start_background=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pg") as client:
            api = Api(client)
            stay = await walk(api)
            assert stay["state"] == "waiting" and stay["room_id"] == "wait-1"
            status, s = await api.post(f"/api/v1/stays/{stay['id']}/exit", {"disposition": "released"})
            items = [{"item_id": i["id"], "disposition": "returned"} for i in s["property"]["items"]]
            status, done = await api.post(f"/api/v1/stays/{stay['id']}/exit/complete",
                                          {"exit_search": {"checker_id": "cus-m"}, "items": items})
            assert status == 200 and done["state"] == "exited"
            # refusals write nothing here too
            status, err = await api.post(f"/api/v1/stays/{stay['id']}/placement", {"room_id": "wait-2"})
            assert status == 409 and err["code"] == "STAY_CLOSED"
            await container.clock.advance_async(3600)  # the scheduler's sweep on PostgreSQL
            status, verify = await api.get("/api/v1/audit/verify", as_="9001")
            assert verify["ok"] is True and verify["entries"] > 10
            status, feed = await api.get("/api/v1/sync/changes?after=0&limit=1000", as_="9101")
            seqs = [c["seq"] for c in feed["changes"]]
            assert seqs == sorted(seqs) and "stay_exited" in [c["type"] for c in feed["changes"]]
    finally:
        container.db.close()
