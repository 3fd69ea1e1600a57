"""WS /api/v1/live: committed changes pushed to kiosks and the dashboard. Browsers cannot set headers on a
WebSocket, so the token comes as the ``token`` query parameter; the socket closes with 4401 when it is bad."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ..auth import authenticate
from ..domain.errors import RuleViolation

router = APIRouter()


@router.websocket("/api/v1/live")
async def live(ws: WebSocket) -> None:
    c = ws.app.state.container
    token = ws.query_params.get("token", "")
    now = c.clock.now()
    try:
        person, _ = await c.db.read(lambda s: authenticate(s, token, now))
    except RuleViolation as exc:
        await ws.close(code=4401, reason=exc.code)
        return
    await ws.accept()
    q = c.hub.subscribe()
    await ws.send_json({"type": "hello", "staff_id": person.id, "at": c.clock.now().isoformat()})

    async def drain_client() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await ws.receive_text()  # pings from the page; closing ends the loop

    reader = asyncio.create_task(drain_client())
    try:
        while not reader.done():
            get = asyncio.create_task(q.get())
            done, _ = await asyncio.wait({get, reader}, return_when=asyncio.FIRST_COMPLETED)
            if get in done:
                await ws.send_json(get.result())
            else:
                get.cancel()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        reader.cancel()
        c.hub.unsubscribe(q)
