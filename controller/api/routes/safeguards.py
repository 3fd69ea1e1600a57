"""A vulnerable subject's safeguards before an interview (services/interview_safeguards.py): the minor's
appropriate adult recorded on the stay with the visitor tag issued, their leaving, and what the interview
terminal shows before the start (each requirement, met or not)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlmodel import select

from ...auth import StepUpIn, card_hash
from ...services import interview_safeguards as svc
from ...store.db import Actor
from ...store.tables import Staff
from ..deps import STAFF, ContainerDep, allow, step_up

router = APIRouter(prefix="/api/v1", tags=["safeguards"])
RECORDERS = ("custody_staff", "case_officer", "supervisor")
Recorder = Annotated[Actor, allow(*RECORDERS)]
StaffActor = Annotated[Actor, allow(*STAFF)]
STAFF_ROLES = ("case_officer", "custody_staff", "supervisor")


async def prove_female_staff(request: Request, c: ContainerDep, cred: StepUpIn | None) -> str | None:
    """The staff member who proved herself with her own credentials (her sex is read from her record later);
    None when no step-up was given. A wrong PIN or password is refused like any step-up."""
    if cred is None:
        return None

    def roles(s: Any) -> list[str]:
        q = (select(Staff).where(Staff.card_id_hash == card_hash(cred.card_id)) if cred.card_id is not None
             else select(Staff).where(Staff.police_no == (cred.police_no or "")))
        person = s.exec(q).first()
        return list(person.roles) if person is not None else []

    held = await c.db.read(roles)
    proven, _method = await step_up(request, c, cred, role=next((r for r in STAFF_ROLES if r in held),
                                                                "case_officer"))
    return proven.id


@router.post("/stays/{stay_id}/appropriate-adult", status_code=201,
             summary="Record a minor's appropriate adult and the visitor tag issued to them")
async def record_adult(stay_id: str, body: svc.AdultIn, c: ContainerDep, actor: Recorder) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: svc.record_adult(uow, c.ctx, stay_id, body))


@router.get("/stays/{stay_id}/appropriate-adult", summary="The stay's appropriate adults (identity number masked)")
async def list_adults(stay_id: str, c: ContainerDep, actor: StaffActor) -> list[dict[str, Any]]:
    return await c.db.read(lambda s: svc.list_adults(s, stay_id))


@router.post("/appropriate-adults/{adult_id}/leave", summary="The appropriate adult left (visitor tag returned)")
async def adult_left(adult_id: str, c: ContainerDep, actor: Recorder) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: svc.adult_left(uow, adult_id))


@router.get("/stays/{stay_id}/interview-requirements",
            summary="Each safeguard an interview of this stay needs in this room, met or not now")
async def interview_requirements(stay_id: str, c: ContainerDep, actor: StaffActor,
                                 room_id: Annotated[str, Query(min_length=1, max_length=64)]) -> dict[str, Any]:
    now = c.clock.now()
    return await c.db.read(lambda s: svc.requirements(s, c.ctx, c.sightings, stay_id, room_id, now, actor.id))
