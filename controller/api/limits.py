"""Transport-level limits, applied before any route sees a request: the request body size, and which proxy may
name the client's address.

A body over the limit is refused with 413 before it is read: by its ``Content-Length`` at once, and a body
without one (chunked) is buffered only up to the limit. So a 200 MB post costs the process at most the limit, not
the 200 MB (issue 16: the sign-in route took 254 MB to 822 MB). Routes that take images get a larger limit.

``X-Forwarded-For`` is believed only from a configured proxy (``HCC_TRUSTED_PROXIES``); uvicorn's own proxy
handling is off, since it trusts loopback by default and a local caller could then claim any address and escape
the per-address sign-in limit.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body

DEFAULT_BODY_LIMIT = 1024 * 1024
IMAGE_BODY_LIMIT = 2 * 1024 * 1024
# Routes that take an image in the body (the kiosk's signature PNG as a data URL).
IMAGE_ROUTES = ("/api/v1/ui/signatures",)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class BodyLimit:
    """Pure ASGI middleware: 413 ``PAYLOAD_TOO_LARGE`` for a body over the route's limit, before parsing."""

    def __init__(self, app: ASGIApp, default: int = DEFAULT_BODY_LIMIT, image: int = IMAGE_BODY_LIMIT) -> None:
        self.app, self.default, self.image = app, default, image

    def limit_for(self, path: str) -> int:
        return self.image if path.startswith(IMAGE_ROUTES) else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        length = None
        for k, v in scope.get("headers", ()):
            if k == b"content-length":
                length = v
        if length is not None:
            if not length.isdigit():
                await _refuse(send, 400, "BAD_CONTENT_LENGTH", "请求长度无效", "invalid Content-Length", {})
                return
            if int(length) > limit:
                await _too_large(send, limit)
                return
            await self.app(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        # No length given (chunked): read up to the limit here, then hand the app exactly what was read.
        chunks: list[Message] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                chunks.append(message)
                break
            total += len(message.get("body", b""))
            if total > limit:
                await _too_large(send, limit)
                return
            chunks.append(message)
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, code: str, zh: str, en: str, details: dict[str, int]) -> None:
    body = json.dumps(error_body(code, zh, en, details), ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


async def _too_large(send: Send, limit: int) -> None:
    await _refuse(send, 413, "PAYLOAD_TOO_LARGE", f"请求内容过大（上限 {limit // 1024} KB）",
                  f"request body too large (limit {limit // 1024} KB)", {"limit_bytes": limit})


def parse_networks(spec: str | Iterable[str]) -> list[Network]:
    """``"10.0.0.5, 10.1.0.0/16"`` -> networks; an empty spec trusts no proxy."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    return [ipaddress.ip_network(x.strip(), strict=False) for x in items if x.strip()]


def _in(host: str, nets: list[Network]) -> bool:
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(addr in n for n in nets)


class TrustedProxy:
    """Pure ASGI middleware: the client address is the socket's peer, unless that peer is a configured proxy, in
    which case it is the nearest ``X-Forwarded-For`` hop that is not itself a configured proxy."""

    def __init__(self, app: ASGIApp, proxies: list[Network]) -> None:
        self.app, self.proxies = app, proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and self.proxies and client and _in(client[0], self.proxies):
            hops = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-forwarded-for"]
            chain = [h.strip() for line in hops for h in line.split(",") if h.strip()]
            for hop in reversed(chain):
                if not _in(hop, self.proxies):
                    try:
                        ipaddress.ip_address(hop)
                    except ValueError:
                        break  # a malformed hop: keep the proxy's own address
                    scope = {**scope, "client": (hop, 0)}
                    break
        await self.app(scope, receive, send)


def install(app: ASGIApp, trusted_proxies: str) -> None:
    """Body limit inside, proxy outside (Starlette runs the last-added middleware first)."""
    app.add_middleware(BodyLimit)  # type: ignore[attr-defined]
    app.add_middleware(TrustedProxy, proxies=parse_networks(trusted_proxies))  # type: ignore[attr-defined]
