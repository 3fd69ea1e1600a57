"""A staff member changes his own password; an admin resets someone's. Either ends every session of the account
(and so its live sockets): whoever held a session under the old password holds nothing now."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from ... import auth
from ...store.db import Actor
from ..deps import STAFF, ContainerDep, allow
from ..ws import live_sockets

router = APIRouter(prefix="/api/v1", tags=["auth"])


class ChangePasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class ResetPasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    new_password: str = Field(min_length=1, max_length=256)


@router.post("/auth/password", summary="Change my password (every session of mine ends; sign in again)")
async def change_password(body: ChangePasswordIn, request: Request, c: ContainerDep,
                          actor: Annotated[Actor, allow(*STAFF, "platform")]) -> dict[str, Any]:
    await c.db.write(actor, lambda uow: auth.change_password(uow, actor.id, body.current_password,
                                                             body.new_password))
    await live_sockets(request.app).sweep()
    return {"ok": True, "sessions_ended": True}


@router.post("/staff/{staff_id}/password", tags=["staff"],
             summary="Reset a staff member's password (admin; his sessions end)")
async def reset_password(staff_id: str, body: ResetPasswordIn, request: Request, c: ContainerDep,
                         actor: Annotated[Actor, allow("admin")]) -> dict[str, Any]:
    await c.db.write(actor, lambda uow: auth.reset_password(uow, staff_id, body.new_password))
    await live_sockets(request.app).sweep()
    return {"ok": True, "sessions_ended": True}
