"""Registration (入区登记): identity, case, legal basis and clock, officers, wristband."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from ..clock import utc
from ..domain.errors import RuleViolation, invalid
from ..domain.identity import check_criminal_responsibility, check_sex_matches
from ..domain.rules import initial_deadline, is_minor, validate_resident_id
from ..domain.stay import StayState
from ..store.db import UnitOfWork
from ..store.tables import Stay
from . import approvals
from .commands import RegisterStay
from .common import OPEN, snapshot, staff
from .context import SiteContext


def mask_id(number: str) -> str:
    return number[:6] + "*" * max(0, len(number) - 6) if len(number) > 6 else "***"


def check_card(cmd: RegisterStay, card: dict[str, Any] | None) -> list[str]:
    """The identity typed or filled in must be what the reader read; a card with problems needs a reason."""
    if card is None:
        raise invalid("NO_CARD_READ", "该读卡器未读到身份证，请重新放卡或改为手工录入",
                      "no card was read on that reader; place the card again or enter manually")
    if card.get("id_number", "").upper() != cmd.subject.id_number.strip().upper() or card.get("name") != cmd.subject.name:
        raise RuleViolation("ID_CARD_MISMATCH", "登记信息与读取的身份证不一致", "the identity differs from the card read")
    problems = list(card.get("problems") or [])
    if problems and not cmd.card_problem_reason:
        raise RuleViolation("ID_CARD_PROBLEM", "身份证存在问题（如已过期），须说明原因后方可登记",
                            "the card has problems (e.g. expired): give a reason to register anyway",
                            problems=problems)
    return problems


SUMMONS = ("criminal_summons", "compelled_appearance", "admin_summons", "verbal_summons")


def _repeated_summons(uow: UnitOfWork, ctx: SiteContext, cmd: RegisterStay, number: str) -> dict[str, Any] | None:
    """不得以连续传唤、拘传的形式变相拘禁 (《刑事诉讼法》第119条第3款; 《治安管理处罚法》 likewise): a summons of the same
    person on the same case within ``timing.repeated_summons_hours`` of the last one ending needs a supervisor's
    approval (kind ``repeated_summons``, asked about the ended stay) and is flagged. Returns the flag's record."""
    if cmd.legal_basis not in SUMMONS or ctx.timing.repeated_summons_hours <= 0:
        return None
    since = uow.now - timedelta(hours=ctx.timing.repeated_summons_hours)
    prev = uow.session.exec(select(Stay).where(
        Stay.id_number == number, Stay.case_no == cmd.case.case_no, Stay.state == StayState.EXITED.value,
        col(Stay.exited_at) >= since).order_by(col(Stay.exited_at).desc())).first()
    if prev is None:
        return None
    if cmd.approval_id is None:
        raise RuleViolation("REPEATED_SUMMONS", "同一案件对同一人连续传唤须经值班领导批准（不得以连续传唤变相拘禁）",
                            "a repeated summons on the same case needs a supervisor's approval",
                            previous_stay_id=prev.id, ended_at=utc(prev.exited_at).isoformat() if prev.exited_at
                            else None, interval_hours=ctx.timing.repeated_summons_hours)
    approval = approvals.consume(uow, cmd.approval_id, "repeated_summons", prev.id, "stay_registered")
    return {"previous_stay_id": prev.id, "ended_at": prev.exited_at, "approval": approvals.audit_ref(approval,
                                                                                                     uow.session)}


def register(uow: UnitOfWork, ctx: SiteContext, cmd: RegisterStay, card: dict[str, Any] | None = None) -> Stay:
    s, now = uow.session, uow.now
    subj = cmd.subject
    card_problems = check_card(cmd, card) if cmd.identity_source == "id_card" and cmd.id_reader_id else []
    if subj.birth_date > now.date():
        raise invalid("INVALID_DATE", "出生日期不能晚于今天", "birth date is in the future", field="subject.birth_date")
    number = subj.id_number.strip().upper()
    if subj.id_type == "resident_id":
        validate_resident_id(number, subj.birth_date)
        check_sex_matches(number, subj.sex)
    check_criminal_responsibility(role=cmd.role, legal_basis=cmd.legal_basis, birth_date=subj.birth_date,
                                  today=now.date(), offence_category=cmd.case.offence_category,
                                  spp_approval_no=cmd.case.spp_approval_no)
    if cmd.identity_source == "manual" and subj.id_type == "resident_id" and not cmd.manual_entry_reason:
        raise invalid("MANUAL_ENTRY_REASON_REQUIRED", "手工录入身份信息须说明原因（如未携带身份证）",
                      "manual identity entry needs a reason (e.g. no card)", field="manual_entry_reason")
    witnessish = cmd.role in ("witness", "victim")
    if witnessish != (cmd.legal_basis == "witness_inquiry"):
        raise invalid("BASIS_ROLE_MISMATCH", "法律依据与人员身份不符", "the legal basis does not fit the subject's role",
                      role=cmd.role, legal_basis=cmd.legal_basis)
    officers = list(dict.fromkeys(cmd.case_officer_ids))
    if cmd.role == "suspect" and len(officers) < 2:
        raise RuleViolation("TOO_FEW_OFFICERS", "嫌疑人须有两名以上办案民警", "a suspect needs at least two case officers",
                            status=422)
    if not officers:
        raise RuleViolation("TOO_FEW_OFFICERS", "须指定办案民警", "name at least one case officer", status=422)
    for oid in officers:
        staff(s, oid, role="case_officer", field="case_officer_ids")
    started = cmd.basis_started_at or now
    if started > now:
        raise invalid("INVALID_DATE", "起算时间不能晚于当前时间", "the legal clock cannot start in the future",
                      field="basis_started_at")
    if s.exec(select(Stay.id).where(Stay.id_number == number, col(Stay.state).in_(OPEN))).first():
        raise RuleViolation("SUBJECT_ALREADY_INSIDE", "该人员已有未出区记录", "this person already has an open stay")
    if cmd.wristband_id and s.exec(select(Stay.id).where(Stay.wristband_id == cmd.wristband_id,
                                                         col(Stay.state).in_(OPEN))).first():
        raise RuleViolation("WRISTBAND_IN_USE", "该手环已绑定其他在区人员", "the wristband is bound to another open stay")
    repeated = _repeated_summons(uow, ctx, cmd, number)
    rule = ctx.clocks[cmd.legal_basis]
    stay = Stay(
        id=f"stay-{uuid.uuid4().hex[:12]}", state=StayState.REGISTERED.value, subject_name=subj.name,
        id_type=subj.id_type, id_number=number, sex=subj.sex, birth_date=subj.birth_date,
        nationality=subj.nationality, ethnicity=subj.ethnicity, address=subj.address,
        is_minor=is_minor(subj.birth_date, now.date()), identity_source=cmd.identity_source,
        manual_entry_reason=cmd.manual_entry_reason, role=cmd.role, case_no=cmd.case.case_no,
        case_kind=cmd.case.case_kind, case_summary=cmd.case.summary, offence_category=cmd.case.offence_category,
        spp_approval_no=cmd.case.spp_approval_no, legal_basis=cmd.legal_basis,
        basis_started_at=started, entered_at=now,
        deadline_at=initial_deadline(rule, started, now, ctx.timing.secure_area_cap_hours),
        room_id=ctx.room_of_kind("registration"), case_officer_ids=officers,
        wristband_id=cmd.wristband_id, registered_by=uow.actor.id,
        flags={**cmd.flags.model_dump(), **({"repeated_summons": True} if repeated else {})},
    )
    s.add(stay)
    uow.record("stay_registered", entity="stay", entity_id=stay.id, stay_id=stay.id,
               after={**snapshot(stay), "subject_name": stay.subject_name, "id_masked": mask_id(number),
                      "role": stay.role, "case_no": stay.case_no, "legal_basis": stay.legal_basis,
                      "offence_category": stay.offence_category, "spp_approval_no": stay.spp_approval_no,
                      "basis_started_at": started, "identity_source": stay.identity_source,
                      "manual_entry_reason": stay.manual_entry_reason, "case_officer_ids": officers,
                      "id_reader_id": cmd.id_reader_id, "card_problems": card_problems,
                      "card_problem_reason": cmd.card_problem_reason,
                      "clock_source": rule.source, "repeated_summons": repeated},
               payload={"state": stay.state, "subject": {"name": stay.subject_name, "sex": stay.sex,
                                                         "is_minor": stay.is_minor, "id_type": stay.id_type,
                                                         "id_number": number},
                        "role": stay.role, "case_no": stay.case_no, "legal_basis": stay.legal_basis,
                        "entered_at": now, "deadline_at": stay.deadline_at})
    return stay
