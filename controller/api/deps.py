"""Dependencies: the container, the signed-in staff member, and per-route role allow-lists (deny by default).

Every route under /api/v1 declares its roles with ``allow(...)`` or ``public()``; ``create_app`` refuses to start
if one does not, so a forgotten guard is a start-up failure, not an open door.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from ..auth import actor_for, authenticate
from ..container import Container
from ..domain.actor import Actor
from ..domain.errors import RuleViolation
from .scope import check_stay, scoped, stay_of

STAFF = ("custody_staff", "case_officer", "supervisor", "admin")


def get_container(request: Request) -> Container:
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


def bearer(request: Request, query_token: bool = False) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and len(header) > 7:
        return header[7:].strip()
    if query_token and request.query_params.get("token"):
        return request.query_params["token"]
    raise RuleViolation("UNAUTHENTICATED", "请先登录", "sign in first", status=401)


def allow(*roles: str, query_token: bool = False) -> Any:
    """A dependency that admits only staff holding one of ``roles``; the route's audit role is that role.

    ``query_token`` also accepts the token as the ``token`` query parameter, for the few routes a browser loads
    without headers (an ``<img>`` live preview), like the WebSocket.
    """

    async def dep(request: Request, c: ContainerDep) -> Actor:
        token = bearer(request, query_token)
        now = c.clock.now()
        params = dict(request.path_params)

        def check(s: Any) -> Any:
            person, _sess = authenticate(s, token, now)
            if not set(person.roles) & set(roles):
                raise RuleViolation("FORBIDDEN_ROLE", "无权进行此操作", "your role may not do this", status=403,
                                    allowed_roles=list(roles))
            if scoped(person):  # a case officer: only the stays of his cases (scope.py)
                check_stay(s, person, stay_of(s, params))
            return person

        person = await c.db.read(check)
        request.state.token = token
        return actor_for(person, roles)

    dep.allowed_roles = roles  # type: ignore[attr-defined]
    return Depends(dep)


def public() -> Any:
    def dep() -> None:
        return None

    dep.allowed_roles = ("*",)  # type: ignore[attr-defined]
    return Depends(dep)


def iter_routes(routes: list[Any]) -> list[Any]:
    """Every concrete route, looking inside included routers (newer FastAPI nests them)."""
    out: list[Any] = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        out.extend(iter_routes(inner.routes) if inner is not None else [r])
    return out


def route_roles(route: Any) -> tuple[str, ...] | None:
    dependant = getattr(route, "dependant", None)
    for d in dependant.dependencies if dependant is not None else []:
        roles = getattr(d.call, "allowed_roles", None)
        if roles is not None:
            return roles
    return None


async def step_up(request: Request, c: Container, cred: Any, role: str = "supervisor") -> tuple[Actor, str]:
    """Verifies step-up credentials (``auth.StepUpIn``) in their own transaction, so a wrong PIN's failure count
    commits even though the step is refused; returns the proven actor and the method (card_pin | password).
    Rate-limited per address like sign-in."""
    from ..auth import verify_step_up
    from .ratelimit import LoginLimiter

    # its own per-address budget (the account lockout is the guard against guessing one person's PIN): a busy
    # kiosk's step-ups do not use up the sign-in budget of the staff behind the same address
    limiter = getattr(request.app.state, "step_up_limiter", None)
    if limiter is None:
        limiter = request.app.state.step_up_limiter = LoginLimiter()
    client = request.client.host if request.client else "?"
    now = c.clock.now()
    limiter.check(client, now)
    # a wrong PIN or password counts toward the same per-account-and-source back-off as a failed sign-in
    account = f"card:{cred.card_id}" if cred.card_id is not None else str(cred.police_no or "")
    backoff = request.app.state.sign_in_backoff
    backoff.check(account, client, now)
    result = await c.db.write(Actor.system("auth"), lambda uow: verify_step_up(uow, cred, role=role))
    if result.error is not None and result.error.code == "BAD_CREDENTIALS":
        backoff.failed(account, client, now)
        limiter.failed(client, now)
    elif result.error is None:
        backoff.succeeded(account, client)
    if result.error is not None:
        err = result.error
        if err.status == 401:  # the caller's own session is fine: a 401 would sign the kiosk user out
            raise RuleViolation(err.code, err.message, err.message_en, status=403, step_up=True, **err.details)
        raise err
    assert result.actor is not None
    return result.actor, result.method
