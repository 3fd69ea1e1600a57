"""Temporary leave and return, deadline extension, and exit with every item's disposition."""

from __future__ import annotations

import uuid

from sqlmodel import select

from ..clock import utc
from ..domain.errors import NotFound, RuleViolation
from ..domain.measures import check_exit
from ..domain.rules import (
    check_extension,
    check_item_disposition,
    check_searcher,
    item_needs_approval,
    validate_resident_id,
)
from ..domain.stay import StayState, next_state
from ..store.db import UnitOfWork
from ..store.tables import Leave, Locker, PropertyItem, Stay
from . import alarms, approvals
from .commands import CompleteExit, Empty, Extension, StartExit, StartLeave
from .common import load_stay, move, staff
from .context import SiteContext
from .overrun import ensure_within_deadline


def leave(uow: UnitOfWork, ctx: SiteContext, stay_id: str, cmd: StartLeave) -> Stay:
    s = uow.session
    stay = load_stay(s, stay_id)
    next_state(StayState(stay.state), "leave")  # out of order is refused before the approval is looked at
    ensure_within_deadline(stay, uow.now, "leave")
    for eid in cmd.escort_ids:
        staff(s, eid, field="escort_ids")
    # rule 7: temporary leave only with a supervisor's approval, granted by the supervisor himself
    approval = approvals.consume(uow, cmd.approval_id, "temporary_leave", stay.id, "temporary_leave_started",
                                 expect={"leave_reason": cmd.reason})
    ref = approvals.audit_ref(approval, s)
    lv = Leave(id=f"leave-{uuid.uuid4().hex[:10]}", stay_id=stay.id, reason=cmd.reason,
               approved_by=approval.decided_by or "", approval_id=approval.id, escort_ids=cmd.escort_ids,
               note=cmd.note, left_at=uow.now)
    # the legal clock keeps running: deadline_at is untouched
    moved = move(uow, stay, "leave", "temporary_leave_started",
                 {"leave_id": lv.id, "reason": cmd.reason, "approval": ref, "escort_ids": cmd.escort_ids},
                 room_id=None, waiting_room_id=None, placed_at=None)
    s.add(lv)
    return moved


def return_(uow: UnitOfWork, ctx: SiteContext, stay_id: str, _cmd: Empty) -> Stay:
    s = uow.session
    stay = load_stay(s, stay_id)
    lv = s.exec(select(Leave).where(Leave.stay_id == stay.id, Leave.returned_at == None)).first()  # noqa: E711
    moved = move(uow, stay, "return", "temporary_leave_returned", {"leave_id": lv.id if lv else None},
                 room_id=ctx.room_of_kind("search"))
    if lv is not None:
        lv.returned_at = uow.now
        s.add(lv)
    return moved


def extend(uow: UnitOfWork, ctx: SiteContext, stay_id: str, cmd: Extension) -> Stay:
    s = uow.session
    stay = load_stay(s, stay_id)
    if stay.state == StayState.EXITED.value:
        raise RuleViolation("STAY_CLOSED", "该人员已出区，记录不可更改", "the stay is closed")
    # 零滞留: an extension is decided before the limit runs out; after it the overrun stays on the record (the
    # overdue alarm is not cleared) and only a decision that ends it or the exit is allowed (services/overrun.py)
    ensure_within_deadline(stay, uow.now, "extension")
    rule = ctx.clocks.get(stay.legal_basis)
    if rule is None:  # a decided measure (detention, arrest …) has its own fixed clock
        raise RuleViolation("EXTENSION_NOT_ALLOWED", "当前强制措施的时限不可延长", "this measure's time limit cannot be "
                            "extended", basis=stay.legal_basis)
    tier = check_extension(rule, utc(stay.basis_started_at), utc(stay.entered_at), utc(stay.deadline_at),
                           cmd.until, cmd.ground, ctx.timing.secure_area_cap_hours)
    approval = approvals.consume(uow, cmd.approval_id, "extension", stay.id, "deadline_extended",
                                 expect={"until": cmd.until, "ground": cmd.ground})
    if tier.approval != "supervisor" and not (approval.level and approval.document_no):
        # the law gives this extension to a higher level (e.g. 《人民警察法》第9条: county-level organ for 48 h)
        level_zh = {"county-level public security organ": "县级以上公安机关"}.get(tier.approval, "上级机关")
        raise RuleViolation("APPROVAL_LEVEL_REQUIRED", f"此项延长须经{level_zh}批准，并填写批准文书编号",
                            f"this extension needs approval by the {tier.approval} with its document number",
                            approval_id=approval.id, level=tier.approval)
    ref = approvals.audit_ref(approval, s)
    before = utc(stay.deadline_at)
    stay.deadline_at, stay.extension_ground = cmd.until, tier.ground
    stay.version += 1
    s.add(stay)
    uow.record("deadline_extended", entity="stay", entity_id=stay.id, stay_id=stay.id,
               before={"deadline_at": before}, after={"deadline_at": cmd.until, "approval": ref,
                                                      "reason": cmd.reason, "ground": tier.ground,
                                                      "source": tier.source})
    alarms.resolve_matching(uow, "时限已依法延长 / deadline extended", kinds=["deadline_warning", "deadline_overdue"],
                            stay_id=stay.id)
    return stay


def start_exit(uow: UnitOfWork, ctx: SiteContext, stay_id: str, cmd: StartExit) -> Stay:
    stay = load_stay(uow.session, stay_id)
    next_state(StayState(stay.state), "exit")
    check_exit(stay.legal_basis, stay.role, cmd.disposition)  # the exit follows the current legal measure
    from .health import check_exit as check_health_before_exit

    check_health_before_exit(uow.session, stay, cmd.disposition)  # the five-item exam before a detention centre
    return move(uow, stay, "exit", "exit_started", {"disposition": cmd.disposition, "locker_id": stay.locker_id},
                disposition=cmd.disposition, waiting_room_id=None)


def complete_exit(uow: UnitOfWork, ctx: SiteContext, stay_id: str, cmd: CompleteExit) -> Stay:
    s = uow.session
    stay = load_stay(s, stay_id)
    checker = staff(s, cmd.exit_search.checker_id, field="exit_search.checker_id")
    check_searcher(stay.sex, checker.sex)
    items = {i.id: i for i in s.exec(select(PropertyItem).where(PropertyItem.stay_id == stay.id)).all()}
    given = {d.item_id: d for d in cmd.items}
    for item_id in given:
        if item_id not in items:
            raise NotFound("property item", item_id, "物品")
    decisions: dict[str, dict[str, object]] = {}
    for item in items.values():
        d = given.get(item.id)
        if d is None and item.disposition is None:
            raise RuleViolation("PROPERTY_UNRESOLVED", f"物品“{item.description}”未处置",
                                f"item {item.description!r} has no disposition", item_id=item.id)
        if d is not None:
            receiver = d.receiver.model_dump() if d.receiver else None
            check_item_disposition(d.disposition, receiver, d.document_no)
            if item_needs_approval(item.category, d.disposition):
                if d.approval_id is None:
                    # 《治安管理处罚法》第11条、《刑事诉讼法》第141条: prohibited/dangerous articles and case property
                    # are collected or seized; giving one back is a supervisor's recorded decision
                    raise RuleViolation("ITEM_NEEDS_DECISION",
                                        f"物品“{item.description}”属危险物品或涉案物品，须扣押（填写文书编号）、"
                                        "销毁（填写记录编号）或经批准后发还",
                                        f"item {item.description!r} is dangerous or case-related: seize it with a "
                                        "document number, destroy it with a record, or return it with an approval",
                                        item_id=item.id, category=item.category)
                approval = approvals.consume(uow, d.approval_id, "item_return", stay.id, "stay_exited",
                                             expect={"item_id": item.id})
                decisions[item.id] = approvals.audit_ref(approval, s)
            if receiver and len(receiver["id_number"]) == 18:
                validate_resident_id(receiver["id_number"])
            item.disposition, item.document_no, item.disposed_at = d.disposition, d.document_no, uow.now
            if receiver:
                item.receiver_name, item.receiver_id_number = receiver["name"], receiver["id_number"].upper()
            s.add(item)
    record = {"exit_search": cmd.exit_search.model_dump(), "signature_id": cmd.signature_id,
              "at": uow.now.isoformat(), "by": uow.actor.id}
    moved = move(uow, stay, "exit_complete", "stay_exited",
                 {"disposition": stay.disposition,
                  "items": [{"id": i.id, "disposition": i.disposition, "document_no": i.document_no,
                             **({"approval": decisions[i.id]} if i.id in decisions else {})}
                            for i in items.values()],
                  "wristband_id": stay.wristband_id, "locker_id": stay.locker_id},
                 exit_record=record, exited_at=uow.now, room_id=None, wristband_id=None)
    # the person has left: the overrun (if any) has ended, and stays on the record in the alarm's history
    alarms.resolve_matching(uow, "已出区 / exited", kinds=["deadline_warning", "deadline_overdue"], stay_id=stay.id)
    if stay.locker_id:
        locker = s.get(Locker, stay.locker_id)
        if locker is not None:
            locker.state, locker.stay_id = "free", None
            s.add(locker)
    return moved
