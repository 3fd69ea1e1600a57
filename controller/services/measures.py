"""Changing the legal measure mid-stay (POST /stays/{id}/measure): the decision, its document and approval, and the
legal clock re-derived from the new measure and the decision's own time (see ``domain/measures.py``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field

from ..clock import utc
from ..domain.errors import RuleViolation, invalid
from ..domain.measures import MEASURES, check_change, check_exit
from ..domain.stay import StayState, next_state
from ..store.db import UnitOfWork
from ..store.tables import Activity, Stay
from . import alarms, approvals
from .commands import AwareDatetime, CompleteExit, ExitSearch, Id, ItemDisposition, _Cmd
from .common import load_stay, move, snapshot, staff
from .context import SiteContext
from .exits import complete_exit

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



# ---------------------------------------------------------------------------------------------------------------
# 送押: the transfer to the facility the measure sends the person to, as its own exit path

FACILITY_EXIT = {"detention_centre": "to_detention_centre", "detention_house": "to_detention_house",
                 "rehab_centre": "to_rehab_centre"}


class TransferCmd(_Cmd):
    facility_kind: Literal["detention_centre", "detention_house", "rehab_centre"]
    facility_name: Annotated[str, Field(min_length=2, max_length=100)]
    escort_ids: Annotated[list[Id], Field(min_length=1, max_length=6)]
    medical_check_id: Id | None = None  # the stay's completed medical check (体检) before the transfer
    documents: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(min_length=1,
                                                                                          max_length=20)]
    transferred_at: AwareDatetime | None = None
    exit_search: ExitSearch
    items: Annotated[list[ItemDisposition], Field(max_length=200)] = []


def transfer(uow: UnitOfWork, ctx: SiteContext, stay_id: str, cmd: TransferCmd) -> Stay:
    """送押 in one step: the measure must send the person to this kind of facility (exit check), two escorting
    officers (《公安机关办理刑事案件程序规定》: 押解不得少于二人), the pre-transfer medical check on record, the
    documents handed over, every item travelling with the subject or otherwise resolved; then the exit."""
    s = uow.session
    stay = load_stay(s, stay_id)
    next_state(StayState(stay.state), "exit")
    disposition = FACILITY_EXIT[cmd.facility_kind]
    check_exit(stay.legal_basis, stay.role, disposition)
    escorts = list(dict.fromkeys(cmd.escort_ids))
    if len(escorts) < 2:
        raise RuleViolation("TOO_FEW_ESCORTS", "送押须有两名以上民警押解", "a transfer needs at least two escorting officers",
                            status=422, field="escort_ids")
    for eid in escorts:
        person = staff(s, eid, field="escort_ids")
        if not {"case_officer", "custody_staff", "supervisor"} & set(person.roles):
            raise RuleViolation("FORBIDDEN_ROLE", "押解人员须为民警或看管人员", "escorts must be officers or custody staff",
                                status=422, field="escort_ids", id=eid)
    check = s.get(Activity, cmd.medical_check_id) if cmd.medical_check_id else None
    if check is None or check.stay_id != stay.id or check.kind != "medical_check" or check.ended_at is None:
        # 看守所、拘留所收押前须体检 (《看守所条例》第10条; 《拘留所条例》)
        raise RuleViolation("MEDICAL_CHECK_REQUIRED", "送押前须完成体检并记录", "the pre-transfer medical check must be on "
                            "record", field="medical_check_id")
    at = utc(cmd.transferred_at) if cmd.transferred_at else uow.now
    if at > uow.now:
        raise invalid("INVALID_DATE", "送押时间不能晚于当前时间", "the transfer time cannot be in the future",
                      field="transferred_at")
    record = {"facility_kind": cmd.facility_kind, "facility_name": cmd.facility_name, "escort_ids": escorts,
              "medical_check_id": check.id, "documents": list(cmd.documents), "transferred_at": at,
              "measure": stay.legal_basis}
    move(uow, stay, "exit", "transfer_started", {"disposition": disposition, "transfer": record,
                                                 "locker_id": stay.locker_id},
         disposition=disposition, waiting_room_id=None)
    done = complete_exit(uow, ctx, stay.id, CompleteExit(exit_search=cmd.exit_search, items=cmd.items))
    done.exit_record = {**(done.exit_record or {}), "transfer": {**record, "transferred_at": at.isoformat()}}
    s.add(done)
    return done
