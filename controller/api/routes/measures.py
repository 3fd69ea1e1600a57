"""The legal measure of a stay: POST /stays/{id}/measure records a decision (detention, arrest, bail, release …)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from ...services import measures, views
from ...services.measures import MeasureChange
from ...store.db import Actor
from ..deps import ContainerDep, allow

router = APIRouter(prefix="/api/v1", tags=["stays"])


@router.post("/stays/{stay_id}/measure", summary="Record a decision on the legal measure; the clock is re-derived")
async def change_measure(stay_id: str, body: MeasureChange, c: ContainerDep,
                         actor: Annotated[Actor, allow("case_officer", "supervisor")]) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: views.stay_view(uow.session, measures.change(uow, c.ctx, stay_id, body)))
