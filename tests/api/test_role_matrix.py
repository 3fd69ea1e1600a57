"""Role by route: every route of the app refuses every role it does not name (403 FORBIDDEN_ROLE), and nothing
but the health check, the metrics (loopback or token), sign-in, the static UI and, on a non-production site, the
API docs answers without a token.

Routes are walked from the app itself (``iter_routes``), so a route added later is covered without editing this.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from starlette.routing import Mount

from controller.api.deps import iter_routes, route_roles
from controller.app import create_app
from controller.auth import ROLES
from tests.conftest import Api

AS_ROLE = {"custody_staff": "2001", "case_officer": "1001", "supervisor": "3001", "admin": "9001",
           "platform": "9101"}
PUBLIC_API = {("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/card-login")}
PUBLIC_OPS = {"/healthz", "/metrics", "/"}
DOCS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
WS = {"/api/v1/live"}  # authenticated inside the handler (token query parameter); tested in test_auth


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)[^}]*\}", lambda m: "pause" if m.group(1) == "action" else "x-1", path)


def http_routes(app: Any) -> list[tuple[str, str, Any]]:
    out = []
    for r in iter_routes(app.routes):
        if isinstance(r, Mount) or r.path in WS:
            continue
        for m in sorted(getattr(r, "methods", None) or ()):
            if m != "HEAD":
                out.append((m, r.path, r))
    return out


async def test_every_route_refuses_every_role_it_does_not_name(api: Api, container: Any) -> None:
    app = create_app(container, start_background=False)
    checked = 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        tokens = {role: await Api(client).login(no) for role, no in AS_ROLE.items()}
        for method, path, route in http_routes(app):
            if not path.startswith("/api/"):
                continue
            roles = route_roles(route)
            assert roles is not None, path
            if roles == ("*",):
                assert (method, path) in PUBLIC_API, f"{method} {path} is public but not a sign-in route"
                continue
            for role in set(ROLES) - set(roles):
                r = await client.request(method, concrete(path), json={},
                                         headers={"Authorization": f"Bearer {tokens[role]}"})
                assert r.status_code == 403, (method, path, role, r.status_code, r.text)
                assert r.json()["code"] == "FORBIDDEN_ROLE", (method, path, role)
                checked += 1
    assert checked > 100  # the matrix really ran over the app's routes


async def test_nothing_answers_without_a_token_but_health_metrics_sign_in_ui_and_docs(container: Any) -> None:
    app = create_app(container, start_background=False)
    open_routes = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        for method, path, _route in http_routes(app):
            r = await client.request(method, concrete(path), json={})
            if r.status_code != 401:
                open_routes.append((method, path))
            else:
                assert r.json()["code"] == "UNAUTHENTICATED"
        ui = await client.get("/ui/kiosk.html")
        assert ui.status_code == 200
    opened = {(m, p) for m, p in open_routes}
    allowed = PUBLIC_API | {("GET", p) for p in PUBLIC_OPS | DOCS}
    assert opened <= allowed, sorted(opened - allowed)
    assert ("GET", "/healthz") in opened and ("POST", "/api/v1/auth/login") in opened


async def test_metrics_answer_loopback_or_the_metrics_token_only(container: Any, tmp_path: Any) -> None:
    app = create_app(container, start_background=False)
    remote = httpx.ASGITransport(app=app, client=("192.0.2.10", 5555))
    async with httpx.AsyncClient(transport=remote, base_url="http://test") as client:
        r = await client.get("/metrics")
        assert r.status_code == 403 and r.json()["code"] == "METRICS_FORBIDDEN"
    token_file = tmp_path / "metrics.token"
    token_file.write_text("s3cret-metrics-token\n")
    token_file.chmod(0o600)
    container.settings.metrics_token_file = token_file
    async with httpx.AsyncClient(transport=remote, base_url="http://test") as client:
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 403
        r = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
        assert r.status_code == 200
    local = httpx.ASGITransport(app=app, client=("127.0.0.1", 5555))
    async with httpx.AsyncClient(transport=local, base_url="http://test") as client:
        r = await client.get("/metrics")
        assert r.status_code == 200
        for name in ("hcc_transitions_total", "hcc_live_queue_depth_max", "hcc_live_subscribers"):
            assert f"# TYPE {name}" in r.text


@pytest.mark.parametrize("path", ["/api/v1/stays", "/ui/kiosk.html", "/healthz"])
async def test_responses_carry_security_headers(api: Api, path: str) -> None:
    r = await api.client.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp


async def test_a_production_site_serves_no_api_docs(container: Any) -> None:
    from controller.settings import parse_site

    raw = container.site.model_dump(mode="json")
    raw["site"]["production"] = True
    raw["tls"] = {"mode": "reverse_proxy"}  # a production site serves HTTPS
    raw["security"]["kiosk_enrolment"] = "required"
    raw["mqtt"] |= {"username": "controller", "password_file": "/etc/hcc/mqtt/controller.password",
                    "device_keys_dir": "/etc/hcc/mqtt/keys"}  # a production broker has no anonymous clients
    container.site = parse_site(raw)
    app = create_app(container, start_background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        for path in ("/openapi.json", "/docs"):
            assert (await client.get(path)).status_code == 404
