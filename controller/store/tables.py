"""SQLModel tables. Created only by the Alembic migrations in ``store/migrations``, never by ``create_all``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _ts(**kw: Any) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), **kw))


def _json(default: Any = None) -> Any:
    return Field(default_factory=(lambda: default() if callable(default) else default),
                 sa_column=Column(JSON, nullable=True))


class Staff(SQLModel, table=True):
    __tablename__ = "staff"
    id: str = Field(primary_key=True)
    police_no: str = Field(unique=True, index=True)
    name: str
    sex: str
    roles: list[str] = _json(list)
    password_hash: str
    card_id_hash: str | None = None
    tag_id: str | None = Field(default=None, index=True)  # the staff member's own wristband/badge tag
    pin_hash: str | None = None
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts(nullable=False)


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_session"
    token_hash: str = Field(primary_key=True)
    staff_id: str = Field(index=True)
    kiosk_id: str | None = None
    created_at: datetime = _ts(nullable=False)
    last_seen_at: datetime = _ts(nullable=False)
    expires_at: datetime = _ts(nullable=False)
    idle_seconds: int
    revoked: bool = False


class Stay(SQLModel, table=True):
    __tablename__ = "stay"
    id: str = Field(primary_key=True)
    state: str = Field(index=True)
    # subject
    subject_name: str
    id_type: str
    id_number: str
    sex: str
    birth_date: date
    nationality: str
    ethnicity: str | None = None
    address: str | None = None
    is_minor: bool = False
    identity_source: str = "manual"  # id_card | manual
    manual_entry_reason: str | None = None
    role: str
    case_no: str = Field(index=True)
    case_kind: str
    case_summary: str | None = None
    offence_category: str | None = None  # Criminal Law art. 17 category, for a suspect under 16
    spp_approval_no: str | None = None  # the SPP's approval to prosecute, for a suspect aged 12-13
    legal_basis: str
    basis_started_at: datetime = _ts(nullable=False)
    entered_at: datetime = _ts(nullable=False)
    deadline_at: datetime = _ts(nullable=False)
    extension_ground: str | None = None
    room_id: str | None = Field(default=None, index=True)  # where the subject is now
    waiting_room_id: str | None = Field(default=None, index=True)  # the waiting room held for them
    placed_at: datetime | None = _ts(nullable=True)  # when they arrived in the current room
    case_officer_ids: list[str] = _json(list)
    wristband_id: str | None = Field(default=None, index=True)
    flags: dict[str, bool] = _json(dict)
    search: dict[str, Any] | None = _json()
    searches: list[dict[str, Any]] = _json(list)
    collection: dict[str, Any] | None = _json()
    custodian_id: str | None = None
    locker_id: str | None = None
    disposition: str | None = None
    exit_record: dict[str, Any] | None = _json()
    exited_at: datetime | None = _ts(nullable=True)
    registered_by: str
    version: int = 1
    intake_signature_id: str | None = None  # the subject's signature on the property list at intake


class PropertyItem(SQLModel, table=True):
    __tablename__ = "property_item"
    id: str = Field(primary_key=True)
    stay_id: str = Field(index=True)
    description: str
    quantity: int
    category: str
    photo_id: str | None = None
    disposition: str | None = None
    receiver_name: str | None = None
    receiver_id_number: str | None = None
    document_no: str | None = None
    disposed_at: datetime | None = _ts(nullable=True)


class Interview(SQLModel, table=True):
    __tablename__ = "interview"
    id: str = Field(primary_key=True)
    stay_id: str = Field(index=True)
    room_id: str = Field(index=True)
    officer_ids: list[str] = _json(list)
    appropriate_adult: dict[str, Any] | None = _json()
    interpreter: str | None = None
    recording_id: str | None = None
    state: str = "active"  # active | paused | ended
    started_at: datetime = _ts(nullable=False)
    ended_at: datetime | None = _ts(nullable=True)
    gaps: list[dict[str, Any]] = _json(list)  # [{from, to, reason}]
    recording_span: dict[str, Any] | None = _json()


class Activity(SQLModel, table=True):
    __tablename__ = "activity"
    id: str = Field(primary_key=True)
    stay_id: str = Field(index=True)
    kind: str
    performed_by_id: str
    room_id: str | None = None
    started_at: datetime = _ts(nullable=False)
    ended_at: datetime | None = _ts(nullable=True)
    result: str | None = None


class Leave(SQLModel, table=True):
    __tablename__ = "leave"
    id: str = Field(primary_key=True)
    stay_id: str = Field(index=True)
    reason: str
    approved_by: str  # the supervisor who granted the approval (proven, never named by the request)
    approval_id: str | None = None
    escort_ids: list[str] = _json(list)
    note: str | None = None
    left_at: datetime = _ts(nullable=False)
    returned_at: datetime | None = _ts(nullable=True)


class Locker(SQLModel, table=True):
    __tablename__ = "locker"
    id: str = Field(primary_key=True)
    bus: str
    board: int
    channel: int
    size: str
    state: str = "free"  # free | assigned | out_of_service | reserved (evidence locker or file cabinet)
    stay_id: str | None = Field(default=None, index=True)
    door_open: bool = False
    item_present: bool = False


class CareRecord(SQLModel, table=True):
    """Meals, water, rest, medication given to a subject (rule 9)."""

    __tablename__ = "care_record"
    id: str = Field(primary_key=True)
    stay_id: str = Field(index=True)
    kind: str
    at: datetime = _ts(nullable=False)
    by_id: str
    note: str | None = None


class WelfareCheck(SQLModel, table=True):
    __tablename__ = "welfare_check"
    id: str = Field(primary_key=True)
    room_id: str = Field(index=True)
    staff_id: str
    at: datetime = _ts(nullable=False)
    observation: str
    note: str | None = None
    occupant_stay_ids: list[str] = _json(list)


class Alarm(SQLModel, table=True):
    __tablename__ = "alarm"
    __table_args__ = (UniqueConstraint("dedup_key", name="uq_alarm_dedup"),)
    id: str = Field(primary_key=True)
    kind: str = Field(index=True)
    severity: str
    state: str = Field(index=True)
    dedup_key: str
    stay_id: str | None = Field(default=None, index=True)
    room_id: str | None = None
    device_id: str | None = None
    details: dict[str, Any] = _json(dict)
    raised_at: datetime = _ts(nullable=False)
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = _ts(nullable=True)
    resolved_by: str | None = None
    resolved_at: datetime | None = _ts(nullable=True)
    note: str | None = None
    escalated_at: datetime | None = _ts(nullable=True)
    last_notified_at: datetime = _ts(nullable=False)
    repeat_count: int = 0
    occurrences: int = 1  # how often the device condition happened while this alarm was open (a flood = 1 alarm)


class AuditEntry(SQLModel, table=True):
    """Append-only, hash-chained. ``hash = sha256(prev_hash || canonical(entry))``; corrections point back."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_stay", "stay_id", "seq"),)
    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False)
    actor_id: str
    actor_role: str
    action: str
    entity: str
    entity_id: str
    stay_id: str | None = None
    before: dict[str, Any] | None = _json()
    after: dict[str, Any] | None = _json()
    corrects_seq: int | None = None
    prev_hash: str
    hash: str = Field(sa_column=Column(Text, nullable=False))


class OutboxEntry(SQLModel, table=True):
    __tablename__ = "outbox"
    seq: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True)
    type: str
    occurred_at: datetime = _ts(nullable=False)
    stay_id: str | None = None
    payload: dict[str, Any] = _json(dict)


class BenchRow(SQLModel, table=True):
    """The bare one-row insert the core benchmark compares a state transition against."""

    __tablename__ = "bench_row"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False)
    note: str


class KeyValue(SQLModel, table=True):
    """Small durable settings and cursors (e.g. the platform's acknowledged outbox sequence)."""

    __tablename__ = "kv"
    key: str = Field(primary_key=True)
    value: dict[str, Any] = _json(dict)


class Capture(SQLModel, table=True):
    """An accepted face image (人像采集): the JPEG lives on disk named by its sha256; the row holds its report."""

    __tablename__ = "capture"
    id: str = Field(primary_key=True)
    stay_id: str | None = Field(default=None, index=True)
    camera_id: str
    sha256: str = Field(index=True)
    path: str  # relative to the data directory
    report: dict[str, Any] = _json(dict)
    width: int = 0
    height: int = 0
    taken_at: datetime = _ts(nullable=False)
    taken_by: str


class Kiosk(SQLModel, table=True):
    """An enrolled kiosk or terminal: sign-in from it must present its device token (stored as a hash only)."""

    __tablename__ = "kiosk"
    id: str = Field(primary_key=True)
    name: str = ""
    token_hash: str
    enrolled_at: datetime = _ts(nullable=False)
    enrolled_by: str
    revoked: bool = False


class DailyReport(SQLModel, table=True):
    """运行状况日报: the analysis of one local day, generated at the site's hour and kept as it was then."""

    __tablename__ = "daily_report"
    day: date = Field(primary_key=True)
    generated_at: datetime = _ts(nullable=False)
    stats: dict[str, Any] = _json(dict)


class CustodyItem(SQLModel, table=True):
    """A piece of case property (涉案财物) or a case file (卷宗) under chain of custody; never a subject's own
    belongings (those are ``PropertyItem``)."""

    __tablename__ = "custody_item"
    id: str = Field(primary_key=True)
    kind: str = Field(index=True)  # case_property | case_file
    case_no: str = Field(index=True)
    stay_id: str | None = Field(default=None, index=True)
    description: str
    category: str
    quantity: float = 1
    unit: str | None = None
    amount: str | None = None  # cash: a decimal string, never a float
    currency: str | None = None
    photo_ids: list[str] = _json(list)
    seal_no: str | None = None
    status: str = Field(index=True)  # registered | in_store | out | closed
    holder_id: str | None = None  # the person holding it (None while in store)
    location_id: str | None = None  # the storage location while in store
    due_back_at: datetime | None = _ts(nullable=True)  # while out: the expected return
    transfer_due_at: datetime | None = _ts(nullable=True)  # seized here: must reach the property centre by then
    registered_at: datetime = _ts(nullable=False)
    registered_by: str
    version: int = 1


class CustodyMovement(SQLModel, table=True):
    """One handover of a custody item: giver and receiver, both authenticated, and how each proved it."""

    __tablename__ = "custody_movement"
    __table_args__ = (Index("ix_custody_movement_item", "item_id", "seq"),
                      UniqueConstraint("item_id", "seq", name="uq_custody_movement_seq"))
    id: str = Field(primary_key=True)
    item_id: str
    seq: int
    kind: str  # in | out | final
    purpose: str
    giver_id: str
    receiver_id: str
    giver_auth: str  # session | step_up
    receiver_auth: str
    location_id: str | None = None
    at: datetime = _ts(nullable=False)
    expected_return_at: datetime | None = _ts(nullable=True)
    note: str | None = None


class HealthRecord(SQLModel, table=True):
    """A health record of a stay: entry health check, medical check, five-item exam, drug test or breathalyser
    reading. ``data`` is the validated structured record; ``staff_ids`` are the staff who authenticated for it."""

    __tablename__ = "health_record"
    id: str = Field(primary_key=True)
    stay_id: str = Field(index=True)
    kind: str = Field(index=True)  # entry_check | medical_check | five_item_exam | drug_test | alcohol_reading
    data: dict[str, Any] = _json(dict)
    staff_ids: list[str] = _json(list)
    device_id: str | None = None
    recorded_at: datetime = _ts(nullable=False)
    recorded_by: str


class Approval(SQLModel, table=True):
    """A supervisor's approval as its own record: asked for by one person, granted or refused only by an
    authenticated supervisor, then used once by the step it names (see ``services/approvals.py``)."""

    __tablename__ = "approval"
    id: str = Field(primary_key=True)
    kind: str = Field(index=True)  # placement_override | extension | temporary_leave | …
    stay_id: str = Field(index=True)
    state: str = Field(index=True)  # pending | granted | refused | withdrawn | used (expired is derived)
    reason: str
    request: dict[str, Any] = _json(dict)  # what exactly is asked (room, new deadline, leave reason …)
    requested_by: str
    requested_at: datetime = _ts(nullable=False)
    expires_at: datetime = _ts(nullable=False)
    decided_by: str | None = None
    decided_at: datetime | None = _ts(nullable=True)
    decided_method: str | None = None  # session | card_pin | password
    decision_note: str | None = None
    level: str | None = None  # the approving level where the law names one (e.g. county)
    document_no: str | None = None  # the decision document's number, where the law asks for one
    used_at: datetime | None = _ts(nullable=True)
    used_by_action: str | None = None


class Notification(SQLModel, table=True):
    """Who was told of the measure (family / employer / guardian / consular), how, when and by whom; or why not,
    with the approval where the law allows not notifying (services/notifications.py)."""

    __tablename__ = "notification"
    id: str = Field(primary_key=True)
    stay_id: str = Field(index=True)
    party: str  # family | employer | guardian | consular
    name: str | None = None
    relation: str | None = None
    method: str | None = None  # phone | sms | in_person | letter | other
    contact: str | None = None
    told_at: datetime | None = _ts(nullable=True)
    not_notified_reason: str | None = None
    approval_id: str | None = None
    recorded_by: str
    recorded_at: datetime = _ts(nullable=False)
