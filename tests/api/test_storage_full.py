"""A full disk is a clear refusal, not an internal error: SQLite's SQLITE_FULL (however SQLAlchemy wraps it) and
ENOSPC/EFBIG from a file write answer 507 ``STORAGE_FULL`` in the one error shape. The real disk-full run, on a
filled tmpfs under the controller process, is tests/reliability/test_disk_full.py."""

from __future__ import annotations

import errno
import sqlite3
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from controller.api.errors import storage_full
from controller.app import create_app
from tests.conftest import Api, audit_count, registration


@pytest.mark.parametrize("exc", [
    OperationalError("INSERT INTO audit_entry", {}, sqlite3.OperationalError("database or disk is full")),
    OSError(errno.ENOSPC, "No space left on device"),
    OSError(errno.EFBIG, "File too large"),
], ids=["sqlite_full", "enospc", "efbig"])
async def test_disk_full_is_refused_as_storage_full(container: Any, monkeypatch: Any, exc: Exception) -> None:
    # the catch-all handler answers, then Starlette re-raises for the server's log: a server does not crash on it
    transport = httpx.ASGITransport(app=create_app(container, start_background=False), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await check_refused(Api(client), container, monkeypatch, exc)


async def check_refused(api: Api, container: Any, monkeypatch: Any, exc: Exception) -> None:
    await api.login("2001")  # signing in writes a session: done before the disk fills
    before = await audit_count(api)

    async def full(*_a: Any, **_k: Any) -> Any:
        raise exc

    monkeypatch.setattr(container.db, "write", full)
    status, body = await api.post("/api/v1/stays", registration())
    monkeypatch.undo()
    assert status == 507
    assert body["code"] == "STORAGE_FULL" and body["message"] and "storage full" in body["message_en"]
    assert set(body) == {"code", "message", "message_en", "details"}
    assert await audit_count(api) == before


def test_other_database_errors_are_not_called_storage_full() -> None:
    assert not storage_full(OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked")))
    assert not storage_full(OSError(errno.EACCES, "Permission denied"))
