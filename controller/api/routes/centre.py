"""Rooms, welfare checks, lockers, alarms, audit, staff, sign-in, and the test clock (sync lives in sync.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ... import auth
from ...domain.actor import Actor
from ...domain.errors import RuleViolation
from ...services import alarms, lockers, rooms
from ...services.commands import Empty, OpenLocker, ResolveAlarm, WelfareCheckIn
from ...store import audit
from ...store.tables import BenchRow
from ..deps import STAFF, ContainerDep, allow, bearer, public
from ..listcache import ListCache
from ..ws import live_sockets

router = APIRouter(prefix="/api/v1")
StaffActor = Annotated[Actor, allow(*STAFF)]
GUARD = ("custody_staff", "supervisor")


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    police_no: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=256)
    kiosk_id: str | None = Field(default=None, max_length=64)
    kiosk_token: str | None = Field(default=None, max_length=256, description="the enrolled kiosk's device token")


class CardLoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    card_id: str = Field(min_length=4, max_length=64)
    pin: str = Field(min_length=4, max_length=8, pattern=r"^[0-9]+$")
    kiosk_id: str | None = Field(default=None, max_length=64)
    kiosk_token: str | None = Field(default=None, max_length=256)


async def _sign_in(request: Request, c: Any, kiosk_id: str | None, kiosk_token: str | None,
                   check: Any, account: str) -> dict[str, Any]:
    """Rate limit per address, back-off per account and address, the kiosk's enrolment, then the credentials
    (``check(uow, idle, absolute)``)."""
    from datetime import timedelta

    limiter = request.app.state.login_limiter
    backoff = request.app.state.sign_in_backoff
    client = request.client.host if request.client else "?"
    now = c.clock.now()
    limiter.check(client, now)
    backoff.check(account, client, now)
    t = c.site.timing
    idle = timedelta(minutes=t.kiosk_idle_minutes if kiosk_id else t.session_idle_minutes)
    required = c.site.security.kiosk_enrolment == "required"

    def write(uow: Any) -> auth.LoginResult:
        auth.check_kiosk(uow.session, kiosk_id, kiosk_token, required)
        return check(uow, idle, timedelta(hours=t.session_absolute_hours))

    result = await c.db.write(Actor.system("auth"), write)
    if result.error is not None:
        if result.error.code == "BAD_CREDENTIALS":
            backoff.failed(account, client, now)
            limiter.failed(client, now)
        raise result.error
    backoff.succeeded(account, client)
    assert result.expires_at is not None
    return {"token": result.token, "expires_at": result.expires_at.isoformat(), "staff": result.staff,
            "idle_timeout_s": int(idle.total_seconds())}


@router.post("/auth/login", tags=["auth"], dependencies=[public()])
async def login(body: LoginIn, request: Request, c: ContainerDep) -> dict[str, Any]:
    return await _sign_in(request, c, body.kiosk_id, body.kiosk_token, lambda uow, idle, absolute: auth.login(
        uow, body.police_no, body.password, idle=idle, absolute=absolute, kiosk_id=body.kiosk_id),
        account=f"police_no:{body.police_no}")


@router.post("/auth/card-login", tags=["auth"], dependencies=[public()])
async def card_login(body: CardLoginIn, request: Request, c: ContainerDep) -> dict[str, Any]:
    """Staff card + PIN sign-in, where the site has staff card readers (``security.staff_card_login``)."""
    if not c.site.security.staff_card_login:
        raise RuleViolation("CARD_LOGIN_DISABLED", "本站点未启用刷卡登录", "card sign-in is not enabled here", status=404)
    return await _sign_in(request, c, body.kiosk_id, body.kiosk_token, lambda uow, idle, absolute: auth.card_login(
        uow, body.card_id, body.pin, idle=idle, absolute=absolute, kiosk_id=body.kiosk_id),
        account=f"card:{auth.card_hash(body.card_id)}")


@router.post("/auth/logout", tags=["auth"])
async def logout(request: Request, c: ContainerDep, actor: StaffActor) -> dict[str, Any]:
    token = bearer(request)
    await c.db.write(actor, lambda uow: auth.logout(uow, token))
    await live_sockets(request.app).sweep()  # this session's live sockets close now (4401)
    return {"ok": True}


@router.get("/auth/me", tags=["auth"])
async def me(c: ContainerDep, actor: Annotated[Actor, allow(*STAFF, "platform")]) -> dict[str, Any]:
    return {"id": actor.id, "name": actor.name, "sex": actor.sex, "roles": list(actor.roles)}


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    police_no: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")
    name: str = Field(min_length=1, max_length=60)
    sex: str
    roles: list[str] = Field(min_length=1)
    password: str = Field(min_length=1, max_length=256)  # the policy (controller/passwords.py) says more


@router.get("/staff", tags=["staff"])
async def list_staff(c: ContainerDep, actor: StaffActor) -> list[dict[str, Any]]:
    from sqlmodel import select

    from ...store.tables import Staff

    return await c.db.read(lambda s: [auth.staff_public(p) for p in s.exec(select(Staff).order_by(Staff.name)).all()])


@router.post("/staff", tags=["staff"], status_code=201)
async def add_staff(body: StaffIn, c: ContainerDep, actor: Annotated[Actor, allow("admin")]) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: auth.staff_public(auth.create_staff(
        uow, police_no=body.police_no, name=body.name, sex=body.sex, roles=body.roles, password=body.password)))


@router.post("/staff/{staff_id}/disable", tags=["staff"])
async def disable_staff(staff_id: str, body: Empty, c: ContainerDep,
                        actor: Annotated[Actor, allow("admin")]) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: auth.staff_public(auth.set_active(uow, staff_id, False)))


@router.get("/rooms", tags=["rooms"])
async def list_rooms(c: ContainerDep, actor: StaffActor) -> list[dict[str, Any]]:
    return await c.db.read(lambda s: rooms.list_rooms(s, c.ctx))


@router.post("/rooms/{room_id}/welfare-checks", tags=["rooms"], status_code=201,
             summary="A welfare check by the signed-in guard, who must be shown to be in the room")
async def welfare_check(room_id: str, body: WelfareCheckIn, request: Request, c: ContainerDep,
                        actor: Annotated[Actor, allow(*GUARD)]) -> dict[str, Any]:
    """Accepted only when the checker is there now: their own tag reported in the room by its wristband reader
    within ``welfare.presence_window_s``, or, in a room without a reader, the kiosk enrolled in that room
    (``WELFARE_CHECK_NOT_PRESENT`` otherwise)."""
    from ...services import welfare

    bus = c.devices
    tags_here = bus.tags_in(room_id) if bus is not None else {}  # no devicebus: no tag is known anywhere
    token = getattr(request.state, "token", None)
    return await c.db.write(actor, lambda uow: welfare.record_check(uow, c.ctx, room_id, body, tags_here, token))


@router.get("/lockers", tags=["lockers"])
async def list_lockers(c: ContainerDep, actor: Annotated[Actor, allow(*GUARD, "admin")]) -> list[dict[str, Any]]:
    return await c.db.read(rooms.list_lockers)


@router.post("/lockers/{locker_id}/open", tags=["lockers"])
async def open_locker(locker_id: str, body: OpenLocker, c: ContainerDep,
                      actor: Annotated[Actor, allow(*GUARD)]) -> dict[str, Any]:
    from ...services.case_property import ensure_not_custody_locker

    ensure_not_custody_locker(c.ctx, locker_id)  # evidence lockers open only for a recorded handover
    return await lockers.open_on_request(c.db, c.lockers, actor, locker_id, body)


@router.get("/alarms", tags=["alarms"], response_model=list[dict[str, Any]])
async def list_alarms(request: Request, c: ContainerDep, actor: StaffActor,
                      state: Annotated[str | None, Query(pattern=r"^(open|raised|acknowledged|resolved)$")] = None,
                      stay_id: str | None = None) -> Response:
    """Read and encoded once per committed change (``api/listcache.py``): alarms hold stored data only."""
    cache: ListCache = request.app.state.list_cache
    return await cache.answer(("alarms", state, stay_id),
                              lambda: c.db.read(lambda s: alarms.list_alarms(s, state, stay_id)))


@router.post("/alarms/{alarm_id}/ack", tags=["alarms"])
async def ack_alarm(alarm_id: str, body: Empty, c: ContainerDep,
                    actor: Annotated[Actor, allow(*GUARD, "case_officer")]) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: alarms.acknowledge(uow, alarm_id))


@router.post("/alarms/{alarm_id}/resolve", tags=["alarms"])
async def resolve_alarm(alarm_id: str, body: ResolveAlarm, c: ContainerDep,
                        actor: Annotated[Actor, allow(*GUARD)]) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: alarms.resolve(uow, alarm_id, body.note))


@router.get("/audit/verify", tags=["audit"])
async def verify_audit(c: ContainerDep, actor: Annotated[Actor, allow("admin", "supervisor")]) -> dict[str, Any]:
    return await c.db.read(audit.verify)


class AdvanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(gt=0, le=7 * 24 * 3600)


@router.post("/dev/clock/advance", tags=["dev"])
async def advance_clock(body: AdvanceIn, c: ContainerDep, actor: Annotated[Actor, allow("admin")]) -> dict[str, Any]:
    fake = c.fake_clock
    if fake is None:
        raise RuleViolation("FAKE_CLOCK_DISABLED", "未启用测试时钟", "the test clock is not enabled", status=404)
    now = await fake.advance_async(body.seconds)
    return {"now": now.isoformat()}


@router.get("/dev/clock", tags=["dev"])
async def read_clock(c: ContainerDep, actor: StaffActor) -> dict[str, Any]:
    return {"now": c.clock.now().isoformat(), "fake": c.fake_clock is not None}


@router.post("/dev/bench/insert", tags=["dev"], include_in_schema=False)
async def bench_insert(c: ContainerDep, actor: Annotated[Actor, allow("admin")]) -> dict[str, Any]:
    """The bare one-row insert the core benchmark compares a state transition against (bench mode only)."""
    if not c.bench:
        raise RuleViolation("NOT_FOUND", "资源不存在", "not found", status=404)

    def write(uow):  # type: ignore[no-untyped-def]
        row = BenchRow(at=uow.now, note="bench")
        uow.session.add(row)
        uow.session.flush()
        return {"id": row.id}

    return await c.db.write(actor, write)


@router.get("/devices", tags=["devices"])
async def list_devices(c: ContainerDep, actor: StaffActor) -> list[dict[str, Any]]:
    """Availability, last seen and intake (events received, delivered, queued, shed) of every configured device."""
    bus = c.devices
    if bus is None:
        return [{"id": d.id, "kind": d.kind, "room_id": d.room_id, "availability": "unknown", "last_seen": None,
                 "detail": "devices not attached"} for d in c.site.devices]
    return bus.snapshot()


@router.get("/devices/{device_id}/last-read", tags=["devices"])
async def last_read(device_id: str, c: ContainerDep,
                    actor: Annotated[Actor, allow("custody_staff", "case_officer", "supervisor")]) -> dict[str, Any]:
    """The last card an ID reader read, or the last transits of a gate (for a kiosk that joined late)."""
    bus = c.devices
    if bus is None or not any(d.id == device_id for d in c.site.devices):
        raise RuleViolation("NOT_FOUND", "设备不存在", f"no device {device_id}", status=404)
    return {"card": bus.cards.get(device_id), "transits": list(bus.transits.get(device_id, []))}


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tag_id: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9-]+$")


@router.post("/staff/{staff_id}/tag", tags=["staff"])
async def set_staff_tag(staff_id: str, body: TagIn, c: ContainerDep,
                        actor: Annotated[Actor, allow("admin", "supervisor")]) -> dict[str, Any]:
    """Binds a staff member's own wristband/badge tag, so the presence rules know who is in the room."""
    from ...store.tables import Staff

    def write(uow):  # type: ignore[no-untyped-def]
        person = uow.session.get(Staff, staff_id)
        if person is None:
            raise RuleViolation("NOT_FOUND", "工作人员不存在", "staff not found", status=404)
        before = person.tag_id
        person.tag_id = body.tag_id
        uow.session.add(person)
        uow.record("staff_tag_set", entity="staff", entity_id=staff_id, before={"tag_id": before},
                   after={"tag_id": body.tag_id})
        return auth.staff_public(person) | {"tag_id": person.tag_id}

    return await c.db.write(actor, write)
