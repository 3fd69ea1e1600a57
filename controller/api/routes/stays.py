"""The ledger and every step of a stay: registration through exit (docs/API.md "Steps")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from ...domain.actor import Actor
from ...domain.errors import invalid
from ...services import exits, interviews, lockers, registration, rooms, steps, views
from ...services.cases import known_cases
from ...services.commands import (
    MAX_SEQ,
    CareIn,
    CollectionRecord,
    CompleteExit,
    Correction,
    Empty,
    EndActivity,
    Extension,
    InterviewNote,
    Placement,
    PropertyRecord,
    RegisterStay,
    SearchRecord,
    StartActivity,
    StartExit,
    StartInterview,
    StartLeave,
)
from ...services.common import load_stay
from ...services.placement_options import placement_options
from ...store.db import UnitOfWork
from ...store.tables import Stay
from ..deps import STAFF, ContainerDep, allow
from ..listcache import ListCache
from ..scope import access_of
from ..visibility import for_roles, reads_identity

router = APIRouter(prefix="/api/v1", tags=["stays"])
INTAKE = ("custody_staff", "case_officer", "supervisor")
OFFICERS = ("case_officer", "supervisor")
StaffActor = Annotated[Actor, allow(*STAFF)]
IntakeActor = Annotated[Actor, allow(*INTAKE)]
OfficerActor = Annotated[Actor, allow(*OFFICERS)]


async def _stay_write(c: ContainerDep, actor: Actor, fn: Callable[[UnitOfWork], Stay]) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: views.stay_view(uow.session, fn(uow), ctx=c.ctx))


@router.get("/stays", summary="The ledger (台账)", response_model=list[dict[str, Any]])
async def list_stays(request: Request, c: ContainerDep, actor: StaffActor,
                     state: Annotated[str | None, Query(pattern=r"^[a-z_]+$")] = None,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                     offset: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0) -> Response:
    """A case officer sees the stays of his cases and of his current duty; custody staff off duty (where the
    roster is required) none; an admin sees identity numbers masked. The centre-wide answer is read and encoded
    once per committed change (``api/listcache.py``)."""
    grant = await access_of(c, actor)  # his cases and his duty's stays; the centre for centre roles on duty
    cache: ListCache = request.app.state.list_cache

    async def read() -> Any:
        return for_roles(actor.roles, await c.db.read(lambda s: views.list_stays(s, state, limit, offset,
                                                                                   only=grant.only)))

    # only the centre-wide ledger is kept: a filtered one also depends on the duty's time window
    key = ("stays", state, limit, offset, reads_identity(actor.roles)) if grant.only is None else None
    return await cache.answer(key, read)


@router.get("/stays/{stay_id}", summary="One stay with timeline, deadline and location")
async def get_stay(stay_id: str, c: ContainerDep, actor: StaffActor) -> dict[str, Any]:
    view = await c.db.read(lambda s: views.stay_view(s, load_stay(s, stay_id), ctx=c.ctx))
    return for_roles(actor.roles, view)  # type: ignore[no-any-return]


@router.get("/cases", summary="Known cases for the registration form's case picker")
async def list_cases(c: ContainerDep, actor: IntakeActor,
                     q: Annotated[str, Query(max_length=64)] = "",
                     limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[dict[str, Any]]:
    return await c.db.read(lambda s: known_cases(s, q, limit))


@router.get("/stays/{stay_id}/placement-options", summary="Holding rooms with what a placement there would break")
async def get_placement_options(stay_id: str, c: ContainerDep, actor: IntakeActor) -> list[dict[str, Any]]:
    return await c.db.read(lambda s: placement_options(s, c.ctx, stay_id))


@router.post("/stays", status_code=201, summary="Registration (入区登记)")
async def register(body: RegisterStay, c: ContainerDep, actor: IntakeActor) -> dict[str, Any]:
    bus = c.devices
    card = None
    if body.identity_source == "id_card" and body.id_reader_id and bus is not None:
        card = bus.cards.get(body.id_reader_id)
    return await _stay_write(c, actor, lambda uow: registration.register(uow, c.ctx, body, card))


@router.post("/stays/{stay_id}/search", summary="Security check (人身安全检查)")
async def search(stay_id: str, body: SearchRecord, c: ContainerDep, actor: IntakeActor) -> dict[str, Any]:
    transit = None
    if body.gate_device_id is not None:
        bus = c.devices
        transit = bus.gate_transit(body.gate_device_id, body.gate_counter or 0) if bus is not None else None
        if transit is None:
            raise invalid("GATE_TRANSIT_UNKNOWN", "未找到该次安检门通过记录", "no such gate transit",
                          gate_device_id=body.gate_device_id, gate_counter=body.gate_counter)
    return await _stay_write(c, actor, lambda uow: steps.search(uow, c.ctx, stay_id, body, transit))


@router.post("/stays/{stay_id}/collection", summary="Information collection (信息采集)")
async def collection(stay_id: str, body: CollectionRecord, c: ContainerDep, actor: IntakeActor) -> dict[str, Any]:
    return await _stay_write(c, actor, lambda uow: steps.collection(uow, c.ctx, stay_id, body))


@router.post("/stays/{stay_id}/property", summary="Property into a locker (随身物品保管)")
async def store_property(stay_id: str, body: PropertyRecord, c: ContainerDep, actor: IntakeActor) -> dict[str, Any]:
    result = await _stay_write(c, actor, lambda uow: steps.store_property(uow, c.ctx, stay_id, body))
    return await lockers.open_after_step(c.db, c.lockers, actor, body.locker_id, result)


@router.post("/stays/{stay_id}/placement", summary="Waiting-room placement (候问安置)")
async def placement(stay_id: str, body: Placement, c: ContainerDep, actor: IntakeActor) -> dict[str, Any]:
    return await _stay_write(c, actor, lambda uow: steps.placement(uow, c.ctx, stay_id, body))


@router.post("/stays/{stay_id}/interviews", status_code=201, summary="Start an interview (needs the recorder)")
async def start_interview(stay_id: str, body: StartInterview, request: Request, c: ContainerDep,
                          actor: OfficerActor) -> dict[str, Any]:
    """A female staff member present proves herself by ``female_staff_step_up`` (routes/safeguards.py); the
    appropriate adult's presence is read from the wristband readers (``c.sightings``)."""
    from .safeguards import prove_female_staff

    stepped_up = await prove_female_staff(request, c, body.female_staff_step_up)
    return await interviews.start(c.db, c.ctx, c.recorder, actor, stay_id, body, c.sightings, stepped_up)


@router.post("/interviews/{interview_id}/{action}", summary="Pause, resume or end an interview")
async def interview_action(interview_id: str, action: Literal["pause", "resume", "end"], body: InterviewNote,
                           c: ContainerDep, actor: OfficerActor) -> dict[str, Any]:
    if action == "pause":
        return await c.db.write(actor, lambda uow: interviews.interview_view(
            interviews.pause(uow, interview_id, body.reason)))
    if action == "resume":
        return await interviews.resume(c.db, c.recorder, actor, interview_id, body)
    return await interviews.end(c.db, c.recorder, actor, interview_id, body)


@router.post("/stays/{stay_id}/activities", status_code=201, summary="Drug test, medical check, lawyer meeting …")
async def start_activity(stay_id: str, body: StartActivity, c: ContainerDep, actor: IntakeActor) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: interviews.start_activity(uow, c.ctx, stay_id, body))


@router.post("/activities/{activity_id}/end", summary="End an activity")
async def end_activity(activity_id: str, body: EndActivity, c: ContainerDep, actor: IntakeActor) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: interviews.end_activity(uow, activity_id, body))


@router.post("/stays/{stay_id}/leave", summary="Temporary leave (临时出区), supervisor-approved")
async def leave(stay_id: str, body: StartLeave, c: ContainerDep, actor: IntakeActor) -> dict[str, Any]:
    return await _stay_write(c, actor, lambda uow: exits.leave(uow, c.ctx, stay_id, body))


@router.post("/stays/{stay_id}/return", summary="Return from temporary leave (a new search follows)")
async def return_(stay_id: str, body: Empty, c: ContainerDep, actor: IntakeActor) -> dict[str, Any]:
    return await _stay_write(c, actor, lambda uow: exits.return_(uow, c.ctx, stay_id, body))


@router.post("/stays/{stay_id}/extension", summary="Extend the deadline within the basis's maximum")
async def extension(stay_id: str, body: Extension, c: ContainerDep, actor: OfficerActor) -> dict[str, Any]:
    return await _stay_write(c, actor, lambda uow: exits.extend(uow, c.ctx, stay_id, body))


@router.post("/stays/{stay_id}/exit", summary="Start the exit (出区) with its disposition")
async def start_exit(stay_id: str, body: StartExit, c: ContainerDep, actor: IntakeActor) -> dict[str, Any]:
    result = await _stay_write(c, actor, lambda uow: exits.start_exit(uow, c.ctx, stay_id, body))
    # the locker opens for the return of property
    return await lockers.open_after_step(c.db, c.lockers, actor, result["property"]["locker_id"], result)


@router.post("/stays/{stay_id}/exit/complete", summary="Exit search, every item's disposition, signature")
async def complete_exit(stay_id: str, body: CompleteExit, c: ContainerDep, actor: IntakeActor) -> dict[str, Any]:
    return await _stay_write(c, actor, lambda uow: exits.complete_exit(uow, c.ctx, stay_id, body))


@router.post("/stays/{stay_id}/care", status_code=201, summary="Meal, water, rest, medication given (rule 9)")
async def care(stay_id: str, body: CareIn, c: ContainerDep,
               actor: Annotated[Actor, allow("custody_staff", "supervisor")]) -> dict[str, Any]:
    from ...services import welfare

    return await c.db.write(actor, lambda uow: welfare.record_care(uow, c.ctx, stay_id, body))


@router.get("/stays/{stay_id}/welfare", summary="Meal and rest timers, welfare-check interval and its reasons")
async def welfare_status(stay_id: str, c: ContainerDep, actor: Annotated[Actor, allow(*STAFF)]) -> dict[str, Any]:
    from ...services import welfare

    now = c.clock.now()
    return await c.db.read(lambda s: welfare.status(s, c.ctx, stay_id, now))


@router.post("/stays/{stay_id}/corrections", status_code=201, summary="A correction entry (rule 10)")
async def correct(stay_id: str, body: Correction, c: ContainerDep,
                  actor: Annotated[Actor, allow("case_officer", "supervisor", "custody_staff")]) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: rooms.correct(uow, stay_id, body))
