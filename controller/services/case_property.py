"""Case property (涉案财物) and case files (卷宗) under chain of custody: registration, handovers, the trail, and
the timers (late return, late transfer to the property management centre).

Every movement is a handover between two people, both authenticated: the signed-in user is one of them, the
other proved himself by step-up at the same kiosk; the route does the proving and passes the parties in, so a
service call never trusts a name in a request. The evidence locker or file cabinet opens only after a handover is
committed (the route sends the command through the locker port).

Sources: 《公安机关涉案财物管理若干规定》(公通字〔2015〕21号) art. 3 (办案与管理相分离: a custodian is not the
case officer who seized it), art. 10 (to the custodian within 24 h), art. 11 (borrowing registered and returned
on time; both sign).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session, col, select

from ..auth import StepUpIn
from ..clock import utc
from ..domain.custody import CustodyStatus, Handover, Movement, chain_gaps, check_handover, movement_of
from ..domain.errors import NotFound, RuleViolation, invalid
from ..store.db import UnitOfWork
from ..store.tables import Alarm, Capture, CustodyItem, CustodyMovement, Staff, Stay
from . import alarms
from .commands import AwareDatetime, Id
from .common import staff
from .context import SiteContext

Kind = Literal["case_property", "case_file"]
PROPERTY_CATEGORIES = ("cash", "phone", "electronics", "vehicle", "document", "valuables", "weapon", "drug",
                       "tool", "other")
FILE_CATEGORIES = ("case_file",)
KIND_ZH = {"case_property": "涉案财物", "case_file": "卷宗"}


class _Cmd(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegisterItem(_Cmd):
    """An item seized for the case (or a case-file folder), recorded by the signed-in officer who holds it."""

    case_no: Annotated[str, Field(min_length=1, max_length=64)]
    stay_id: Id | None = None
    description: Annotated[str, Field(min_length=1, max_length=500)]
    category: Annotated[str, Field(min_length=1, max_length=32)]
    quantity: Annotated[float, Field(gt=0, le=1_000_000)] = 1
    unit: Annotated[str, Field(max_length=16)] | None = None
    amount: Annotated[str, Field(max_length=24, pattern=r"^[0-9]+(\.[0-9]{1,2})?$")] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    photo_ids: Annotated[list[Id], Field(max_length=20)] = []
    seal_no: Annotated[str, Field(max_length=64)] | None = None

    @model_validator(mode="after")
    def _cash(self) -> RegisterItem:
        if self.category == "cash" and (self.amount is None or self.currency is None):
            raise ValueError("cash needs amount and currency")
        return self


class HandoverIn(_Cmd):
    """One movement. ``step_up`` carries the credentials of whichever party is not the signed-in user."""

    purpose: Literal["storage", "check_in", "examination", "court", "interview", "check_out", "return_to_owner",
                     "destruction", "transfer_to_property_centre"]
    giver_id: Id
    receiver_id: Id
    location_id: Id | None = None
    expected_return_at: AwareDatetime | None = None
    note: Annotated[str, Field(max_length=500)] | None = None
    step_up: StepUpIn | None = None


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def load_item(session: Session, item_id: str, kind: str | None = None) -> CustodyItem:
    item = session.get(CustodyItem, item_id)
    if item is None or (kind is not None and item.kind != kind):
        raise NotFound(kind or "custody item", item_id, KIND_ZH.get(kind or "", "物品"))
    return item


def item_view(item: CustodyItem) -> dict[str, Any]:
    return {"id": item.id, "kind": item.kind, "case_no": item.case_no, "stay_id": item.stay_id,
            "description": item.description, "category": item.category, "quantity": item.quantity,
            "unit": item.unit, "amount": item.amount, "currency": item.currency, "photo_ids": list(item.photo_ids),
            "seal_no": item.seal_no, "status": item.status, "holder_id": item.holder_id,
            "location_id": item.location_id,
            "due_back_at": item.due_back_at and utc(item.due_back_at).isoformat(),
            "transfer_due_at": item.transfer_due_at and utc(item.transfer_due_at).isoformat(),
            "registered_at": utc(item.registered_at).isoformat(), "registered_by": item.registered_by,
            "version": item.version}


def movement_view(m: CustodyMovement) -> dict[str, Any]:
    return {"id": m.id, "seq": m.seq, "kind": m.kind, "purpose": m.purpose, "giver_id": m.giver_id,
            "receiver_id": m.receiver_id, "giver_auth": m.giver_auth, "receiver_auth": m.receiver_auth,
            "location_id": m.location_id, "at": utc(m.at).isoformat(),
            "expected_return_at": m.expected_return_at and utc(m.expected_return_at).isoformat(), "note": m.note}


def register(uow: UnitOfWork, ctx: SiteContext, kind: str, cmd: RegisterItem) -> dict[str, Any]:
    s = uow.session
    allowed = PROPERTY_CATEGORIES if kind == "case_property" else FILE_CATEGORIES
    if cmd.category not in allowed:
        raise invalid("UNKNOWN_CATEGORY", "物品类别不在可选范围内", f"unknown category {cmd.category}",
                      field="category", allowed=list(allowed))
    if cmd.amount is not None:
        try:
            Decimal(cmd.amount)
        except InvalidOperation:  # the pattern admits only decimals; this guards a future loosening
            raise invalid("INVALID_AMOUNT", "金额无效", "invalid amount", field="amount") from None
    if cmd.stay_id is not None:
        stay = s.get(Stay, cmd.stay_id)
        if stay is None:
            raise NotFound("stay", cmd.stay_id, "在区记录")
        if stay.case_no != cmd.case_no:
            raise invalid("CASE_MISMATCH", "案件编号与该在区记录的案件不符", "the case number differs from the stay's case",
                          field="case_no", stay_case_no=stay.case_no)
    for pid in cmd.photo_ids:
        if s.get(Capture, pid) is None:
            raise invalid("PHOTO_NOT_FOUND", "所选照片不存在，请重新拍摄或上传", f"no photo {pid}", field="photo_ids", photo_id=pid)
    hours = ctx.timing.case_property_transfer_hours
    item = CustodyItem(id=_new_id("cp" if kind == "case_property" else "cf"), kind=kind, case_no=cmd.case_no,
                       stay_id=cmd.stay_id, description=cmd.description, category=cmd.category,
                       quantity=cmd.quantity, unit=cmd.unit, amount=cmd.amount, currency=cmd.currency,
                       photo_ids=list(cmd.photo_ids), seal_no=cmd.seal_no, status=CustodyStatus.REGISTERED.value,
                       holder_id=uow.actor.id, registered_at=uow.now, registered_by=uow.actor.id,
                       # art. 10: property seized here must reach the property custodian within the site's time
                       transfer_due_at=uow.now + timedelta(hours=hours) if kind == "case_property" else None)
    s.add(item)
    uow.record(f"{kind}_registered", entity=kind, entity_id=item.id, stay_id=item.stay_id, after=item_view(item))
    return item_view(item)


def parties_needing_step_up(actor_id: str, cmd: HandoverIn) -> list[str]:
    """Which side ("giver" / "receiver") is not the signed-in user and so must prove himself by step-up."""
    return [side for side, sid in (("giver", cmd.giver_id), ("receiver", cmd.receiver_id)) if sid != actor_id]


def step_up_role(roles: list[str]) -> str:
    """The role a counterpart proves himself in: the store's side as custody staff, anyone else as what he is.
    The service still checks each side's role for the movement (``_check_custodian``)."""
    return next((r for r in ("custody_staff", "case_officer", "supervisor") if r in roles), "custody_staff")


def location_locker(ctx: SiteContext, location_id: str | None) -> str | None:
    loc = ctx.config.storage(location_id) if location_id else None
    return loc.locker_id if loc is not None else None


def ensure_not_custody_locker(ctx: SiteContext, locker_id: str) -> None:
    """An evidence locker or file cabinet opens only for a recorded handover, never on a bare "open" order."""
    loc = next((lo for lo in ctx.config.storage_locations if lo.locker_id == locker_id), None)
    if loc is not None:
        raise RuleViolation("LOCKER_NEEDS_HANDOVER", "涉案财物柜/卷宗柜仅在登记交接后开启",
                            "this evidence locker or file cabinet opens only for a recorded handover",
                            locker_id=locker_id, location_id=loc.id)


def handover(uow: UnitOfWork, ctx: SiteContext, kind: str, item_id: str, cmd: HandoverIn,
             auth: dict[str, str]) -> dict[str, Any]:
    """Records one movement. ``auth`` maps "giver"/"receiver" to how each proved himself ("session" for the
    signed-in user, "card_pin"/"password" for step-up); the route fills it only after checking the proof."""
    s = uow.session
    item = load_item(s, item_id, kind)
    for side in ("giver", "receiver"):
        if side not in auth:
            raise RuleViolation("HANDOVER_NOT_AUTHENTICATED", "交接双方均须本人验证身份",
                                f"the {side} has not proved who he is", party=side)
    giver = staff(s, cmd.giver_id, field="giver_id")
    receiver = staff(s, cmd.receiver_id, field="receiver_id")
    status = CustodyStatus(item.status)
    after = check_handover(status, item.holder_id,
                           Handover(cmd.purpose, giver.id, receiver.id, cmd.expected_return_at), uow.now)
    move = movement_of(cmd.purpose)
    location_id = item.location_id
    if move is Movement.IN:
        loc = ctx.config.storage(cmd.location_id) if cmd.location_id else None
        if loc is None:
            raise invalid("LOCATION_REQUIRED", "入库须选择本中心配置的保管位置", "an in movement names a configured location",
                          field="location_id", location_id=cmd.location_id)
        if loc.holds != kind:
            raise invalid("LOCATION_WRONG_KIND", "该保管位置不存放此类物品", "this location does not hold this kind",
                          field="location_id")
        _check_custodian(s, receiver, item, "receiver_id")
        taken = s.exec(select(CustodyItem.id).where(CustodyItem.location_id == loc.id,
                                                    CustodyItem.status == CustodyStatus.IN_STORE.value,
                                                    CustodyItem.id != item.id)).first()
        if loc.locker_id is not None and taken is not None:
            raise RuleViolation("LOCKER_OCCUPIED", "该柜格已存放其他物品", "the compartment holds another item",
                                location_id=loc.id)
        location_id = loc.id
    elif status is CustodyStatus.IN_STORE:
        _check_custodian(s, giver, item, "giver_id")  # only the store's custodian hands out of the store
    seq = len(s.exec(select(CustodyMovement.id).where(CustodyMovement.item_id == item.id)).all()) + 1
    m = CustodyMovement(id=_new_id("mv"), item_id=item.id, seq=seq, kind=move.value, purpose=cmd.purpose,
                        giver_id=giver.id, receiver_id=receiver.id, giver_auth=auth["giver"],
                        receiver_auth=auth["receiver"], location_id=location_id, at=uow.now,
                        expected_return_at=cmd.expected_return_at, note=cmd.note)
    before = item_view(item)
    item.status = after.value
    item.holder_id = None if after is CustodyStatus.IN_STORE else receiver.id
    item.location_id = location_id if after is CustodyStatus.IN_STORE else None
    item.due_back_at = cmd.expected_return_at if move is Movement.OUT else None
    if cmd.purpose == "transfer_to_property_centre" or after is CustodyStatus.CLOSED:
        item.transfer_due_at = None
    item.version += 1
    s.add(m)
    s.add(item)
    uow.record(f"{kind}_handover", entity=kind, entity_id=item.id, stay_id=item.stay_id, before=before,
               after={**item_view(item), "movement": movement_view(m)})
    if move is not Movement.OUT:
        _resolve(uow, item.id, "custody_overdue", "已归还 / returned")
    if after is CustodyStatus.CLOSED:
        _resolve(uow, item.id, "custody_transfer_late", "已处置 / disposed")
    # the compartment to open: where it goes in, or where it came out of
    opens = location_locker(ctx, location_id if move is Movement.IN else before["location_id"])
    return {**item_view(item), "movement": movement_view(m), "opens_locker_id": opens}


def _check_custodian(s: Session, person: Staff, item: CustodyItem, field: str) -> None:
    # art. 3 (办案与管理相分离): the store's side of a handover is custody staff, never an officer of the case
    if "custody_staff" not in person.roles:
        raise RuleViolation("CUSTODIAN_REQUIRED", "保管一方须为涉案财物/卷宗管理人员", "the store's side must be custody staff",
                            status=422, field=field)
    if item.stay_id is not None:
        stay = s.get(Stay, item.stay_id)
        if stay is not None and person.id in (stay.case_officer_ids or []):
            raise RuleViolation("CUSTODIAN_IS_CASE_OFFICER", "保管人不能是本案办案民警",
                                "the custodian may not be a case officer of this case", field=field)


def _resolve(uow: UnitOfWork, item_id: str, kind: str, note: str) -> None:
    rows = uow.session.exec(select(Alarm).where(Alarm.kind == kind, Alarm.state != "resolved",
                                                col(Alarm.dedup_key).startswith(f"{kind}:{item_id}:"))).all()
    for a in rows:
        before = a.state
        a.state, a.resolved_by, a.resolved_at, a.note = "resolved", uow.actor.id, uow.now, note
        uow.session.add(a)
        uow.record("alarm_resolved", entity="alarm", entity_id=a.id, stay_id=a.stay_id, before={"state": before},
                   after=alarms.alarm_view(a))


def trail(session: Session, kind: str, item_id: str) -> dict[str, Any]:
    """The chain of custody of one item: the item, every movement in order with names, and any gap found."""
    item = load_item(session, item_id, kind)
    moves = list(session.exec(select(CustodyMovement).where(CustodyMovement.item_id == item.id)
                              .order_by(col(CustodyMovement.seq))).all())
    ids = {item.registered_by, *(m.giver_id for m in moves), *(m.receiver_id for m in moves)}
    names = {p.id: p.name for p in session.exec(select(Staff).where(col(Staff.id).in_(ids))).all()}
    chain = [("registered", item.registered_by, item.registered_by)] + [(m.purpose, m.giver_id, m.receiver_id)
                                                                         for m in moves]
    gaps = chain_gaps([(p, g, r) for p, g, r in chain[1:]]) if moves else []
    if moves and moves[0].giver_id != item.registered_by:
        gaps.insert(0, f"0: first giver {moves[0].giver_id} is not the registering officer {item.registered_by}")
    return {"item": item_view(item), "registered": {"at": utc(item.registered_at).isoformat(),
                                                    "by": item.registered_by},
            "movements": [movement_view(m) for m in moves], "staff_names": names, "gaps": gaps}


def list_items(session: Session, kind: str, case_no: str | None, status: str | None) -> list[dict[str, Any]]:
    q = select(CustodyItem).where(CustodyItem.kind == kind)
    if case_no:
        q = q.where(CustodyItem.case_no == case_no)
    if status:
        q = q.where(CustodyItem.status == status)
    return [item_view(i) for i in session.exec(q.order_by(col(CustodyItem.registered_at).desc()).limit(500)).all()]


def sweep(uow: UnitOfWork, ctx: SiteContext) -> int:
    """Raises ``custody_overdue`` for an item out past its expected return (art. 11) and ``custody_transfer_late``
    for property seized here not handed on within the site's time (art. 10)."""
    now, s, n = uow.now, uow.session, 0
    for item in s.exec(select(CustodyItem).where(CustodyItem.status == CustodyStatus.OUT.value,
                                                 col(CustodyItem.due_back_at) <= now)).all():
        assert item.due_back_at is not None
        due = utc(item.due_back_at).isoformat()
        if alarms.raise_alarm(uow, "custody_overdue", f"custody_overdue:{item.id}:{due}", stay_id=item.stay_id,
                              item_id=item.id, item_kind=item.kind, holder_id=item.holder_id, due_back_at=due,
                              description=item.description):
            n += 1
    for item in s.exec(select(CustodyItem).where(CustodyItem.status != CustodyStatus.CLOSED.value,
                                                 col(CustodyItem.transfer_due_at) <= now)).all():
        assert item.transfer_due_at is not None
        due = utc(item.transfer_due_at).isoformat()
        if alarms.raise_alarm(uow, "custody_transfer_late", f"custody_transfer_late:{item.id}:{due}",
                              stay_id=item.stay_id, item_id=item.id, transfer_due_at=due,
                              description=item.description):
            n += 1
    return n
