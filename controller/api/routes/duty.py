"""The duty roster (值班表): supervisors (or admins) put staff on duty for a shift and on stays or cases; staff
read their own duties. What a duty grants is applied by ``api/scope.py`` (services/duty.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ...domain.actor import Actor
from ...services import duty
from ..deps import STAFF, ContainerDep, allow

router = APIRouter(prefix="/api/v1", tags=["duty"])
ROSTER = ("supervisor", "admin")


@router.post("/duties", status_code=201, summary="Put a staff member on duty for a shift (and on stays or cases)")
async def assign(body: duty.DutyIn, c: ContainerDep, actor: Annotated[Actor, allow(*ROSTER)]) -> dict[str, Any]:
    now = c.clock.now()
    return await c.db.write(actor, lambda uow: duty.duty_view(duty.assign(uow, body), now))


@router.post("/duties/{duty_id}/end", summary="End a duty now (a shift cut short, an assignment withdrawn)")
async def end(duty_id: str, c: ContainerDep, actor: Annotated[Actor, allow(*ROSTER)]) -> dict[str, Any]:
    now = c.clock.now()
    return await c.db.write(actor, lambda uow: duty.duty_view(duty.end(uow, duty_id), now))


@router.get("/duties", summary="The roster: duties not yet over (current=true: running now)")
async def roster(c: ContainerDep, actor: Annotated[Actor, allow(*ROSTER)],
                 staff_id: Annotated[str | None, Query(max_length=64)] = None,
                 current: bool = False,
                 limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[dict[str, Any]]:
    now = c.clock.now()
    return await c.db.read(lambda s: duty.listing(s, now, staff_id=staff_id, current=current, limit=limit))


@router.get("/duties/mine", summary="My duties not yet over")
async def mine(c: ContainerDep, actor: Annotated[Actor, allow(*STAFF)]) -> list[dict[str, Any]]:
    now = c.clock.now()
    return await c.db.read(lambda s: duty.listing(s, now, staff_id=actor.id))
