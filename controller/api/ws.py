"""WS /api/v1/live: committed changes pushed to kiosks and the dashboard. Browsers cannot set headers on a
WebSocket, so the token comes as the ``token`` query parameter; the socket closes with 4401 when it is bad."""

from __future__ import annotations

import asyncio
import contextlib
import json

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

    async def send_all() -> None:
        """One long-lived sender: no task per message, so a busy floor costs one send per event."""
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await ws.send_text(json.dumps(await q.get(), ensure_ascii=False, separators=(",", ":")))

    sender = asyncio.create_task(send_all())
    try:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while not sender.done():
                await ws.receive_text()  # pings from the page; closing ends the loop
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        c.hub.unsubscribe(q)
