"""A vulnerable subject's safeguards before an interview (issue 13): the minor's appropriate adult recorded on the
stay and proven present in the interview room, a female minor's female staff member proven by her own credentials,
the interpreter, and an intoxicated subject's breath test (rules in ``domain/safeguards.py``).

Presence of the appropriate adult is proven one of two ways, per interview room: where the room has a wristband
reader, the visitor tag issued to the adult must have been reported in that room within the site's window
(``safeguards.adult_presence_window_s``); where it has none, the signed-in officer conducting the interview confirms
at the room's terminal that the adult is there (the confirmation is his, recorded under his name).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from ..clock import utc
from ..domain import safeguards
from ..domain.errors import NotFound, RuleViolation, invalid
from ..domain.rules import check_vulnerable
from ..domain.stay import StayState, ensure_open
from ..store.db import UnitOfWork
from ..store.tables import AppropriateAdultRecord, AuditEntry, HealthRecord, Staff, Stay
from .common import OPEN, load_stay
from .context import SiteContext
from .sightings import TagSightings

TagId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]


class AdultIn(BaseModel):
    """``POST /api/v1/stays/{id}/appropriate-adult``: the adult who came, and the visitor tag handed to them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Annotated[str, Field(min_length=1, max_length=60)]
    relation: Annotated[str, Field(min_length=1, max_length=40)]  # one of rules.ADULT_RELATIONS
    id_number: Annotated[str, Field(min_length=1, max_length=18)]
    contact: Annotated[str, Field(min_length=1, max_length=40)]
    tag_id: TagId | None = None


def mask(n: str | None) -> str | None:
    """An identity number as shown and audited: never whole."""
    return f"{n[:3]}***********{n[-4:]}" if n else None


def adult_view(a: AppropriateAdultRecord) -> dict[str, Any]:
    return {"id": a.id, "stay_id": a.stay_id, "name": a.name, "relation": a.relation, "id_number": mask(a.id_number),
            "contact": a.contact, "tag_id": a.tag_id, "arrived_at": utc(a.arrived_at).isoformat(),
            "left_at": a.left_at and utc(a.left_at).isoformat(), "recorded_by": a.recorded_by}


def has_wristbands(ctx: SiteContext, room_id: str) -> bool:
    """The room has a wristband reader: presence there is proven by tags, not by a person's word."""
    return any(d.kind == "wristband_reader" and d.room_id == room_id for d in ctx.config.devices)


def site_has_wristbands(ctx: SiteContext) -> bool:
    return any(d.kind == "wristband_reader" for d in ctx.config.devices)


def current_adult(session: Session, stay_id: str) -> AppropriateAdultRecord | None:
    return session.exec(select(AppropriateAdultRecord).where(AppropriateAdultRecord.stay_id == stay_id,
                                                             col(AppropriateAdultRecord.left_at).is_(None))
                        .order_by(col(AppropriateAdultRecord.arrived_at).desc())).first()


def _tag_in_use(session: Session, tag_id: str) -> bool:
    open_stays = select(Stay.id).where(Stay.wristband_id == tag_id, col(Stay.state).in_(OPEN))
    if session.exec(open_stays).first() is not None:
        return True
    if session.exec(select(Staff.id).where(Staff.tag_id == tag_id)).first() is not None:
        return True
    for a in session.exec(select(AppropriateAdultRecord).where(AppropriateAdultRecord.tag_id == tag_id,
                                                               col(AppropriateAdultRecord.left_at).is_(None))).all():
        stay = session.get(Stay, a.stay_id)
        if stay is not None and stay.state in OPEN:
            return True
    return False


def record_adult(uow: UnitOfWork, ctx: SiteContext, stay_id: str, cmd: AdultIn) -> dict[str, Any]:
    """Records the appropriate adult who came for this stay and issues them the visitor tag (where the site has
    wristbands): a visitor tag bound to nobody else, returned when they leave or the stay exits."""
    s = uow.session
    stay = load_stay(s, stay_id)
    ensure_open(StayState(stay.state))
    # the same identification rule as at an interview's start (《刑事诉讼法》第281条): name, relation from the
    # list, a valid identity number, a contact
    check_vulnerable(True, "", False, cmd.model_dump(exclude={"tag_id"}), (), None)
    if current_adult(s, stay.id) is not None:
        raise RuleViolation("APPROPRIATE_ADULT_ALREADY_RECORDED", "已登记在场的合适成年人，请先登记其离开",
                            "an appropriate adult is already recorded: record their leaving first")
    if site_has_wristbands(ctx) and cmd.tag_id is None:
        raise invalid("VISITOR_TAG_REQUIRED", "本中心使用手环定位，须为合适成年人发放访客手环并填写手环编号",
                      "this site has wristbands: issue the adult a visitor tag and give its number", field="tag_id")
    if cmd.tag_id is not None and _tag_in_use(s, cmd.tag_id):
        raise RuleViolation("VISITOR_TAG_IN_USE", "该手环已绑定其他人员", "the tag is bound to someone else",
                            field="tag_id")
    a = AppropriateAdultRecord(id=f"aa-{uuid.uuid4().hex[:12]}", stay_id=stay.id, name=cmd.name,
                               relation=cmd.relation, id_number=cmd.id_number.upper(), contact=cmd.contact,
                               tag_id=cmd.tag_id, arrived_at=uow.now, recorded_by=uow.actor.id)
    s.add(a)
    view = adult_view(a)
    uow.record("appropriate_adult_recorded", entity="appropriate_adult", entity_id=a.id, stay_id=stay.id, after=view)
    return view


def adult_left(uow: UnitOfWork, adult_id: str) -> dict[str, Any]:
    a = uow.session.get(AppropriateAdultRecord, adult_id)
    if a is None:
        raise NotFound("appropriate adult", adult_id, "合适成年人记录")
    if a.left_at is not None:
        raise RuleViolation("APPROPRIATE_ADULT_LEFT", "该合适成年人已登记离开", "the appropriate adult has already left")
    a.left_at = uow.now
    uow.session.add(a)
    view = adult_view(a)
    uow.record("appropriate_adult_left", entity="appropriate_adult", entity_id=a.id, stay_id=a.stay_id, after=view)
    return view


def list_adults(session: Session, stay_id: str) -> list[dict[str, Any]]:
    load_stay(session, stay_id)
    rows = session.exec(select(AppropriateAdultRecord).where(AppropriateAdultRecord.stay_id == stay_id)
                        .order_by(col(AppropriateAdultRecord.arrived_at))).all()
    return [adult_view(a) for a in rows]


def _flagged_at(session: Session, stay: Stay) -> datetime:
    """When the intoxicated flag was last set: a correction that set it, else the registration."""
    rows = session.exec(select(AuditEntry).where(AuditEntry.stay_id == stay.id, AuditEntry.action == "correction")
                        .order_by(col(AuditEntry.seq).desc())).all()
    for e in rows:
        flags = (e.after or {}).get("flags")
        if isinstance(flags, dict) and flags.get("intoxicated"):
            return utc(e.at)
    return utc(stay.entered_at)


def latest_breath(session: Session, stay: Stay) -> dict[str, Any] | None:
    """The latest breathalyser reading stored on the stay after the intoxicated flag was set, or None."""
    since = _flagged_at(session, stay)
    rows = session.exec(select(HealthRecord).where(HealthRecord.stay_id == stay.id,
                                                   HealthRecord.kind == "alcohol_reading")
                        .order_by(col(HealthRecord.recorded_at).desc())).all()
    for r in rows:
        if utc(r.recorded_at) >= since and isinstance(r.data.get("value_mg_100ml"), (int, float)):
            return {"record_id": r.id, "value_mg_100ml": float(r.data["value_mg_100ml"]),
                    "recorded_at": utc(r.recorded_at).isoformat()}
        if utc(r.recorded_at) < since:
            break
    return None


def female_proven(session: Session, actor_id: str, stepped_up: str | None) -> str | None:
    """The staff member who proved she is a female staff member present: the signed-in user (her own session) or
    the one who stepped up at the terminal with her own card + PIN or password; her sex is her staff record's."""
    for sid in (actor_id, stepped_up):
        person = session.get(Staff, sid) if sid else None
        if person is not None and person.active and person.sex == "female":
            return person.id
    return None


def facts(session: Session, ctx: SiteContext, sightings: TagSightings, stay: Stay, room_id: str, now: datetime,
          *, actor_id: str, officer_ids: list[str], inline_adult: dict[str, Any] | None, confirmed: bool,
          interpreter: str | None, female_staff_id: str | None) -> tuple[safeguards.Facts, dict[str, Any]]:
    """The facts for ``domain.safeguards`` and how each was established (kept with the interview)."""
    policy = ctx.config.safeguards
    recorded = current_adult(session, stay.id)
    mode = "tag" if has_wristbands(ctx, room_id) else "officer_confirmed"
    present = False
    if mode == "tag":
        present = bool(recorded and recorded.tag_id and sightings.seen_in(
            recorded.tag_id, room_id, now, timedelta(seconds=policy.adult_presence_window_s)))
    else:
        # the confirmation counts only from an officer conducting this interview, signed in at the terminal
        present = bool(confirmed and (recorded or inline_adult) and actor_id in officer_ids)
    breath = latest_breath(session, stay)
    flags = stay.flags or {}
    f = safeguards.Facts(minor=stay.is_minor, sex=stay.sex, needs_interpreter=bool(flags.get("needs_interpreter")),
                         intoxicated=bool(flags.get("intoxicated")), adult_identified=bool(recorded or inline_adult),
                         adult_present=present, adult_presence=mode, female_staff_proven=female_staff_id is not None,
                         interpreter_recorded=bool((interpreter or "").strip()), breath_policy=policy.breath_test,
                         breath_threshold=policy.breath_threshold_mg_100ml,
                         breath_latest=breath["value_mg_100ml"] if breath else None)
    how: dict[str, Any] = {}
    if stay.is_minor:
        how["appropriate_adult"] = {"adult_id": recorded.id if recorded else None, "presence": mode,
                                    **({"tag_id": recorded.tag_id} if mode == "tag" and recorded else {}),
                                    **({"confirmed_by": actor_id} if mode == "officer_confirmed" else {})}
    if female_staff_id is not None:
        how["female_staff_id"] = female_staff_id
    if f.intoxicated and breath is not None:
        how["breath"] = breath
    return f, how


def requirements(session: Session, ctx: SiteContext, sightings: TagSightings, stay_id: str, room_id: str,
                 now: datetime, actor_id: str) -> dict[str, Any]:
    """What the interview terminal shows before the start: each safeguard, whether it is needed and met now.
    What only the start itself can prove (the officer's confirmation, a step-up, the interpreter typed in) is
    reported unmet here, with how it is met."""
    stay = load_stay(session, stay_id)
    ctx.room(room_id)
    f, _ = facts(session, ctx, sightings, stay, room_id, now, actor_id=actor_id, officer_ids=[], inline_adult=None,
                 confirmed=False, interpreter=None, female_staff_id=female_proven(session, actor_id, None))
    recorded = current_adult(session, stay.id)
    breath = latest_breath(session, stay)
    return {"stay_id": stay.id, "room_id": room_id, "adult_presence": f.adult_presence,
            "appropriate_adult": adult_view(recorded) if recorded else None,
            "breath": breath, "breath_threshold_mg_100ml": f.breath_threshold,
            "requirements": [s.as_dict() for s in safeguards.assess(f)]}
