"""The legal measure of a stay: POST /stays/{id}/measure records a decision (detention, arrest, bail, release …)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ...clock import utc
from ...domain.actor import Actor
from ...domain.errors import invalid
from ...domain.rules import area_limit, initial_deadline
from ...services import lockers, measures, views
from ...services.measures import MeasureChange, TransferCmd
from ..deps import ContainerDep, allow

router = APIRouter(prefix="/api/v1", tags=["stays"])


@router.post("/stays/{stay_id}/measure", summary="Record a decision on the legal measure; the clock is re-derived")
async def change_measure(stay_id: str, body: MeasureChange, c: ContainerDep,
                         actor: Annotated[Actor, allow("case_officer", "supervisor")]) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: views.stay_view(uow.session, measures.change(uow, c.ctx, stay_id, body)))


@router.post("/stays/{stay_id}/transfer", summary="送押: transfer to the facility the measure sends the person to")
async def transfer(stay_id: str, body: TransferCmd, c: ContainerDep,
                   actor: Annotated[Actor, allow("custody_staff", "case_officer", "supervisor")]) -> dict[str, Any]:
    result = await c.db.write(actor, lambda uow: views.stay_view(uow.session, measures.transfer(uow, c.ctx, stay_id,
                                                                                                body)))
    # the compartment opens for the property that travels or is handed over (one failure contract: services/lockers)
    return await lockers.open_after_step(c.db, c.lockers, actor, result["property"]["locker_id"], result)


@router.get("/deadline-preview", summary="The legal deadline a registration would get, shown before submit")
async def deadline_preview(c: ContainerDep, actor: Annotated[Actor, allow("custody_staff", "case_officer", "supervisor")],
                           legal_basis: Annotated[str, Query(max_length=40)],
                           basis_started_at: Annotated[datetime | None, Query()] = None) -> dict[str, Any]:
    now = c.clock.now()
    rule = c.ctx.clocks.get(legal_basis)
    if rule is None:
        raise invalid("UNKNOWN_LEGAL_BASIS", "法律依据无效", f"unknown legal basis {legal_basis!r}", field="legal_basis")
    started = utc(basis_started_at) if basis_started_at and basis_started_at.tzinfo else now
    if started > now:
        raise invalid("INVALID_DATE", "起算时间不能晚于当前时间", "the legal clock cannot start in the future",
                      field="basis_started_at")
    cap = c.ctx.timing.secure_area_cap_hours
    deadline = initial_deadline(rule, started, now, cap)
    return {"legal_basis": legal_basis, "name": rule.name_zh, "basis_started_at": started.isoformat(),
            "deadline_at": deadline.isoformat(), "base_hours": rule.base_hours, "max_hours": rule.max_hours,
            "area_limit_at": area_limit(rule, now, cap).isoformat(), "source": rule.source,
            "already_passed": deadline <= now}
