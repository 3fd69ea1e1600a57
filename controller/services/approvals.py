"""Approvals as their own record: a step that needs a supervisor names a granted approval, never a person.

The model (README "Approvals"):

1. Someone asks: ``request(uow, ctx, ApprovalRequest)`` -> a *pending* approval naming the stay, the kind of
   step, what exactly is asked (``room_id`` / ``until`` + ``ground`` / ``leave_reason`` / ``details``) and why.
2. A supervisor decides, authenticated either by his own session (dashboard) or by step-up at a kiosk
   (``controller.auth.verify_step_up`` via ``controller.api.deps.step_up``): ``grant(uow, id, ApprovalDecision,
   method)`` / ``refuse(...)``; ``uow.actor`` IS the supervisor who proved himself (the route makes it so), and
   ``method`` says how (``session`` | ``card_pin`` | ``password``). A non-supervisor is refused
   (``NEEDS_SUPERVISOR``). Anyone who asked, or a supervisor, may ``withdraw`` a pending or unused approval.
3. The step completes with the approval's id: ``consume(uow, approval_id, kind, stay_id, action, expect=...)``
   checks it (raising a ``RuleViolation``, writing nothing) and marks it used, in the step's transaction; the step
   puts ``audit_ref(approval)`` in its own audit entry (approval id, who granted it, how he authenticated).
   ``check(session, now, ...)`` is the same check without marking it used.

Expiry (site setting ``timing.approval_expiry_minutes``): a pending approval not decided within that time, and
a granted one not used within that time of its grant, is expired. Expiry is derived from ``expires_at`` when read,
so nothing needs to run for an approval to expire.

Refusal codes of ``check``/``consume`` (all 409, stable): ``APPROVAL_REQUIRED`` (no approval id, or no such
approval), ``APPROVAL_NOT_GRANTED`` (still pending, or withdrawn), ``APPROVAL_REFUSED``, ``APPROVAL_EXPIRED``,
``APPROVAL_USED`` (one approval, one step), ``APPROVAL_MISMATCH`` (another kind, another stay, or other terms than
the step's). Deciding: ``APPROVAL_NOT_PENDING`` (already decided), ``APPROVAL_EXPIRED``, ``NEEDS_SUPERVISOR`` (403).

Kinds: ``KINDS`` maps each kind to the request fields it must name; a feature that needs a new kind adds a row.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from ..auth import StepUpIn
from ..clock import utc
from ..domain import rules
from ..domain.errors import NotFound, RuleViolation, invalid
from ..domain.stay import StayState
from ..store.db import UnitOfWork
from ..store.tables import Approval, Staff, Stay
from .commands import AwareDatetime, Id
from .common import load_stay
from .context import SiteContext

# kind -> the request fields it must name (what exactly the supervisor is asked to allow)
KINDS: dict[str, tuple[str, ...]] = {
    "placement_override": ("room_id",),  # a placement that breaks a separation rule (rule 5)
    "extension": ("until",),  # a longer legal deadline within the basis's maximum (rule 1)
    "temporary_leave": ("leave_reason",),  # temporary leave from the area (rule 7)
    "measure_change": ("measure",),  # a decision on the legal measure (detention, arrest, bail …)
    "repeated_summons": (),  # a new summons soon after the last one ended; stay_id is that ended stay
    "placement_without_medical_check": (),  # an injured or ill subject placed before a doctor has seen him
    "item_return": ("item_id",),  # a dangerous or case-related item given back at exit (rules.item_needs_approval)
    "no_notification": (),  # not notifying where the law allows it (CPL art. 85; services/notifications.py)
}
KIND_ZH = {"placement_override": "候问安置例外", "extension": "延长时限", "temporary_leave": "临时出区",
           "measure_change": "变更强制措施", "repeated_summons": "再次传唤",
           "placement_without_medical_check": "未经医生检查先行安置", "item_return": "危险/涉案物品发还",
           "no_notification": "不通知家属"}
STATES = ("pending", "granted", "refused", "withdrawn", "used", "expired")
METHODS = ("session", "card_pin", "password")


class _Cmd(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApprovalRequest(_Cmd):
    """``POST /api/v1/approvals``: what is asked and why."""

    kind: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")]
    stay_id: Id
    reason: Annotated[str, Field(min_length=2, max_length=500)]
    room_id: Id | None = None
    until: AwareDatetime | None = None
    ground: Annotated[str, Field(max_length=64)] | None = None
    leave_reason: Literal["scene_identification", "recover_goods", "hospital", "other"] | None = None
    measure: Annotated[str, Field(max_length=40, pattern=r"^[a-z_]+$")] | None = None
    item_id: Id | None = None
    details: Annotated[dict[str, str | int | float | bool | None], Field(max_length=20)] = {}


class ApprovalDecision(_Cmd):
    """``POST /api/v1/approvals/{id}/grant|refuse``. ``step_up`` carries the supervisor's own credentials when he
    decides at someone else's kiosk; without it the signed-in user must be the supervisor."""

    note: Annotated[str, Field(max_length=500)] | None = None
    step_up: StepUpIn | None = None
    level: Annotated[str, Field(max_length=40)] | None = None  # the approving level, where the law names one
    document_no: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class ApprovalWithdraw(_Cmd):
    note: Annotated[str, Field(max_length=500)] | None = None


def _norm(value: Any) -> Any:
    """The comparable, JSON-storable form of a request term (times in UTC ISO form)."""
    return utc(value).isoformat() if isinstance(value, datetime) else value


def effective_state(a: Approval, now: datetime) -> str:
    if a.state in ("pending", "granted") and utc(a.expires_at) <= now:
        return "expired"
    return a.state


def _load(session: Session, approval_id: str) -> Approval:
    a = session.get(Approval, approval_id)
    if a is None:
        raise NotFound("approval", approval_id, "审批")
    return a


def _validity(ctx: SiteContext) -> timedelta:
    return timedelta(minutes=ctx.timing.approval_expiry_minutes)


def request(uow: UnitOfWork, ctx: SiteContext, cmd: ApprovalRequest) -> Approval:
    """A pending approval for one step of one open stay."""
    if cmd.kind not in KINDS:
        raise invalid("APPROVAL_KIND_UNKNOWN", "审批事项无效", f"unknown approval kind {cmd.kind!r}",
                      kinds=sorted(KINDS))
    stay = load_stay(uow.session, cmd.stay_id)
    if cmd.kind == "repeated_summons":  # asked about the summons that ended, before the new one is registered
        if stay.state != StayState.EXITED.value:
            raise RuleViolation("STAY_NOT_CLOSED", "上次传唤尚未结束", "the previous stay has not ended")
    elif stay.state == StayState.EXITED.value:
        raise RuleViolation("STAY_CLOSED", "该人员已出区，记录不可更改", "the stay is closed")
    terms = {k: _norm(getattr(cmd, k))
             for k in ("room_id", "until", "ground", "leave_reason", "measure", "item_id")
             if getattr(cmd, k) is not None}
    missing = [k for k in KINDS[cmd.kind] if k not in terms]
    if missing:
        raise invalid("APPROVAL_TERMS_REQUIRED", "请填写审批事项的具体内容", f"this approval must name {missing}",
                      fields=missing)
    if cmd.kind == "placement_override":
        _refuse_absolute(uow.session, ctx, stay, terms["room_id"])
    if cmd.details:
        terms["details"] = dict(cmd.details)
    a = Approval(id=f"apr-{uuid.uuid4().hex[:12]}", kind=cmd.kind, stay_id=stay.id, state="pending",
                 reason=cmd.reason, request=terms, requested_by=uow.actor.id, requested_at=uow.now,
                 expires_at=uow.now + _validity(ctx))
    uow.session.add(a)
    uow.record("approval_requested", entity="approval", entity_id=a.id, stay_id=stay.id,
               after={"approval_id": a.id, "kind": a.kind, "request": terms, "reason": a.reason,
                      "requested_by": a.requested_by, "expires_at": a.expires_at})
    return a


def _refuse_absolute(session: Session, ctx: SiteContext, stay: Stay, room_id: str) -> None:
    """Where the law gives no exception (rules.ABSOLUTE_PLACEMENT: men and women apart, minors apart from adults,
    witnesses never in a holding room or with a suspect of their case, nobody placed in a room that holds no one),
    none can be asked for: the request is refused, so no supervisor is asked to grant what the placement would
    refuse anyway. The placement's own rules decide (an unknown room is a 404)."""
    from .steps import _occupant, room_view  # steps -> approvals

    hard = rules.absolute(rules.placement_violations(_occupant(stay), room_view(session, ctx, room_id)))
    if hard:
        raise RuleViolation("APPROVAL_NOT_APPLICABLE", "法律对此安置不设例外，不能申请审批",
                            "the law allows no exception to this placement rule; no approval can be asked for",
                            room_id=room_id, absolute=hard)


def _decidable(uow: UnitOfWork, approval_id: str, method: str) -> Approval:
    if method not in METHODS:
        raise ValueError(f"unknown authentication method {method}")
    if "supervisor" not in uow.actor.roles:
        # 《公安机关办理刑事案件程序规定》等：此类事项须经办案部门负责人/值班领导批准；批准人须本人验证身份
        raise RuleViolation("NEEDS_SUPERVISOR", "须由值班领导/办案部门负责人本人批准", "only a supervisor may decide an approval",
                            status=403)
    a = _load(uow.session, approval_id)
    state = effective_state(a, uow.now)
    if state == "expired":
        raise RuleViolation("APPROVAL_EXPIRED", "该审批已过期，请重新申请", "the approval has expired; ask again",
                            approval_id=a.id, expires_at=utc(a.expires_at).isoformat())
    if state != "pending":
        raise RuleViolation("APPROVAL_NOT_PENDING", "该审批已处理", "the approval has already been decided",
                            approval_id=a.id, state=state)
    return a


def _decide(uow: UnitOfWork, ctx: SiteContext, a: Approval, state: str, cmd: ApprovalDecision, method: str,
            kiosk_user: str | None) -> Approval:
    a.state, a.decided_by, a.decided_at, a.decided_method = state, uow.actor.id, uow.now, method
    a.decision_note, a.level, a.document_no = cmd.note, cmd.level, cmd.document_no
    if state == "granted":  # a granted approval is good for one validity window from its grant
        a.expires_at = uow.now + _validity(ctx)
    uow.session.add(a)
    uow.record(f"approval_{state}", entity="approval", entity_id=a.id, stay_id=a.stay_id,
               before={"state": "pending"},
               after={"approval_id": a.id, "kind": a.kind, "state": state, "decided_by": uow.actor.id,
                      "decided_by_name": uow.actor.name, "method": method, "at_session_of": kiosk_user,
                      "note": cmd.note, "level": cmd.level, "document_no": cmd.document_no,
                      "expires_at": a.expires_at})
    return a


def grant(uow: UnitOfWork, ctx: SiteContext, approval_id: str, cmd: ApprovalDecision, method: str,
          kiosk_user: str | None = None) -> Approval:
    """The supervisor (``uow.actor``, proven by ``method``) grants; ``kiosk_user`` is whose kiosk session it was
    at, for a step-up. A grant that says the law's approving level must name one the site config lists
    (``[approvals] levels``), and records who holds it."""
    a = _decidable(uow, approval_id, method)
    if cmd.level is not None:
        holder = ctx.config.approvals.levels.get(cmd.level)
        if holder is None:
            raise invalid("APPROVAL_LEVEL_UNKNOWN", "审批层级未在站点配置中列出", f"unknown approving level {cmd.level!r}",
                          field="level", levels=sorted(ctx.config.approvals.levels))
        if not cmd.document_no:
            raise invalid("DOCUMENT_NO_REQUIRED", "上级批准须填写批准文书编号", "a higher level's approval needs its "
                          "document number", field="document_no")
        a.request = {**(a.request or {}), "level_holder": holder}
    return _decide(uow, ctx, a, "granted", cmd, method, kiosk_user)


def refuse(uow: UnitOfWork, ctx: SiteContext, approval_id: str, cmd: ApprovalDecision, method: str,
           kiosk_user: str | None = None) -> Approval:
    a = _decidable(uow, approval_id, method)
    if not cmd.note:
        raise invalid("REASON_REQUIRED", "不批准须说明理由", "a refusal needs a note", field="note")
    return _decide(uow, ctx, a, "refused", cmd, method, kiosk_user)


def withdraw(uow: UnitOfWork, approval_id: str, cmd: ApprovalWithdraw) -> Approval:
    a = _load(uow.session, approval_id)
    if a.requested_by != uow.actor.id and "supervisor" not in uow.actor.roles:
        raise RuleViolation("FORBIDDEN_ROLE", "只有申请人或值班领导可以撤回", "only who asked, or a supervisor, may withdraw",
                            status=403)
    state = effective_state(a, uow.now)
    if state not in ("pending", "granted"):
        raise RuleViolation("APPROVAL_NOT_PENDING", "该审批已不能撤回", "the approval can no longer be withdrawn",
                            approval_id=a.id, state=state)
    before = a.state
    a.state = "withdrawn"
    uow.session.add(a)
    uow.record("approval_withdrawn", entity="approval", entity_id=a.id, stay_id=a.stay_id, before={"state": before},
               after={"approval_id": a.id, "kind": a.kind, "state": "withdrawn", "note": cmd.note})
    return a


def check(session: Session, now: datetime, approval_id: str | None, kind: str, stay_id: str,
          expect: dict[str, Any] | None = None) -> Approval:
    """The approval a step names must exist, be granted, unexpired, unused, of this kind, for this stay, and for
    the same terms (``expect``: each term the approval names must equal the step's). Raises; writes nothing."""
    kind_zh = KIND_ZH.get(kind, "该操作")
    if approval_id is None:
        raise RuleViolation("APPROVAL_REQUIRED", f"“{kind_zh}”须经值班领导批准：请先申请审批", f"{kind} needs a granted approval",
                            kind=kind)
    a = session.get(Approval, approval_id)
    if a is None:
        raise RuleViolation("APPROVAL_REQUIRED", f"“{kind_zh}”须经值班领导批准：未找到该审批", f"no such approval: {approval_id}",
                            kind=kind, approval_id=approval_id)
    if a.kind != kind or a.stay_id != stay_id:
        raise RuleViolation("APPROVAL_MISMATCH", "该审批不是针对此人员的此事项", "the approval is for another step or stay",
                            approval_id=a.id, approval_kind=a.kind, kind=kind)
    state = effective_state(a, now)
    if state == "refused":
        raise RuleViolation("APPROVAL_REFUSED", "该审批未获批准", "the approval was refused", approval_id=a.id)
    if state == "expired":
        raise RuleViolation("APPROVAL_EXPIRED", "该审批已过期，请重新申请", "the approval has expired; ask again",
                            approval_id=a.id, expires_at=utc(a.expires_at).isoformat())
    if state == "used":
        raise RuleViolation("APPROVAL_USED", "该审批已使用", "the approval has already been used", approval_id=a.id)
    if state != "granted":
        raise RuleViolation("APPROVAL_NOT_GRANTED", "该审批尚未批准", "the approval is not granted", approval_id=a.id,
                            state=state)
    terms = a.request or {}
    differ = sorted(k for k, v in (expect or {}).items() if k in terms and terms[k] != _norm(v))
    if differ:
        raise RuleViolation("APPROVAL_MISMATCH", "操作内容与批准的内容不一致", "the step differs from what was approved",
                            approval_id=a.id, fields=differ, approved={k: terms[k] for k in differ})
    return a


def consume(uow: UnitOfWork, approval_id: str | None, kind: str, stay_id: str, action: str,
            expect: dict[str, Any] | None = None) -> Approval:
    """``check`` and mark the approval used by ``action``, in the step's own transaction."""
    a = check(uow.session, uow.now, approval_id, kind, stay_id, expect)
    a.state, a.used_at, a.used_by_action = "used", uow.now, action
    uow.session.add(a)
    return a


def audit_ref(a: Approval, session: Session | None = None) -> dict[str, Any]:
    """What a step's audit entry says about its approval: which one, who granted it and how he authenticated."""
    name = None
    if session is not None and a.decided_by:
        person = session.get(Staff, a.decided_by)
        name = person.name if person else None
    return {"approval_id": a.id, "granted_by": a.decided_by, "granted_by_name": name, "method": a.decided_method,
            "granted_at": a.decided_at and utc(a.decided_at).isoformat(), "requested_by": a.requested_by,
            "reason": a.reason, "level": a.level, "level_holder": (a.request or {}).get("level_holder"),
            "document_no": a.document_no}


def view(a: Approval, now: datetime) -> dict[str, Any]:
    return {"id": a.id, "kind": a.kind, "stay_id": a.stay_id, "state": effective_state(a, now), "reason": a.reason,
            "request": a.request, "requested_by": a.requested_by, "requested_at": utc(a.requested_at).isoformat(),
            "expires_at": utc(a.expires_at).isoformat(), "decided_by": a.decided_by,
            "decided_at": a.decided_at and utc(a.decided_at).isoformat(), "method": a.decided_method,
            "note": a.decision_note, "level": a.level, "document_no": a.document_no,
            "used_at": a.used_at and utc(a.used_at).isoformat(), "used_by_action": a.used_by_action}


def list_approvals(session: Session, now: datetime, state: str | None = None, stay_id: str | None = None,
                   limit: int = 200) -> list[dict[str, Any]]:
    q = select(Approval)
    if stay_id is not None:
        q = q.where(Approval.stay_id == stay_id)
    if state in ("pending", "granted", "expired"):  # expiry is derived: filter after reading
        q = q.where(col(Approval.state).in_(["pending", "granted"]) if state == "expired" else Approval.state == state)
    elif state is not None:
        q = q.where(Approval.state == state)
    rows = session.exec(q.order_by(col(Approval.requested_at).desc()).limit(limit * 2)).all()
    out = [view(a, now) for a in rows]
    return [v for v in out if state is None or v["state"] == state][:limit]
