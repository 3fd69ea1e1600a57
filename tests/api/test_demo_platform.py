"""The demo's central platform: ``python -m controller demo`` starts ``hw_sim.central`` beside the simulators and
points the site's sync at it, so the change feed drains where the dashboard's sync panel shows it."""

from __future__ import annotations

import asyncio
import os
import stat
from typing import Any

import httpx

from controller.__main__ import demo_platform
from controller.sync.pusher import build_pusher
from tests.conftest import walk
from tests.reliability.harness import free_port

SUPERVISOR = "3001"


async def test_the_demo_platform_receives_the_change_feed_until_nothing_lags(api: Any, container: Any) -> None:
    port = free_port()
    site, receiver = demo_platform(container.settings, container.site, port=port)
    assert receiver is not None
    assert site.sync.platform_url == f"http://127.0.0.1:{port}/api/v1/sync/batches"
    assert site.sync.key_file is not None and stat.S_IMODE(os.stat(site.sync.key_file).st_mode) == 0o600
    assert container.site.sync.platform_url is None  # the site file itself is left alone

    await walk(api)
    _, before = await api.get("/api/v1/sync/status", as_=SUPERVISOR)
    assert before["configured"] is False and before["lag_rows"] > 0

    pusher = build_pusher(container.db, site.site.id, site.sync.model_copy(update={"poll_seconds": 0.05}),
                          container.clock, container.hub)
    container.sync_pusher = pusher
    await receiver.start()
    await pusher.start()
    try:
        for _ in range(600):  # bounded: the receiver is a real process answering over HTTP
            _, st = await api.get("/api/v1/sync/status", as_=SUPERVISOR)
            if st["lag_rows"] == 0 and st["acked_seq"] >= before["head_seq"]:
                break
            await asyncio.sleep(0.05)
        assert st["configured"] is True and st["role"] == "active"
        assert st["lag_rows"] == 0 and st["last_success_at"] and st["consecutive_failures"] == 0
        async with httpx.AsyncClient() as client:
            state = (await client.get(f"http://127.0.0.1:{port}/control/state")).json()
        assert state["events"] == st["changes_acked"] == before["lag_rows"], state
    finally:
        await pusher.stop()
        await receiver.stop()
    assert receiver.proc is not None and receiver.proc.poll() is not None

    same, none = demo_platform(container.settings, site, port=port)  # a site naming its platform keeps it
    assert none is None and same.sync.platform_url == site.sync.platform_url
