"""systemd notification (``sd_notify``) without libsystemd: one datagram per state on ``$NOTIFY_SOCKET``.

``READY=1`` once the server is listening, ``WATCHDOG=1`` from the event loop every half ``$WATCHDOG_USEC`` (so a
stuck loop stops the pings and systemd restarts the service), ``STOPPING=1`` when shutdown begins. Outside systemd
(no ``NOTIFY_SOCKET``) every call does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import Any

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        path = env.get("NOTIFY_SOCKET", "")
        self.address: str | None = ("\0" + path[1:]) if path.startswith("@") else (path or None)
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        ours = not pid or pid == str(os.getpid())
        self.watchdog_s: float | None = int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 and ours else None
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, state: str) -> bool:
        """Sends one state line (e.g. ``READY=1``); False when not under systemd or the socket is gone."""
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                s.connect(self.address)
                s.sendall(state.encode())
            return True
        except OSError as exc:
            log.warning("sd_notify %s failed: %s", state.split("=", 1)[0], exc)
            return False

    def ready(self, status: str = "serving") -> None:
        self.notify(f"READY=1\nSTATUS={status}")
        if self.watchdog_s and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watchdog(), name="sd-watchdog")

    async def _watchdog(self) -> None:
        assert self.watchdog_s is not None
        while True:
            self.notify("WATCHDOG=1")
            await asyncio.sleep(self.watchdog_s / 2)

    async def stopping(self) -> None:
        self.notify("STOPPING=1")
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def notifying_server(config: Any, status: str = "serving") -> Any:
    """A ``uvicorn.Server`` that says READY once listening (then pings the watchdog) and STOPPING on shutdown."""
    import uvicorn

    notifier = Notifier()

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                notifier.ready(status)

        async def shutdown(self, sockets: Any = None) -> None:
            await notifier.stopping()
            await super().shutdown(sockets=sockets)

    return Server(config)
