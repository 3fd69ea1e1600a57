"""A bounded fuzzing run of the whole API from its own OpenAPI document (schemathesis, in-process ASGI), signed in
as an admin and as custody staff: no request, valid or not, gets a 5xx, and every response matches its documented
schema and content type. Bounded by examples per operation, not by time: a few examples each, shrinking off.

Left out: sign-out (it would revoke the very token the run uses), the test clock's advance (it would expire the
session mid-run), and the camera preview stream (no camera on this bench).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)
from starlette.testclient import TestClient

from controller.app import create_app
from tests.conftest import PASSWORD

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, response_headers_conformance]
SKIP = ("/api/v1/auth/logout", "/api/v1/dev/clock/advance", "/api/v1/captures/preview/{camera_id}")


FUZZ = settings(max_examples=4, deadline=None, phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck), database=None, derandomize=True)


def fuzz(app: Any, police_no: str) -> int:
    """Every operation of the app's OpenAPI document, a few generated cases each, as ``police_no``."""
    client = TestClient(app)
    r = client.post("/api/v1/auth/login", json={"police_no": police_no, "password": PASSWORD})
    assert r.status_code == 200, r.text
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if op.path in SKIP:
            continue
        operations += 1

        @FUZZ
        @given(case=op.as_strategy())
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:
            raise AssertionError(f"{op.method.upper()} {op.path} as {police_no}: {exc}") from exc
    return operations


def test_fuzz_as_admin(container: Any) -> None:
    assert fuzz(create_app(container, start_background=False), "9001") > 40


def test_fuzz_as_custody_staff(container: Any) -> None:
    assert fuzz(create_app(container, start_background=False), "2001") > 40
