"""Health records of a stay: entry health check, medical check, five-item exam, drug tests (second collector by
step-up) and breathalyser readings taken from the device."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from ...domain.errors import RuleViolation
from ...services import health as svc
from ...store.db import Actor
from ..deps import ContainerDep, allow, step_up

router = APIRouter(prefix="/api/v1/stays/{stay_id}", tags=["health"])
STAFF_ROLES = ("custody_staff", "case_officer", "supervisor")
Recorder = Annotated[Actor, allow(*STAFF_ROLES)]


class AlcoholReadingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device_id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")


@router.get("/health", summary="Every health record of the stay")
async def list_health(stay_id: str, c: ContainerDep, actor: Recorder) -> list[dict[str, Any]]:
    return await c.db.read(lambda s: svc.list_records(s, stay_id))


@router.post("/health/entry-check", status_code=201, summary="Entry health check (入区健康检查): sets risk flags")
async def entry_check(stay_id: str, body: svc.EntryCheckIn, c: ContainerDep, actor: Recorder) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: svc.entry_check(uow, stay_id, body))


@router.post("/health/medical-check", status_code=201, summary="A doctor's medical check")
async def medical_check(stay_id: str, body: svc.MedicalCheckIn, c: ContainerDep, actor: Recorder) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: svc.medical_check(uow, stay_id, body))


@router.post("/health/five-item-exam", status_code=201, summary="Five-item exam (五项体检) before a detention centre")
async def five_item_exam(stay_id: str, body: svc.FiveItemExamIn, c: ContainerDep,
                         actor: Recorder) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: svc.five_item_exam(uow, stay_id, body))


@router.post("/drug-tests", status_code=201, summary="Drug test (吸毒检测): two collectors, A/B samples, results")
async def drug_test(stay_id: str, body: svc.DrugTestIn, request: Request, c: ContainerDep,
                    actor: Recorder) -> dict[str, Any]:
    """The signed-in user is one collector; a second proves himself by ``step_up``. A collector named but not
    proven does not count (SAMPLER_NOT_AUTHENTICATED)."""
    if actor.id not in body.collector_ids:
        raise RuleViolation("SAMPLER_NOT_PARTY", "须由采集人员本人在终端登录记录", "the signed-in user must be a collector",
                            field="collector_ids")
    auth = {actor.id: "session"}
    others = [sid for sid in body.collector_ids if sid != actor.id]
    if others and body.step_up is not None:
        proven, method = await step_up(request, c, body.step_up, role=_role_of(await _roles(c, others[0])))
        if proven.id != others[0]:
            raise RuleViolation("STEP_UP_NOT_PARTY", "验证身份的人员不是所填的采集人员",
                                "the person who proved himself is not the named collector")
        auth[proven.id] = method
    return await c.db.write(actor, lambda uow: svc.drug_test(uow, stay_id, body, auth))


@router.post("/alcohol-readings", status_code=201, summary="Store the breathalyser's last reading on the stay")
async def alcohol_reading(stay_id: str, body: AlcoholReadingIn, c: ContainerDep, actor: Recorder) -> dict[str, Any]:
    if not any(d.id == body.device_id and d.kind == "breathalyser" for d in c.site.devices):
        raise RuleViolation("NOT_FOUND", "酒精测试仪不存在", f"no breathalyser {body.device_id}", status=404)
    reading = c.devices.breaths.get(body.device_id) if c.devices is not None else None
    return await c.db.write(actor, lambda uow: svc.alcohol_reading(uow, stay_id, body.device_id, reading))


async def _roles(c: ContainerDep, staff_id: str) -> list[str]:
    from ...store.tables import Staff

    person = await c.db.read(lambda s: s.get(Staff, staff_id))
    return list(person.roles) if person is not None else []


def _role_of(roles: list[str]) -> str:
    return next((r for r in STAFF_ROLES if r in roles), "custody_staff")
