"""Transport limits: body size before parsing, integer bounds, who may name the client's address, and the
permissions of the data directory and the database."""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from controller.api.limits import DEFAULT_BODY_LIMIT
from controller.app import create_app
from controller.settings import Settings
from tests.conftest import PASSWORD, Api, audit_count, walk

HUGE = 200 * 1024 * 1024
CHUNK = 256 * 1024


def rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Stream:
    """A 200 MB body produced on demand; counts what the server pulled."""

    def __init__(self) -> None:
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        block = b"x" * CHUNK
        while self.sent < HUGE:
            self.sent += CHUNK
            yield block


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "chunked"])
async def test_huge_body_is_refused_before_it_is_read(api: Api, with_length: bool) -> None:
    before_audit, before_rss = await audit_count(api), rss()
    body = Stream()
    headers = {"Content-Type": "application/json"} | ({"Content-Length": str(HUGE)} if with_length else {})
    r = await api.client.post("/api/v1/auth/login", content=body, headers=headers)
    assert r.status_code == 413
    assert r.json()["code"] == "PAYLOAD_TOO_LARGE" and r.json()["details"]["limit_bytes"] == DEFAULT_BODY_LIMIT
    # at most the limit (and one chunk) was pulled from the client, and the process did not grow by the body
    assert body.sent <= DEFAULT_BODY_LIMIT + CHUNK
    assert rss() - before_rss < 64 * 1024 * 1024
    assert await audit_count(api) == before_audit


async def test_body_limit_is_larger_only_where_images_are_uploaded(api: Api) -> None:
    token = await api.login("2001")
    big = {"png": "data:image/png;base64," + "A" * (1536 * 1024), "stay_id": "x-1"}
    r = await api.client.post("/api/v1/ui/signatures", json=big, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422  # through the size gate; the field's own bound refuses it
    r = await api.client.post("/api/v1/auth/login", json={"police_no": "2001", "password": "A" * (1536 * 1024)})
    assert r.status_code == 413


async def test_a_body_within_the_limit_still_works_when_chunked(api: Api) -> None:
    async def parts() -> AsyncIterator[bytes]:
        yield b'{"police_no": "2001", '
        yield f'"password": "{PASSWORD}"}}'.encode()

    r = await api.client.post("/api/v1/auth/login", content=parts(), headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("path", ["/api/v1/stays?offset=9223372036854775808",
                                  "/api/v1/stays?offset=9223372036854775807",
                                  "/api/v1/sync/changes?after=9223372036854775808",
                                  "/api/v1/sync/changes?limit=9223372036854775808"])
async def test_huge_integers_in_the_query_are_refused_not_500(api: Api, path: str) -> None:
    status, body = await api.get(path, as_="9001")
    assert status == 422 and body["code"] == "VALIDATION_ERROR"


async def test_huge_integers_in_the_body_are_refused_not_500(api: Api) -> None:
    stay = await walk(api, "collected")
    await api.login("3001")
    before = await audit_count(api)
    status, body = await api.post(f"/api/v1/stays/{stay['id']}/corrections", {
        "corrects_seq": 2**63, "field": "subject.name", "value": "王五", "reason": "录入错误"}, as_="3001")
    assert status == 422 and body["code"] == "VALIDATION_ERROR"
    assert await audit_count(api) == before


async def _attempts(client: httpx.AsyncClient, n: int, forwarded: bool) -> list[int]:
    out = []
    for i in range(n):
        headers = {"X-Forwarded-For": f"203.0.113.{i + 1}"} if forwarded else {}
        # a new account name each time: the per-account back-off stays out of the per-address limit's way
        r = await client.post("/api/v1/auth/login", json={"police_no": f"nobody-{i}", "password": "wrong-password-1"},
                              headers=headers)
        out.append(r.status_code)
    return out


async def test_forwarded_for_is_ignored_unless_from_a_configured_proxy(container: Any) -> None:
    """The app as uvicorn serves it (its proxy handling included) to a loopback caller, as a local attacker would
    call: a new X-Forwarded-For per attempt must not make a new client."""
    from controller.__main__ import uvicorn_config

    config = uvicorn_config(create_app(container, start_background=False), container.settings)
    config.load()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=config.loaded_app, client=("127.0.0.1", 5000)),
                                 base_url="http://test") as client:
        statuses = await _attempts(client, 12, forwarded=True)
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]


async def test_forwarded_for_is_believed_from_a_configured_proxy(container: Any) -> None:
    container.settings.trusted_proxies = "127.0.0.1"
    app = create_app(container, start_background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 5000)),
                                 base_url="http://test") as client:
        assert await _attempts(client, 12, forwarded=True) == [401] * 12  # twelve distinct clients
        # a spoofed hop before the proxy's: the nearest untrusted hop counts, so one client
        for i in range(10):
            r = await client.post("/api/v1/auth/login", json={"police_no": f"x{i}", "password": "wrong-password-1"},
                                  headers={"X-Forwarded-For": "198.51.100.9"})
            assert r.status_code == 401
        r = await client.post("/api/v1/auth/login", json={"police_no": "x", "password": "wrong-password-1"},
                              headers={"X-Forwarded-For": "10.9.9.9, 198.51.100.9"})
        assert r.status_code == 429


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_a_new_database_is_private(tmp_path: Path) -> None:
    from controller.store.migrate import upgrade

    settings = Settings(data_dir=tmp_path / "fresh" / "data")
    upgrade(settings.db_url())
    assert mode(settings.data_dir) == 0o700
    assert mode(settings.data_dir / "controller.db") == 0o600


def test_an_existing_database_is_made_private(tmp_path: Path) -> None:
    from controller.store.db import make_engine

    d = tmp_path / "data"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    db = d / "controller.db"
    db.touch()
    os.chmod(db, 0o644)
    make_engine(f"sqlite:///{db}").dispose()
    assert mode(d) == 0o700 and mode(db) == 0o600


async def test_a_busy_kiosk_is_not_slowed_by_its_own_successful_sign_ins(api: Any) -> None:
    """Only failures count toward the per-address limit: staff signing in and out all day at one kiosk."""
    from tests.conftest import PASSWORD

    for _ in range(15):
        r = await api.client.post("/api/v1/auth/login", json={"police_no": "2001", "password": PASSWORD})
        assert r.status_code == 200, r.text
