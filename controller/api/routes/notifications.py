"""Notifications of the measure on a stay (family / employer / guardian / consul): record one, list them with
each legal deadline (services/notifications.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from ...services import notifications
from ...services.notifications import NotificationIn
from ...store.db import Actor
from ..deps import STAFF, ContainerDep, allow

router = APIRouter(prefix="/api/v1", tags=["notifications"])
StaffActor = Annotated[Actor, allow(*STAFF)]
RECORDERS = ("custody_staff", "case_officer", "supervisor")


@router.post("/stays/{stay_id}/notifications", status_code=201,
             summary="Record who was told of the measure (or why not, with an approval)")
async def record_notification(stay_id: str, body: NotificationIn, c: ContainerDep,
                              actor: Annotated[Actor, allow(*RECORDERS)]) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: notifications.record(uow, c.ctx, stay_id, body))


@router.get("/stays/{stay_id}/notifications", summary="The stay's notifications and each legal deadline")
async def list_notifications(stay_id: str, c: ContainerDep, actor: StaffActor) -> dict[str, Any]:
    return await c.db.read(lambda s: notifications.listing(s, c.ctx, stay_id))
