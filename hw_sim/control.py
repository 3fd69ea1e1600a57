"""The simulator's control interface: a small JSON-over-HTTP server on 127.0.0.1 that tests and the demo use to
inspect devices, switch faults, act as people do and run scenarios.

::

    GET    /devices                           every simulated device's info()
    GET    /devices/<id>                      one device
    POST   /devices/<id>/faults               {"name": "...", "params": {...}}      switch a fault on
    DELETE /devices/<id>/faults[/<name>]                                         switch one or every fault off
    POST   /devices/<id>/actions/<action>     {"params": {...}}   e.g. press, tag_move, walk_through, close_door
    GET    /scenarios                         the scripted scenarios
    POST   /scenarios/<name>                  {"params": {...}}

Errors: 404 unknown device/action/scenario, 400 bad JSON or a refused fault/parameter, 409 a scenario that needs a
device this site does not simulate. Plain asyncio streams (one request per connection): no framework needed for a
handful of routes on a loopback port.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from hw_sim.scenarios import SCENARIOS, describe
from hw_sim.site import SimSite

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
RESERVED = frozenset({"start", "stop", "set_fault", "clear_fault", "info", "wait_ready", "wait_until", "state"})


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


Route = tuple[str, re.Pattern[str], Callable[..., Awaitable[Any]]]


class ControlServer:
    def __init__(self, site: SimSite, host: str = "127.0.0.1", port: int = 18099) -> None:
        self.site = site
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[Any]] = set()
        self._routes: list[Route] = [
            ("GET", re.compile(r"/devices"), self._list),
            ("GET", re.compile(r"/devices/(?P<device_id>[^/]+)"), self._one),
            ("POST", re.compile(r"/devices/(?P<device_id>[^/]+)/faults"), self._set_fault),
            ("DELETE", re.compile(r"/devices/(?P<device_id>[^/]+)/faults(?:/(?P<name>[^/]+))?"), self._clear_fault),
            ("POST", re.compile(r"/devices/(?P<device_id>[^/]+)/actions/(?P<action>[a-z_][a-z0-9_]*)"), self._action),
            ("GET", re.compile(r"/scenarios"), self._scenarios),
            ("POST", re.compile(r"/scenarios/(?P<name>[a-z0-9_]+)"), self._scenario),
        ]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for t in list(self._conns):
            t.cancel()
        if self._conns:
            await asyncio.gather(*self._conns, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    # --- HTTP ----------------------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conns.add(task)
        try:
            await self._respond(reader, writer)
        finally:
            if task is not None:
                self._conns.discard(task)
            writer.close()

    async def _respond(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        status, body = 500, {"error": "internal error"}
        try:
            method, path, payload = await asyncio.wait_for(self._read(reader), 10)
            status, body = 200, await self._dispatch(method, path, payload)
        except HttpError as exc:
            status, body = exc.status, {"error": str(exc)}
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return
        except Exception as exc:
            log.exception("control request failed")
            status, body = 500, {"error": repr(exc)}
        data = json.dumps(body, default=_default, ensure_ascii=False).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
                  413: "Payload Too Large"}.get(status, "Error")
        writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
        with contextlib.suppress(ConnectionError):
            await writer.drain()

    async def _read(self, reader: asyncio.StreamReader) -> tuple[str, str, Any]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, _ = lines[0].split(" ", 2)
        except ValueError:
            raise HttpError(400, "bad request line") from None
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    raise HttpError(400, "bad Content-Length") from None
        if length > MAX_BODY:
            raise HttpError(413, "body too large")
        payload: Any = None
        if length:
            raw = await reader.readexactly(length)
            try:
                payload = json.loads(raw)
            except ValueError:
                raise HttpError(400, "body is not JSON") from None
        return method.upper(), target.split("?", 1)[0].rstrip("/") or "/", payload

    async def _dispatch(self, method: str, path: str, payload: Any) -> Any:
        allowed = False
        for m, pattern, fn in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            allowed = True
            if m == method:
                return await fn(payload, **match.groupdict())
        raise HttpError(405 if allowed else 404, f"{method} {path} is not a route")

    # --- routes --------------------------------------------------------------------------------------------

    def _sim(self, device_id: str) -> Any:
        sim = self.site.sims.get(device_id)
        if sim is None:
            raise HttpError(404, f"no simulated device {device_id!r}")
        return sim

    @staticmethod
    def _params(payload: Any) -> dict[str, Any]:
        if payload is None:
            return {}
        if not isinstance(payload, dict):
            raise HttpError(400, "body must be a JSON object")
        params = payload.get("params", {})
        if not isinstance(params, dict):
            raise HttpError(400, "params must be an object")
        return params

    async def _list(self, payload: Any) -> Any:
        return {"site": self.site.site_id, "skipped": self.site.skipped,
                "devices": [sim.info() for sim in self.site.sims.values()]}

    async def _one(self, payload: Any, device_id: str) -> Any:
        return self._sim(device_id).info()

    async def _set_fault(self, payload: Any, device_id: str) -> Any:
        sim = self._sim(device_id)
        name = payload.get("name") if isinstance(payload, dict) else None
        if not isinstance(name, str):
            raise HttpError(400, 'body must be {"name": "<fault>", "params": {...}}')
        try:
            sim.set_fault(name, **self._params(payload))
        except (ValueError, TypeError) as exc:
            raise HttpError(400, str(exc)) from None
        return sim.info()

    async def _clear_fault(self, payload: Any, device_id: str, name: str | None = None) -> Any:
        sim = self._sim(device_id)
        sim.clear_fault(name)
        return sim.info()

    async def _action(self, payload: Any, device_id: str, action: str) -> Any:
        sim = self._sim(device_id)
        allowed = getattr(sim, "ACTIONS", None)
        if allowed is not None:
            ok = action in allowed
        else:  # a sim without a list: any public method that is not part of the lifecycle
            ok = action not in RESERVED and callable(getattr(sim, action, None))
        if not ok or action.startswith("_"):
            raise HttpError(404, f"{getattr(sim, 'kind', 'device')} {device_id} has no action {action!r}")
        try:
            result = getattr(sim, action)(**self._params(payload))
            if inspect.isawaitable(result):
                result = await result
        except (ValueError, TypeError, KeyError) as exc:
            raise HttpError(400, f"{action}: {exc}") from None
        return {"device": device_id, "action": action, "result": result}

    async def _scenarios(self, payload: Any) -> Any:
        return describe()

    async def _scenario(self, payload: Any, name: str) -> Any:
        fn = SCENARIOS.get(name)
        if fn is None:
            raise HttpError(404, f"no scenario {name!r}; known: {', '.join(SCENARIOS)}")
        try:
            result = await fn(self.site, **self._params(payload))
        except LookupError as exc:
            raise HttpError(409, str(exc)) from None
        except (ValueError, TypeError) as exc:
            raise HttpError(400, str(exc)) from None
        return {"scenario": name, "result": result}
