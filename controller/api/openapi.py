"""The OpenAPI document tells the truth about failures: every /api operation declares the error answers it can
give (the one error shape of ``errors.py``), so a client generated from it, and schemathesis, know them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "required": ["code", "message", "message_en", "details"],
    "properties": {
        "code": {"type": "string", "description": "stable machine code, e.g. STAY_NOT_ASSIGNED"},
        "message": {"type": "string", "description": "中文说明"},
        "message_en": {"type": "string", "description": "English explanation"},
        "details": {"type": "object", "additionalProperties": True},
    },
}
ERRORS = {
    "400": "malformed request (invalid JSON, bad Content-Length)",
    "401": "not signed in, or the session ended",
    "403": "the role, the case or the kiosk may not do this",
    "404": "no such resource",
    "409": "a legal or state rule refuses the step",
    "413": "request body over the limit",
    "422": "invalid request data",
    "429": "too many attempts; wait",
    "503": "a device needed for the step is unavailable",
    "507": "storage full; nothing was changed",
}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
        doc.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for ops in doc.get("paths", {}).values():
            for op in ops.values():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                responses = op["responses"]
                for status, text in ERRORS.items():
                    responses[status] = {"description": text, **ref}
                responses["405"] = {"description": "method not allowed (the Allow header lists the methods)",
                                    "headers": {"Allow": {"schema": {"type": "string"}}}, **ref}
        doc["components"]["schemas"].pop("HTTPValidationError", None)
        doc["components"]["schemas"].pop("ValidationError", None)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
