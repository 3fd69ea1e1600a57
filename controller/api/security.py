"""HTTP hardening: security headers on every response, and who may read ``/metrics``.

The UI is served by the controller itself, so its Content-Security-Policy allows only this origin (no inline
script, no framing). ``/metrics`` answers loopback clients (the Prometheus agent or node exporter on the same PC)
and, for a remote Prometheus, a bearer token read from ``HCC_METRICS_TOKEN_FILE`` (0600); anyone else gets 403.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'; frame-src blob:")  # frame-src: a PDF the kiosk fetched itself, shown for printing
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
DOC_PATHS = ("/docs", "/redoc")  # Swagger UI loads its assets from a CDN; served only on non-production sites


class SecurityHeaders:
    """Pure ASGI middleware (streams such as the camera preview pass through untouched) adding the headers."""

    def __init__(self, app: ASGIApp, hsts_max_age: int = 31536000) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age}; includeSubDomains"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        extra = dict(HEADERS)
        if not path.startswith(DOC_PATHS):
            extra["Content-Security-Policy"] = CSP
        if path.startswith("/api/"):
            extra["Cache-Control"] = "no-store"
        if scope.get("scheme") == "https":  # HSTS only means something over TLS (RFC 6797 §7.2)
            extra["Strict-Transport-Security"] = self.hsts

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in extra.items():
                    if k not in headers:
                        headers[k] = v
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(app: FastAPI, hsts_max_age: int = 31536000) -> None:
    app.add_middleware(SecurityHeaders, hsts_max_age=hsts_max_age)


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def metrics_allowed(request: Request, token_file: Path | None) -> bool:
    """Loopback clients, or the metrics bearer token when one is configured."""
    if is_loopback(request.client.host if request.client else None):
        return True
    if token_file is None:
        return False
    try:
        expected = token_file.read_text().strip()
    except OSError:
        return False
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    return bool(expected) and secrets.compare_digest(given.encode(), expected.encode())


def docs_kwargs(production: bool) -> dict[str, Any]:
    """A production site serves no interactive docs nor the OpenAPI document to anonymous callers."""
    return {"docs_url": None, "redoc_url": None, "openapi_url": None} if production else {}
