"""The commands services accept: pydantic models that are also the API's request bodies (docs/API.md names).

Unknown fields are refused (``extra="forbid"``) so a misspelt field never silently does nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from ..domain.identity import OFFENCE_CATEGORIES
from ..domain.rules import LEGAL_BASES

# The largest sequence number or counter a request may name: far beyond any real one, and inside SQLite's 64-bit
# integers (2**63 overflowed the driver: a 500) and JavaScript's exact integers.
MAX_SEQ = 2**53 - 1


def _aware(v: datetime | None) -> datetime | None:
    if v is not None and v.tzinfo is None:
        raise ValueError("time needs an offset, e.g. 2026-11-22T08:00:00+08:00")
    return v


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class _Cmd(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SubjectIn(_Cmd):
    name: Annotated[str, Field(min_length=1, max_length=60)]
    id_type: Literal["resident_id", "passport", "other"]
    id_number: Annotated[str, Field(min_length=3, max_length=40)]
    sex: Literal["male", "female"]
    birth_date: date
    nationality: Annotated[str, Field(min_length=2, max_length=40)] = "CHN"
    ethnicity: Annotated[str, Field(max_length=40)] | None = None
    address: Annotated[str, Field(max_length=200)] | None = None


def normalise_case_no(value: str) -> str:
    """One spelling per case number, so same-case separation (rule 5) never depends on two officers typing the
    same string: full-width characters as half-width (NFKC), no surrounding or repeated spaces, Latin letters in
    upper case ("ｂ－２０２６－００１ " and "B-2026-001" are one case)."""
    import unicodedata

    text = " ".join(unicodedata.normalize("NFKC", value).split())
    return "".join(ch.upper() if ch.isascii() else ch for ch in text)


class CaseIn(_Cmd):
    case_no: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(normalise_case_no)]
    case_kind: Literal["criminal", "administrative"]
    summary: Annotated[str, Field(max_length=2000)] | None = None
    # Criminal Law art. 17: for a suspect under 16 the listed offence, and for one aged 12-13 the Supreme People's
    # Procuratorate's approval to prosecute (its document number); see controller/domain/identity.py
    offence_category: Literal[OFFENCE_CATEGORIES] | None = None  # type: ignore[valid-type]
    spp_approval_no: Annotated[str, Field(min_length=2, max_length=64)] | None = None


class Flags(_Cmd):
    intoxicated: bool = False
    injured: bool = False
    ill: bool = False
    pregnant: bool = False
    needs_interpreter: bool = False
    disabled: bool = False


LegalBasis = Literal[LEGAL_BASES]  # type: ignore[valid-type]


class RegisterStay(_Cmd):
    subject: SubjectIn
    role: Literal["suspect", "witness", "victim"]
    case: CaseIn
    legal_basis: LegalBasis
    basis_started_at: AwareDatetime | None = None
    case_officer_ids: Annotated[list[Id], Field(max_length=10)]
    wristband_id: Id | None = None
    flags: Flags = Flags()
    identity_source: Literal["id_card", "manual"] = "manual"
    manual_entry_reason: Annotated[str, Field(max_length=200)] | None = None
    id_reader_id: Id | None = None  # the reader the card was read on (checked against what it read)
    card_problem_reason: Annotated[str, Field(min_length=2, max_length=200)] | None = None
    approval_id: Id | None = None  # a repeated summons: the granted approval (services/registration.py)


class Findings(_Cmd):
    injuries: Annotated[str, Field(max_length=1000)] | None = None
    contraband: Annotated[str, Field(max_length=1000)] | None = None
    self_reported_illness: Annotated[str, Field(max_length=1000)] | None = None


class SearchRecord(_Cmd):
    checker_id: Id
    witness_id: Id
    gate_result: Literal["pass", "alarm", "not_used"]
    gate_zones: list[Annotated[int, Field(ge=1, le=32)]] | None = None
    gate_device_id: Id | None = None  # with gate_counter: the gate transit this record is about
    gate_counter: Annotated[int, Field(ge=0, le=MAX_SEQ)] | None = None
    handheld_result: Literal["clear", "found", "not_used"] | None = None
    findings: Findings = Findings()
    room_id: Id | None = None


class CollectionRecord(_Cmd):
    capture_id: Id | None = None
    fingerprints_taken: bool
    dna_taken: bool
    notes: Annotated[str, Field(max_length=1000)] | None = None


class ItemIn(_Cmd):
    description: Annotated[str, Field(min_length=1, max_length=200)]
    quantity: Annotated[int, Field(ge=1, le=10000)] = 1
    category: Literal["personal", "valuable", "cash", "phone", "dangerous", "case_related"]
    photo_id: Id | None = None


class PropertyRecord(_Cmd):
    custodian_id: Id
    locker_id: Id
    items: Annotated[list[ItemIn], Field(max_length=200)]
    signature_id: Id | None = None  # the subject signs the property list at intake (POST /ui/signatures)


class _NeedsApproval(_Cmd):
    """A step a supervisor must allow: it names a granted approval (``approval_id``), never a person. A body that
    instead names someone (an unknown ``…_id`` field, or an object holding one) is refused as
    ``APPROVAL_REQUIRED`` (the error handler maps this error type), not as a mere unknown field."""

    approval_id: Id | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_named_authority(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("approval_id") is None:
            unknown = [k for k in data if k not in cls.model_fields]
            if any(str(k).endswith("_id") or (isinstance(data[k], dict) and any(str(x).endswith("_id")
                                                                                for x in data[k]))
                   for k in unknown):
                raise PydanticCustomError("approval_required",
                                          "name a granted approval (approval_id), not a person")
        return data


class Placement(_NeedsApproval):
    """A placement that breaks a separation rule needs a granted ``placement_override`` approval for the room."""

    room_id: Id
    # an injured or ill subject with no medical check yet needs a granted "placement_without_medical_check"
    medical_approval_id: Id | None = None


class AppropriateAdult(_Cmd):
    name: Annotated[str, Field(min_length=1, max_length=60)]
    relation: Annotated[str, Field(min_length=1, max_length=40)]  # one of rules.ADULT_RELATIONS (checked there)
    id_number: Annotated[str, Field(max_length=18)] | None = None
    contact: Annotated[str, Field(max_length=40)] | None = None


class StartInterview(_Cmd):
    room_id: Id
    officer_ids: Annotated[list[Id], Field(max_length=10)]
    appropriate_adult: AppropriateAdult | None = None
    interpreter: Annotated[str, Field(max_length=60)] | None = None


class InterviewNote(_Cmd):
    reason: Annotated[str, Field(max_length=500)] | None = None


class StartActivity(_Cmd):
    kind: Literal["drug_test", "alcohol_test", "medical_check", "identification", "lawyer_meeting", "remote_meeting"]
    performed_by_id: Id
    room_id: Id | None = None


class EndActivity(_Cmd):
    result: Annotated[str, Field(max_length=1000)] | None = None


class StartLeave(_NeedsApproval):
    reason: Literal["scene_identification", "recover_goods", "hospital", "other"]
    escort_ids: Annotated[list[Id], Field(min_length=1, max_length=10)]
    note: Annotated[str, Field(max_length=500)] | None = None


class Empty(_Cmd):
    pass


class Extension(_NeedsApproval):
    until: AwareDatetime
    reason: Annotated[str, Field(min_length=2, max_length=500)]
    ground: str | None = None


class StartExit(_Cmd):
    disposition: Literal["released", "to_detention_centre", "to_detention_house", "bail",
                         "residential_surveillance", "handed_over", "to_hospital", "to_rehab_centre"]


class ExitSearch(_Cmd):
    checker_id: Id
    findings: Findings = Findings()


class Receiver(_Cmd):
    name: Annotated[str, Field(min_length=1, max_length=60)]
    id_number: Annotated[str, Field(min_length=3, max_length=40)]


class ItemDisposition(_Cmd):
    item_id: Id
    disposition: Literal["returned", "handed_to_family", "seized", "travels_with_subject", "destroyed"]
    receiver: Receiver | None = None
    document_no: Annotated[str, Field(max_length=64)] | None = None  # seizure document / destruction record number
    approval_id: Id | None = None  # a dangerous or case-related item returned only with a granted ``item_return``


class CompleteExit(_Cmd):
    exit_search: ExitSearch
    items: Annotated[list[ItemDisposition], Field(max_length=200)] = []
    signature_id: Id | None = None


class WelfareCheckIn(_Cmd):
    observation: Literal["ok", "concern"]
    note: Annotated[str, Field(max_length=1000)] | None = None


class CareIn(_Cmd):
    kind: Literal["meal", "water", "rest", "medication", "toilet", "phone_call"]
    note: Annotated[str, Field(max_length=500)] | None = None


class OpenLocker(_Cmd):
    reason: Annotated[str, Field(min_length=2, max_length=200)]


class ResolveAlarm(_Cmd):
    note: Annotated[str, Field(min_length=1, max_length=1000)]


class Correction(_Cmd):
    """Rule 10: a correction is a new entry pointing at the entry it corrects; the original stays."""

    corrects_seq: Annotated[int, Field(ge=1, le=MAX_SEQ)]
    field: Literal["subject.name", "subject.address", "subject.ethnicity", "case.summary", "case.case_no",
                   "flags", "search.findings", "collection.notes", "subject.sex", "subject.birth_date"]
    value: str | dict[str, Any] | None
    reason: Annotated[str, Field(min_length=2, max_length=500)]
