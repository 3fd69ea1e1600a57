"""Health records of a stay (rules in ``domain/health.py``): the entry health check that sets the welfare flags,
the medical check, the five-item exam before a detention centre, structured drug tests and breathalyser readings.

Who took part is whoever authenticated: the signed-in user, plus any second staff member proven by step-up at the
route. A breathalyser reading comes from the device (the devicebus's last reading), never from a typed number.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from ..auth import StepUpIn
from ..clock import utc
from ..domain import health as rules
from ..domain.errors import RuleViolation, invalid
from ..domain.stay import StayState, ensure_open
from ..store.db import UnitOfWork
from ..store.tables import Capture, HealthRecord, Staff, Stay
from .commands import AwareDatetime, Id
from .common import load_stay, snapshot

BodyRegion = Literal["head", "face", "neck", "chest", "abdomen", "back", "left_arm", "right_arm", "left_hand",
                     "right_hand", "left_leg", "right_leg", "left_foot", "right_foot", "buttocks", "genital"]
Short = Annotated[str, Field(min_length=1, max_length=200)]


class _Cmd(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Injury(_Cmd):
    region: BodyRegion
    description: Short
    photo_id: Id | None = None


class EntryCheckIn(_Cmd):
    injuries: Annotated[list[Injury], Field(max_length=30)] = []
    illnesses: Annotated[list[Short], Field(max_length=20)] = []
    medications: Annotated[list[Short], Field(max_length=20)] = []
    pregnant: bool = False
    self_harm_risk: bool = False
    note: Annotated[str, Field(max_length=1000)] | None = None


class MedicalCheckIn(_Cmd):
    doctor_name: Annotated[str, Field(min_length=1, max_length=60)]
    institution: Annotated[str, Field(max_length=120)] | None = None
    findings: Annotated[str, Field(min_length=1, max_length=2000)]
    fit_for_custody: bool


class ExamItem(_Cmd):
    result: Annotated[str, Field(min_length=1, max_length=500)]
    normal: bool


class FiveItemExamIn(_Cmd):
    doctor_name: Annotated[str, Field(min_length=1, max_length=60)]
    institution: Annotated[str, Field(min_length=1, max_length=120)]
    items: dict[Literal["blood_pressure", "blood_routine", "ecg", "chest_xray", "abdominal_ultrasound"], ExamItem]
    conclusion: Annotated[str, Field(min_length=1, max_length=1000)]
    fit_for_detention: bool


class Signature(_Cmd):
    signed: bool
    signature_id: Id | None = None
    refusal_note: Annotated[str, Field(max_length=500)] | None = None


class DrugTestIn(_Cmd):
    sample_kind: Literal["urine", "blood", "hair", "saliva"]
    collector_ids: Annotated[list[Id], Field(min_length=1, max_length=4)]
    method: Annotated[str, Field(min_length=1, max_length=120)]
    kit_batch: Annotated[str, Field(max_length=64)] | None = None
    results: dict[str, str]
    sample_a_no: Annotated[str, Field(max_length=64)] | None = None
    sample_b_no: Annotated[str, Field(max_length=64)] | None = None
    seal_nos: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=4)] = []
    subject_signature: Signature
    notified_at: AwareDatetime | None = None
    step_up: StepUpIn | None = None


def _record(uow: UnitOfWork, stay: Stay, kind: str, data: dict[str, Any], staff_ids: list[str],
            device_id: str | None = None) -> dict[str, Any]:
    rec = HealthRecord(id=f"hr-{uuid.uuid4().hex[:10]}", stay_id=stay.id, kind=kind, data=data, staff_ids=staff_ids,
                       device_id=device_id, recorded_at=uow.now, recorded_by=uow.actor.id)
    uow.session.add(rec)
    view = record_view(rec)
    uow.record(f"health_{kind}_recorded", entity="health_record", entity_id=rec.id, stay_id=stay.id, after=view)
    return view


def record_view(r: HealthRecord) -> dict[str, Any]:
    return {"id": r.id, "stay_id": r.stay_id, "kind": r.kind, "data": r.data, "staff_ids": list(r.staff_ids),
            "device_id": r.device_id, "recorded_at": utc(r.recorded_at).isoformat(), "recorded_by": r.recorded_by}


def _open_stay(uow: UnitOfWork, stay_id: str) -> Stay:
    stay = load_stay(uow.session, stay_id)
    ensure_open(StayState(stay.state))
    return stay


def has_record(session: Session, stay_id: str, kind: str) -> bool:
    return session.exec(select(HealthRecord.id).where(HealthRecord.stay_id == stay_id,
                                                      HealthRecord.kind == kind)).first() is not None


def list_records(session: Session, stay_id: str) -> list[dict[str, Any]]:
    load_stay(session, stay_id)
    rows = session.exec(select(HealthRecord).where(HealthRecord.stay_id == stay_id)
                        .order_by(col(HealthRecord.recorded_at))).all()
    return [record_view(r) for r in rows]


def entry_check(uow: UnitOfWork, stay_id: str, cmd: EntryCheckIn) -> dict[str, Any]:
    stay = _open_stay(uow, stay_id)
    for inj in cmd.injuries:
        if inj.photo_id is not None and uow.session.get(Capture, inj.photo_id) is None:
            raise invalid("PHOTO_NOT_FOUND", "伤情照片不存在，请重新拍摄", f"no photo {inj.photo_id}",
                          field="injuries.photo_id")
    if cmd.pregnant and stay.sex != "female":
        raise invalid("PREGNANT_MALE", "男性不能登记为怀孕", "a male subject cannot be recorded as pregnant",
                      field="pregnant")
    flags = rules.risk_flags(len(cmd.injuries), len(cmd.illnesses), len(cmd.medications), cmd.pregnant,
                             cmd.self_harm_risk)
    before = snapshot(stay) | {"flags": dict(stay.flags or {})}
    # a later check can add a risk but the entry check never clears one another record set (e.g. intoxicated)
    stay.flags = {**(stay.flags or {}), **{k: v for k, v in flags.items() if v}}
    stay.version += 1
    uow.session.add(stay)
    uow.record("stay_flags_set", entity="stay", entity_id=stay.id, stay_id=stay.id, before=before,
               after=snapshot(stay) | {"flags": dict(stay.flags)})
    return _record(uow, stay, "entry_check", cmd.model_dump(mode="json") | {"flags": flags}, [uow.actor.id])


def medical_check(uow: UnitOfWork, stay_id: str, cmd: MedicalCheckIn) -> dict[str, Any]:
    stay = _open_stay(uow, stay_id)
    return _record(uow, stay, "medical_check", cmd.model_dump(mode="json"), [uow.actor.id])


def five_item_exam(uow: UnitOfWork, stay_id: str, cmd: FiveItemExamIn) -> dict[str, Any]:
    stay = _open_stay(uow, stay_id)
    rules.check_five_items({str(k): v for k, v in cmd.items.items()})
    return _record(uow, stay, "five_item_exam", cmd.model_dump(mode="json"), [uow.actor.id])


def drug_test(uow: UnitOfWork, stay_id: str, cmd: DrugTestIn, authenticated: dict[str, str]) -> dict[str, Any]:
    """``authenticated`` maps each collector who proved himself to how ("session" / "card_pin" / "password"); a
    collector named in the body but not in it was never proven and does not count."""
    s = uow.session
    stay = _open_stay(uow, stay_id)
    unproven = [sid for sid in cmd.collector_ids if sid not in authenticated]
    if unproven:
        raise RuleViolation("SAMPLER_NOT_AUTHENTICATED", "每名采集人员均须本人验证身份",
                            "every collector must prove who he is", collectors=unproven)
    people = [s.get(Staff, sid) for sid in cmd.collector_ids]
    collectors = [(p.id, p.sex) for p in people if p is not None and p.active]
    rules.check_drug_sampling(stay.sex, cmd.sample_kind, collectors)
    positive = rules.check_drug_results(cmd.results, cmd.sample_a_no, cmd.sample_b_no, cmd.seal_nos)
    sig = cmd.subject_signature
    if not sig.signed and not sig.refusal_note:
        raise invalid("SIGNATURE_OR_REFUSAL", "被检测人未签名的，须注明拒签情况", "record the signature or the refusal",
                      field="subject_signature")
    notified = cmd.notified_at or uow.now
    data = cmd.model_dump(mode="json", exclude={"step_up"}) | {
        "positive": positive, "notified_at": notified.isoformat(),
        "retest_deadline": rules.retest_deadline(notified).isoformat(),
        "collector_auth": {sid: authenticated[sid] for sid in cmd.collector_ids}}
    return _record(uow, stay, "drug_test", data, list(cmd.collector_ids))


def alcohol_reading(uow: UnitOfWork, stay_id: str, device_id: str, reading: dict[str, Any] | None) -> dict[str, Any]:
    stay = _open_stay(uow, stay_id)
    if reading is None:
        raise RuleViolation("NO_DEVICE_READING", "酒精测试仪尚无新的测试结果", "the breathalyser has no new reading",
                            device_id=device_id)
    dup = uow.session.exec(select(HealthRecord.id).where(HealthRecord.kind == "alcohol_reading",
                                                         HealthRecord.device_id == device_id)).all()
    for rid in dup:
        row = uow.session.get(HealthRecord, rid)
        if row is not None and row.data.get("event_id") == reading.get("event_id"):
            raise RuleViolation("READING_ALREADY_STORED", "该次测试结果已保存", "this reading is already stored",
                                record_id=rid)
    return _record(uow, stay, "alcohol_reading", dict(reading), [uow.actor.id], device_id=device_id)


def check_placement(uow: UnitOfWork, stay: Stay, approval_id: str | None) -> dict[str, Any] | None:
    """Before a waiting room: an injured or ill subject has been seen by a doctor, or a supervisor granted a
    ``placement_without_medical_check`` approval (used up here; its reference goes into the step's audit)."""
    flags = stay.flags or {}
    seen = has_record(uow.session, stay.id, "medical_check")
    if not rules.needs_medical_before_placement(flags) or seen:
        return None
    if approval_id is None:
        rules.check_fit_for_placement(flags, seen, False)
    from . import approvals

    a = approvals.consume(uow, approval_id, "placement_without_medical_check", stay.id, "stay_placed")
    return approvals.audit_ref(a, uow.session)


def check_exit(session: Session, stay: Stay, disposition: str) -> None:
    rules.check_exit_to_detention_centre(disposition, has_record(session, stay.id, "five_item_exam"))
