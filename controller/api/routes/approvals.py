"""Approvals: ask, list the pending ones, and grant/refuse (by a signed-in supervisor, or by step-up at a kiosk)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from ...domain.errors import RuleViolation
from ...services import approvals
from ...services.approvals import ApprovalDecision, ApprovalRequest, ApprovalWithdraw
from ...store.db import Actor
from ..deps import STAFF, ContainerDep, allow, step_up

router = APIRouter(prefix="/api/v1", tags=["approvals"])
StaffActor = Annotated[Actor, allow(*STAFF)]
REQUESTERS = ("custody_staff", "case_officer", "supervisor")


@router.post("/approvals", status_code=201, summary="Ask a supervisor to allow a step (pending approval)")
async def request_approval(body: ApprovalRequest, c: ContainerDep,
                           actor: Annotated[Actor, allow(*REQUESTERS)]) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: approvals.view(approvals.request(uow, c.ctx, body), uow.now))


@router.get("/approvals", summary="Approvals, e.g. ?state=pending for the supervisor's list")
async def list_approvals(c: ContainerDep, actor: StaffActor,
                         state: Annotated[str | None, Query(pattern=r"^[a-z]+$")] = None,
                         stay_id: Annotated[str | None, Query(max_length=64)] = None,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    now = c.clock.now()
    return await c.db.read(lambda s: approvals.list_approvals(s, now, state, stay_id, limit))


@router.get("/approvals/{approval_id}", summary="One approval")
async def get_approval(approval_id: str, c: ContainerDep, actor: StaffActor) -> dict[str, Any]:
    now = c.clock.now()
    return await c.db.read(lambda s: approvals.view(approvals._load(s, approval_id), now))


async def _decider(request: Request, c: ContainerDep, actor: Actor,
                   body: ApprovalDecision) -> tuple[Actor, str, str | None]:
    """Who decides: the supervisor proven by step-up credentials in the body (at someone else's kiosk), or else
    the signed-in user, who must himself be a supervisor. Never someone the body merely names."""
    if body.step_up is not None:
        who, method = await step_up(request, c, body.step_up, role="supervisor")
        return who, method, actor.id
    if "supervisor" not in actor.roles:
        raise RuleViolation("NEEDS_SUPERVISOR", "须由值班领导/办案部门负责人本人批准（本人登录或在此刷卡/输入密码验证）",
                            "only a supervisor may decide: sign in, or verify here by step-up", status=403)
    return Actor(id=actor.id, role="supervisor", name=actor.name, sex=actor.sex, roles=actor.roles), "session", None


@router.post("/approvals/{approval_id}/grant", summary="Grant (a supervisor, in session or by step-up)")
async def grant(approval_id: str, body: ApprovalDecision, request: Request, c: ContainerDep,
                actor: StaffActor) -> dict[str, Any]:
    who, method, kiosk_user = await _decider(request, c, actor, body)
    return await c.db.write(who, lambda uow: approvals.view(
        approvals.grant(uow, c.ctx, approval_id, body, method, kiosk_user), uow.now))


@router.post("/approvals/{approval_id}/refuse", summary="Refuse (a supervisor, in session or by step-up)")
async def refuse(approval_id: str, body: ApprovalDecision, request: Request, c: ContainerDep,
                 actor: StaffActor) -> dict[str, Any]:
    who, method, kiosk_user = await _decider(request, c, actor, body)
    return await c.db.write(who, lambda uow: approvals.view(
        approvals.refuse(uow, c.ctx, approval_id, body, method, kiosk_user), uow.now))


@router.post("/approvals/{approval_id}/withdraw", summary="Withdraw a pending or unused approval")
async def withdraw(approval_id: str, body: ApprovalWithdraw, c: ContainerDep, actor: StaffActor) -> dict[str, Any]:
    return await c.db.write(actor, lambda uow: approvals.view(approvals.withdraw(uow, approval_id, body), uow.now))
