"""The intake steps: security check, information collection, property, waiting-room placement."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from ..domain.errors import NotFound, RuleViolation, invalid
from ..domain.rules import (
    Occupant,
    RoomView,
    check_custodian,
    check_placement,
    check_searcher,
    placement_violations,
)
from ..domain.stay import StayState
from ..store.db import UnitOfWork
from ..store.tables import Locker, PropertyItem, Stay
from . import alarms, approvals
from .commands import CollectionRecord, Placement, PropertyRecord, SearchRecord
from .common import load_stay, move, occupants, staff
from .context import SiteContext
from .overrun import ensure_within_deadline


def _occupant(stay: Stay) -> Occupant:
    return Occupant(stay_id=stay.id, sex=stay.sex, minor=stay.is_minor, role=stay.role, case_no=stay.case_no,
                    intoxicated=bool((stay.flags or {}).get("intoxicated")))


def room_view(session: Session, ctx: SiteContext, room_id: str) -> RoomView:
    room = ctx.room(room_id)
    return RoomView(id=room.id, kind=room.kind, capacity=room.capacity, restrictions=tuple(room.restrictions),
                    occupants=tuple(_occupant(s) for s in occupants(session, room_id)))


def _place(uow: UnitOfWork, ctx: SiteContext, stay: Stay, room_id: str,
           approval_id: str | None) -> tuple[list[str], dict[str, Any] | None]:
    """Checks rule 5 for ``stay`` entering ``room_id``. A placement that breaks a separation rule needs a granted
    ``placement_override`` approval for that room (used up here); returns the overridden violations and the
    approval's audit reference."""
    violations = placement_violations(_occupant(stay), room_view(uow.session, ctx, room_id))
    if not violations:
        return [], None
    check_placement(_occupant(stay), room_view(uow.session, ctx, room_id), approval_id is not None)
    approval = approvals.consume(uow, approval_id, "placement_override", stay.id, "stay_placed",
                                 expect={"room_id": room_id})
    ref = approvals.audit_ref(approval, uow.session)
    alarms.raise_alarm(uow, "placement_override", f"override:{stay.id}:{room_id}:{uow.now.isoformat()}",
                       stay_id=stay.id, room_id=room_id, violations=violations, approval_id=approval.id,
                       granted_by=approval.decided_by, reason=approval.reason)
    return violations, ref


def search(uow: UnitOfWork, ctx: SiteContext, stay_id: str, cmd: SearchRecord,
           transit: dict[str, Any] | None = None) -> Stay:
    s = uow.session
    stay = load_stay(s, stay_id)
    checker = staff(s, cmd.checker_id, field="checker_id")
    if not {"custody_staff", "case_officer"} & set(checker.roles):
        raise RuleViolation("FORBIDDEN_ROLE", "检查人须为看管人员或办案民警", "the checker must be custody staff or an officer",
                            status=422, field="checker_id")
    staff(s, cmd.witness_id, field="witness_id")
    if cmd.witness_id == cmd.checker_id:
        raise invalid("WITNESS_IS_CHECKER", "见证人不能是检查人本人", "the witness must be someone other than the checker")
    check_searcher(stay.sex, checker.sex)
    if cmd.gate_result == "alarm" and (not cmd.handheld_result or cmd.handheld_result == "not_used"):
        raise invalid("HANDHELD_REQUIRED", "安检门报警，须用手持金属探测器复检并记录结果",
                      "the gate alarmed: a handheld check result is required", field="handheld_result")
    if transit is not None:
        # the gate's own report is the record: the form may not say "pass" where the gate alarmed
        reported = "alarm" if transit["alarm"] else "pass"
        if cmd.gate_result != reported or sorted(cmd.gate_zones or []) != sorted(transit["zones"]):
            raise RuleViolation("GATE_RESULT_MISMATCH", "安检门结果与设备记录不符", "the gate result differs from the gate's report",
                                reported=reported, zones=transit["zones"])
    record = {**cmd.model_dump(), "gate_transit": transit, "at": uow.now.isoformat(), "by": uow.actor.id}
    if stay.state == StayState.RETURNED.value:
        if not cmd.room_id:
            raise invalid("ROOM_REQUIRED", "返回后复检须指定候问室", "a search after return must name the waiting room",
                          field="room_id")
        overridden, _ref = _place(uow, ctx, stay, cmd.room_id, None)
        return move(uow, stay, "search", "stay_searched_on_return", {"search": record, "overridden": overridden},
                    search=record, searches=[*(stay.searches or []), record], room_id=cmd.room_id,
                    waiting_room_id=cmd.room_id, placed_at=uow.now)
    return move(uow, stay, "search", "stay_searched", {"search": record}, search=record,
                searches=[*(stay.searches or []), record], room_id=ctx.room_of_kind("search") or stay.room_id)


def collection(uow: UnitOfWork, ctx: SiteContext, stay_id: str, cmd: CollectionRecord) -> Stay:
    stay = load_stay(uow.session, stay_id)
    record = {**cmd.model_dump(), "at": uow.now.isoformat(), "by": uow.actor.id}
    if cmd.capture_id is not None:
        from .captures import link_to_collection

        record["capture_sha256"] = link_to_collection(uow, stay, cmd.capture_id).sha256
    return move(uow, stay, "collection", "stay_collected", {"collection": record}, collection=record,
                room_id=ctx.room_of_kind("collection") or stay.room_id)


def store_property(uow: UnitOfWork, ctx: SiteContext, stay_id: str, cmd: PropertyRecord) -> Stay:
    s = uow.session
    stay = load_stay(s, stay_id)
    custodian = staff(s, cmd.custodian_id, role="custody_staff", field="custodian_id")
    check_custodian(custodian.id, stay.case_officer_ids)
    locker = s.get(Locker, cmd.locker_id)
    if locker is None:
        raise NotFound("locker", cmd.locker_id, "储物柜")
    if any(loc.locker_id == locker.id for loc in ctx.config.storage_locations):
        # an evidence locker or file cabinet holds case property or files, never a subject's own belongings
        raise RuleViolation("LOCKER_RESERVED", "该柜格为涉案财物/卷宗专用", "this compartment is reserved for case property",
                            locker_id=locker.id)
    if locker.state != "free" or locker.stay_id is not None:
        raise RuleViolation("LOCKER_OCCUPIED", "该储物柜已被占用", "the locker is in use", locker_id=locker.id)
    items = [PropertyItem(id=f"item-{uuid.uuid4().hex[:10]}", stay_id=stay.id, **i.model_dump()) for i in cmd.items]
    # state check first so nothing is written for an out-of-order step
    moved = move(uow, stay, "property", "property_stored",
                 {"locker_id": locker.id, "custodian_id": custodian.id,
                  "items": [{"id": i.id, "description": i.description, "quantity": i.quantity,
                             "category": i.category} for i in items], "signature_id": cmd.signature_id},
                 custodian_id=custodian.id, locker_id=locker.id, intake_signature_id=cmd.signature_id)
    locker.state, locker.stay_id = "assigned", stay.id
    s.add(locker)
    for i in items:
        s.add(i)
    return moved


def placement(uow: UnitOfWork, ctx: SiteContext, stay_id: str, cmd: Placement) -> Stay:
    stay = load_stay(uow.session, stay_id)
    from ..domain.stay import next_state

    next_state(StayState(stay.state), "placement")  # refuse out-of-order before checking the room
    if stay.state == StayState.WAITING.value:  # a move; the first placement leads on to the exit and stays allowed
        ensure_within_deadline(stay, uow.now, "placement_move")
    locker = uow.session.get(Locker, stay.locker_id) if stay.locker_id else None
    if locker is not None and locker.door_open:
        raise RuleViolation("LOCKER_NOT_CLOSED", "储物柜门未关闭，请先关好柜门", "close the locker door first",
                            locker_id=locker.id)
    from .health import check_placement

    medical = check_placement(uow, stay, cmd.medical_approval_id)
    overridden, ref = _place(uow, ctx, stay, cmd.room_id, cmd.approval_id)
    data: dict[str, Any] = {"room_id": cmd.room_id, "from_room_id": stay.room_id}
    if medical is not None:
        data["medical_check_waived"] = medical
    if overridden and ref:
        data.update(override={**ref, "violations": overridden}, approval=ref)
    return move(uow, stay, "placement", "stay_placed", data, room_id=cmd.room_id, waiting_room_id=cmd.room_id,
                placed_at=uow.now)
