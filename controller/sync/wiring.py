"""Attaches central platform sync to a container: the sync routes always, the pusher when a platform is set."""

from __future__ import annotations

from typing import Any


def attach(c: Any) -> None:
    """``c`` is the ``Container``. Adds the router, and with ``site.sync.platform_url`` the pusher (lifecycle,
    metrics, ``extras["sync_pusher"]`` for the status endpoint)."""
    from ..api.routes.sync import router
    from .pusher import build_pusher

    c.extras.setdefault("routers", []).append(router)
    cfg = c.site.sync
    if cfg.platform_url:
        pusher = build_pusher(c.db, c.site.site.id, cfg, c.clock, c.hub)
        c.extras["sync_pusher"] = pusher
        c.extras.setdefault("lifecycle", []).append(pusher)
        c.extras.setdefault("metrics", []).append(pusher.metrics)
