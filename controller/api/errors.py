"""The one error shape: ``{code, message (中文), message_en, details}``, for every refusal and failure."""

from __future__ import annotations

import errno
import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from devices.base import DeviceError

from ..domain.errors import RuleViolation

log = logging.getLogger(__name__)


def error_body(code: str, message: str, message_en: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "message_en": message_en, "details": details or {}}


def _field_errors(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    fields = []
    code = "VALIDATION_ERROR"
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if x != "body"]
        if err.get("type") == "json_invalid":
            code = "MALFORMED_JSON"
        fields.append({"field": ".".join(loc), "type": err.get("type"), "message": err.get("msg")})
    return code, fields


def storage_full(exc: BaseException) -> bool:
    """SQLite's SQLITE_FULL ("database or disk is full"), or ENOSPC/EFBIG from a file write, however wrapped."""
    seen: BaseException | None = exc
    for _ in range(8):  # a bounded walk: exception chains can loop
        if seen is None:
            break
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EFBIG):
            return True
        if isinstance(seen, sqlite3.Error) and (getattr(seen, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
                                                or "database or disk is full" in str(seen)):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False


def _allowed(req: Request) -> list[str]:
    from starlette.routing import Match

    from .deps import iter_routes

    methods: set[str] = set()
    for route in iter_routes(list(req.app.routes)):
        if getattr(route, "methods", None) and route.matches(req.scope)[0] != Match.NONE:
            methods |= set(route.methods)
    return sorted(methods | ({"HEAD"} if "GET" in methods else set()))


def install(app: FastAPI) -> None:
    @app.exception_handler(RuleViolation)
    async def _rule(_req: Request, exc: RuleViolation) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.message_en, exc.details), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        code, fields = _field_errors(exc)
        if any(f["type"] == "approval_required" for f in fields):  # a body naming an approver (commands.py)
            return JSONResponse(error_body("APPROVAL_REQUIRED", "须经值班领导批准：请提交已批准的审批，而不是填写批准人",
                                           "name a granted approval, not an approver", {"fields": fields}),
                                status_code=409)
        if code == "MALFORMED_JSON":
            return JSONResponse(error_body(code, "请求内容不是有效的JSON", "the request body is not valid JSON",
                                           {"fields": fields}), status_code=400)
        names = ", ".join(f["field"] or "(body)" for f in fields)
        return JSONResponse(error_body(code, f"请求数据无效：{names}", f"invalid request: {names}",
                                       {"fields": fields}), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> JSONResponse:
        mapping = {404: ("NOT_FOUND", "资源不存在", "not found"), 405: ("METHOD_NOT_ALLOWED", "不支持的请求方法",
                                                                        "method not allowed")}
        code, zh, en = mapping.get(exc.status_code, ("HTTP_ERROR", "请求失败", str(exc.detail)))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Allow lists every method of the path, not only the first route's (RFC 9110)
            headers["Allow"] = ", ".join(_allowed(req))
        return JSONResponse(error_body(code, zh, en), status_code=exc.status_code, headers=headers)

    @app.exception_handler(DeviceError)
    async def _device(_req: Request, exc: DeviceError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message_zh, str(exc), {"device_id": exc.device_id}),
                            status_code=503)

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception) -> JSONResponse:
        if storage_full(exc):  # the transaction rolled back: nothing was written
            log.error("write refused: storage full (%s)", exc)
            return JSONResponse(error_body("STORAGE_FULL", "存储空间已满，操作未生效，请联系管理员释放磁盘空间",
                                           "storage full: nothing was changed; free disk space on the data directory"),
                                status_code=507)
        log.exception("unhandled error: %s", type(exc).__name__)
        return JSONResponse(error_body("INTERNAL_ERROR", "系统内部错误，操作未生效", "internal error; nothing was changed"),
                            status_code=500)
