"""Notifying family, employer, guardian or consul of the measure: records on the stay, each measure's legal
deadline, and the ``notification_due`` alarm when it is late.

Deadlines (``due``):
- criminal detention: within 24 h of the detention (《刑事诉讼法》第85条);
- 继续盘问 (continued questioning): at once (《人民警察法》第9条 / 《公安机关适用继续盘问规定》: 立即通知其家属或者单位);
- administrative / verbal summons: promptly (《治安管理处罚法》第83条: 及时将传唤的原因和处所通知被传唤人家属);
- a minor: the guardian at once (《刑事诉讼法》第281条, 《未成年人保护法》第110条).
"At once / promptly" is the site setting ``timing.notify_promptly_hours`` (default 2 h).

A notification not made is recorded with its reason; where it is because the law allows not notifying (CPL art.
85: 有碍侦查 in state-security or terrorism cases; 无法通知), the reason needs a granted ``no_notification`` approval.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from ..clock import utc
from ..domain.errors import RuleViolation, invalid
from ..domain.stay import StayState
from ..store.db import UnitOfWork
from ..store.tables import Notification, Stay
from . import alarms, approvals
from .commands import AwareDatetime, Id
from .common import OPEN, load_stay, stays_in_states
from .context import SiteContext

GUARDIAN_RELATIONS = ("parent", "guardian")
PROMPT_BASES = ("continued_questioning", "admin_summons", "verbal_summons")


class NotificationIn(BaseModel):
    """``POST /api/v1/stays/{id}/notifications``: who was told and how; or why not (with an approval)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    party: Literal["family", "employer", "guardian", "consular"]
    name: Annotated[str, Field(max_length=60)] | None = None
    relation: Annotated[str, Field(max_length=40)] | None = None
    method: Literal["phone", "sms", "in_person", "letter", "other"] | None = None
    contact: Annotated[str, Field(max_length=60)] | None = None
    told_at: AwareDatetime | None = None
    not_notified_reason: Annotated[str, Field(min_length=2, max_length=500)] | None = None
    approval_id: Id | None = None


def due(stay: Stay, ctx: SiteContext) -> list[dict[str, Any]]:
    """Each notification the law requires for this stay and its deadline."""
    prompt = timedelta(hours=ctx.timing.notify_promptly_hours)
    start = utc(stay.basis_started_at)
    out: list[dict[str, Any]] = []
    if stay.legal_basis == "criminal_detention":
        out.append({"purpose": "family", "due_at": start + timedelta(hours=24), "source": "《刑事诉讼法》第85条"})
    elif stay.legal_basis in PROMPT_BASES:
        out.append({"purpose": "family", "due_at": start + prompt,
                    "source": "《人民警察法》第9条" if stay.legal_basis == "continued_questioning"
                    else "《治安管理处罚法》第83条"})
    if stay.is_minor:
        out.append({"purpose": "guardian", "due_at": utc(stay.entered_at) + prompt, "source": "《刑事诉讼法》第281条"})
    return out


def _meets(n: Notification, purpose: str) -> bool:
    if purpose == "guardian":
        return n.party == "guardian" or (n.relation or "") in GUARDIAN_RELATIONS
    return True


def status(session: Session, stay: Stay, ctx: SiteContext) -> list[dict[str, Any]]:
    rows = session.exec(select(Notification).where(Notification.stay_id == stay.id)).all()
    return [{"purpose": d["purpose"], "due_at": d["due_at"].isoformat(), "source": d["source"],
             "done": any(_meets(n, d["purpose"]) for n in rows)} for d in due(stay, ctx)]


def view(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "stay_id": n.stay_id, "party": n.party, "name": n.name, "relation": n.relation,
            "method": n.method, "contact": n.contact, "told_at": n.told_at and utc(n.told_at).isoformat(),
            "not_notified_reason": n.not_notified_reason, "approval_id": n.approval_id,
            "recorded_by": n.recorded_by, "recorded_at": utc(n.recorded_at).isoformat()}


def listing(session: Session, ctx: SiteContext, stay_id: str) -> dict[str, Any]:
    stay = load_stay(session, stay_id)
    rows = session.exec(select(Notification).where(Notification.stay_id == stay.id)
                        .order_by(col(Notification.recorded_at))).all()
    return {"notifications": [view(n) for n in rows], "due": status(session, stay, ctx)}


def record(uow: UnitOfWork, ctx: SiteContext, stay_id: str, cmd: NotificationIn) -> dict[str, Any]:
    s = uow.session
    stay = load_stay(s, stay_id)
    if stay.state == StayState.EXITED.value:
        raise RuleViolation("STAY_CLOSED", "该人员已出区，记录不可更改", "the stay is closed")
    ref = None
    if cmd.not_notified_reason is None:
        missing = [k for k in ("name", "relation", "method") if not getattr(cmd, k)]
        if missing:
            raise invalid("NOTIFICATION_INCOMPLETE", "请填写被通知人姓名、关系和通知方式",
                          "a notification needs who was told, their relation and how", fields=missing)
        if cmd.told_at is not None and cmd.told_at > uow.now:
            raise invalid("NOTIFICATION_IN_FUTURE", "通知时间不能晚于当前时间", "told_at is in the future",
                          field="told_at")
    else:
        # 《刑事诉讼法》第85条: not notifying only where the law allows it, decided by a supervisor
        approval = approvals.consume(uow, cmd.approval_id, "no_notification", stay.id, "notification_recorded")
        ref = approvals.audit_ref(approval, s)
    n = Notification(id=f"ntf-{uuid.uuid4().hex[:12]}", stay_id=stay.id, party=cmd.party, name=cmd.name,
                     relation=cmd.relation, method=cmd.method, contact=cmd.contact,
                     told_at=(cmd.told_at or uow.now) if cmd.not_notified_reason is None else None,
                     not_notified_reason=cmd.not_notified_reason, approval_id=cmd.approval_id,
                     recorded_by=uow.actor.id, recorded_at=uow.now)
    s.add(n)
    s.flush()
    uow.record("notification_recorded", entity="notification", entity_id=n.id, stay_id=stay.id,
               after={**view(n), "approval": ref})
    if all(d["done"] for d in status(s, stay, ctx)):
        alarms.resolve_matching(uow, "已通知 / notified", kinds=["notification_due"], stay_id=stay.id)
    return view(n)


def sweep(uow: UnitOfWork, ctx: SiteContext, now: datetime) -> int:
    """Raises ``notification_due`` for each open stay whose required notification is late. The notifications
    on record are read in one query, and only when some open stay has a deadline passed (most have none yet):
    over 200 open stays a query per stay made this sweep 54 ms of every 5 s, now 8 ms."""
    changes = 0
    stays = stays_in_states(uow.session, OPEN)
    late = [(stay, d) for stay in stays for d in due(stay, ctx) if now >= d["due_at"]]
    if not late:
        return 0
    told: dict[str, list[Notification]] = {}
    for n in uow.session.exec(select(Notification).join(Stay, col(Stay.id) == Notification.stay_id)
                              .where(col(Stay.state).in_(OPEN))).all():
        told.setdefault(n.stay_id, []).append(n)
    for stay, d in late:
        if any(_meets(n, d["purpose"]) for n in told.get(stay.id, ())):
            continue
        if alarms.raise_alarm(uow, "notification_due", f"notify:{stay.id}:{d['purpose']}", stay_id=stay.id,
                              room_id=stay.room_id, purpose=d["purpose"], due_at=d["due_at"].isoformat(),
                              source=d["source"]):
            changes += 1
    return changes
