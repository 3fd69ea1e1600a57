"""Changing the legal measure mid-stay (POST /stays/{id}/measure): the decision, its document and approval, and the
legal clock re-derived from the new measure and the decision's own time (see ``domain/measures.py``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field

from ..clock import utc
from ..domain.errors import RuleViolation, invalid
from ..domain.measures import MEASURES, check_change
from ..domain.stay import StayState
from ..store.db import UnitOfWork
from ..store.tables import Stay
from . import alarms, approvals
from .commands import AwareDatetime, Id, _Cmd
from .common import load_stay, snapshot
from .context import SiteContext

MeasureKey = Literal[MEASURES]  # type: ignore[valid-type]


class MeasureChange(_Cmd):
    measure: MeasureKey
    decided_at: AwareDatetime
    decision_no: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    reason: Annotated[str, Field(min_length=2, max_length=500)]
    approval_id: Id | None = None


def change(uow: UnitOfWork, ctx: SiteContext, stay_id: str, cmd: MeasureChange) -> Stay:
    s = uow.session
    stay = load_stay(s, stay_id)
    if stay.state in (StayState.EXITED.value, StayState.EXITING.value):
        raise RuleViolation("STAY_CLOSED", "该人员已出区或正在出区，不能变更强制措施", "the stay is closed or exiting",
                            state=stay.state)
    target = check_change(stay.legal_basis, cmd.measure, stay.role, stay.case_kind)
    if cmd.decided_at > uow.now:
        raise invalid("INVALID_DATE", "决定时间不能晚于当前时间", "the decision cannot be in the future", field="decided_at")
    ref = None
    if target.approval:
        if not cmd.decision_no:
            raise invalid("DOCUMENT_NO_REQUIRED", f"“{target.name_zh}”须填写决定文书编号",
                          f"{cmd.measure} needs its decision document number", field="decision_no")
        approval = approvals.consume(uow, cmd.approval_id, "measure_change", stay.id, "measure_changed",
                                     expect={"measure": cmd.measure})
        ref = approvals.audit_ref(approval, s)
    before = {**snapshot(stay), "measure": stay.legal_basis, "basis_started_at": stay.basis_started_at}
    decided = utc(cmd.decided_at)
    stay.legal_basis, stay.basis_started_at, stay.extension_ground = cmd.measure, decided, None
    if target.hours is not None:  # e.g. CPL art. 85: to the detention centre within 24 h of the decision
        stay.deadline_at = decided + timedelta(hours=target.hours)
    stay.version += 1
    s.add(stay)
    data = {"measure": cmd.measure, "measure_zh": target.name_zh, "decided_at": decided,
            "decision_no": cmd.decision_no, "reason": cmd.reason, "source": target.source, "approval": ref,
            "exits": list(target.exits)}
    uow.record("measure_changed", entity="stay", entity_id=stay.id, stay_id=stay.id, before=before,
               after={**snapshot(stay), **data},
               payload={"state": stay.state, "legal_basis": stay.legal_basis, "deadline_at": stay.deadline_at,
                        **data})
    # the decision ends an overrun of the old measure's clock; the new clock raises its own warnings
    alarms.resolve_matching(uow, f"已决定：{target.name_zh} / measure decided", kinds=["deadline_warning", "deadline_overdue"],
                            stay_id=stay.id)
    return stay

