"""WS /api/v1/live: committed changes pushed to kiosks and the dashboard, as the signed-in role may see them.

Browsers cannot set headers on a WebSocket, so the token comes as the ``token`` query parameter. A socket belongs
to the session it signed in with and lives no longer than it: it closes with 4401 on sign-out, when the account is
disabled, when the kiosk is revoked and when the session expires (``LiveSockets.sweep``). A browser page from
another origin may not open one (cross-site WebSocket hijacking): a present ``Origin`` must match the host.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlmodel import Session

from ..auth import authenticate
from ..clock import utc
from ..domain.errors import RuleViolation
from ..store.tables import AuthSession, Kiosk, Staff
from .visibility import live_filter

router = APIRouter()
SWEEP_SECONDS = 5.0  # how soon a session ended by another process (the CLI) closes its sockets
ENDING_EVENTS = frozenset({"staff_disabled", "kiosk_revoked", "signed_out", "password_changed", "password_reset"})


@dataclass(eq=False)
class _Socket:
    session: str  # the session's token hash
    ended: asyncio.Future[str] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


def session_state(session: Session, key: str, now: datetime) -> str | None:
    """None while the session is good, else why it ended. Reads only: a listening socket is not activity, so it
    neither refreshes the idle timer nor writes anything."""
    sess = session.get(AuthSession, key)
    if sess is None or sess.revoked:
        return "SESSION_ENDED"
    if utc(sess.expires_at) <= now or utc(sess.last_seen_at) + timedelta(seconds=sess.idle_seconds) <= now:
        return "SESSION_EXPIRED"
    person = session.get(Staff, sess.staff_id)
    if person is None or not person.active:
        return "ACCOUNT_DISABLED"
    if sess.kiosk_id is not None:
        kiosk = session.get(Kiosk, sess.kiosk_id)
        if kiosk is not None and kiosk.revoked:
            return "KIOSK_REVOKED"
    return None


class LiveSockets:
    """The open sockets by session. ``sweep`` checks every session with an open socket in one read and ends the
    sockets of those that ended; it runs when the hub carries a sign-out, disable or revoke, when the test clock
    moves, and every SWEEP_SECONDS while any socket is open."""

    def __init__(self, container: Any) -> None:
        self.c = container
        self._sockets: set[_Socket] = set()
        self._timer: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[Any]] = set()
        container.hub.on_event(self._on_event)
        if container.fake_clock is not None:
            container.fake_clock.on_advance(self.sweep)

    def __len__(self) -> int:
        return len(self._sockets)

    def add(self, session_key: str) -> _Socket:
        sock = _Socket(session_key)
        self._sockets.add(sock)
        if self._timer is None or self._timer.done():
            self._timer = asyncio.get_running_loop().create_task(self._every())
        return sock

    def remove(self, sock: _Socket) -> None:
        self._sockets.discard(sock)
        if not self._sockets and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def sweep(self) -> int:
        """Ends the sockets whose session ended; returns how many."""
        if not self._sockets:
            return 0
        keys = {s.session for s in self._sockets}
        now = self.c.clock.now()
        states = await self.c.db.read(lambda s: {k: session_state(s, k, now) for k in keys})
        ended = 0
        for sock in list(self._sockets):
            why = states.get(sock.session)
            if why is not None and not sock.ended.done():
                sock.ended.set_result(why)
                ended += 1
        return ended

    def _on_event(self, ev: dict[str, Any]) -> None:
        if ev.get("type") in ENDING_EVENTS and self._sockets:
            task = asyncio.get_running_loop().create_task(self.sweep())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _every(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)  # a real-time period for changes made by other processes
            with contextlib.suppress(Exception):
                await self.sweep()


def live_sockets(app: Any) -> LiveSockets:
    reg = getattr(app.state, "live_sockets", None)
    if reg is None:
        reg = app.state.live_sockets = LiveSockets(app.state.container)
    return reg


def origin_allowed(ws: WebSocket) -> bool:
    """No Origin: not a browser (a browser always sends one), so the token alone decides. Otherwise the page must
    come from this very host: the UI is served by the controller itself."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True
    host = ws.headers.get("host", "")
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and bool(host) and parts.netloc.lower() == host.lower()


@router.websocket("/api/v1/live")
async def live(ws: WebSocket) -> None:
    c = ws.app.state.container
    if not origin_allowed(ws):
        await ws.close(code=4403, reason="ORIGIN_FORBIDDEN")
        return
    token = ws.query_params.get("token", "")
    now = c.clock.now()
    try:
        person, sess = await c.db.read(lambda s: authenticate(s, token, now))
    except RuleViolation as exc:
        await ws.close(code=4401, reason=exc.code)
        return
    registry = live_sockets(ws.app)
    await ws.accept()
    view = live_filter(tuple(person.roles), bool(c.site.sync.include_identity_numbers))
    sock = registry.add(sess.token_hash)
    q = c.hub.subscribe()
    await ws.send_json({"type": "hello", "staff_id": person.id, "at": c.clock.now().isoformat()})

    async def send_all() -> None:
        """One long-lived sender: no task per message, so a busy floor costs one send per event."""
        while True:
            ev = view(await q.get())
            if ev is not None:
                await ws.send_text(json.dumps(ev, ensure_ascii=False, separators=(",", ":")))

    async def receive_all() -> None:
        while True:
            await ws.receive_text()  # pings from the page; closing ends the loop

    tasks: set[asyncio.Future[Any]] = {asyncio.create_task(send_all()), asyncio.create_task(receive_all())}
    try:
        done, _ = await asyncio.wait({*tasks, sock.ended}, return_when=asyncio.FIRST_COMPLETED)
        if sock.ended in done:
            for t in tasks:
                t.cancel()
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await ws.close(code=4401, reason=sock.ended.result())
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError, Exception):
                await t
        c.hub.unsubscribe(q)
        registry.remove(sock)
