"""create_app(container) -> FastAPI. The lifespan starts the scheduler (and devices, sync) and stops them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from .api import errors, limits, openapi, security, ws
from .api.deps import iter_routes, route_roles
from .api.listcache import ListCache
from .api.ratelimit import LoginLimiter, SignInBackoff
from .api.routes import accounts, approvals, captures, centre, custody, health, measures, stays, sync, ui
from .api.routes import documents as documents_routes
from .api.routes import duty as duty_routes
from .api.routes import notifications as notification_routes
from .api.routes import reports as reports_routes
from .api.routes import safeguards as safeguards_routes
from .api.routes import search as search_routes
from .container import Container
from .domain.errors import RuleViolation

KIOSK_DIR = Path(__file__).resolve().parent.parent / "kiosk_ui"


def create_app(container: Container, *, start_background: bool = True) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hooks = list(container.lifecycle)
        for h in hooks:
            await h.start()
        if start_background:
            container.scheduler.start()
        try:
            yield
        finally:
            await container.scheduler.stop()
            for h in reversed(hooks):
                await h.stop()

    app = FastAPI(title="办案中心站点控制器 / Handling-centre station controller", version="0.1.0",
                  lifespan=lifespan, **security.docs_kwargs(container.site.site.production))
    app.state.container = container
    app.state.login_limiter = LoginLimiter()
    app.state.sign_in_backoff = SignInBackoff()
    errors.install(app)
    security.install(app, container.site.tls.hsts_max_age)
    limits.install(app, container.settings.trusted_proxies)
    app.include_router(stays.router)
    app.include_router(centre.router)
    app.include_router(ui.router)
    app.include_router(captures.router)
    app.include_router(approvals.router)
    app.include_router(measures.router)
    app.include_router(notification_routes.router)
    app.include_router(ws.router)
    ws.attach(app)  # the live socket's typed deltas follow every commit from now on
    app.state.list_cache = ListCache(container.db)  # the ledger and alarm lists, once per commit
    app.include_router(sync.router)
    app.include_router(documents_routes.router)
    app.include_router(search_routes.router)
    app.include_router(reports_routes.router)
    app.include_router(accounts.router)
    app.include_router(custody.router)
    app.include_router(health.router)
    app.include_router(duty_routes.router)
    app.include_router(safeguards_routes.router)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, Any]:
        ok = True
        try:
            await container.db.read(lambda s: s.connection().exec_driver_sql("SELECT 1").scalar())
        except Exception:
            ok = False
        return {"ok": ok, "site": container.site.site.id, "now": container.clock.now().isoformat()}

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    async def metrics(request: Request) -> str:
        """Loopback clients, or ``Authorization: Bearer`` the token in ``HCC_METRICS_TOKEN_FILE``."""
        from .metrics import render

        if not security.metrics_allowed(request, container.settings.metrics_token_file):
            raise RuleViolation("METRICS_FORBIDDEN", "仅限本机或持令牌访问", "metrics: loopback or token only", status=403)

        return await render(container)

    if KIOSK_DIR.is_dir():
        app.mount("/ui", StaticFiles(directory=KIOSK_DIR, html=True), name="ui")

        @app.get("/", include_in_schema=False)
        async def root() -> RedirectResponse:
            return RedirectResponse("/ui/")

    openapi.install(app)
    _check_every_route_guarded(app)
    return app


def _check_every_route_guarded(app: FastAPI) -> None:
    """Deny by default: an /api route without a declared role list is a bug that must not start."""
    for route in iter_routes(app.routes):
        path = getattr(route, "path", "")
        if path.startswith("/api/") and path != "/api/v1/live" and route_roles(route) is None:
            raise RuntimeError(f"route {path} declares no roles (use allow(...) or public())")
