"""Staff accounts, roles, password hashing (argon2), sign-in tokens with idle and absolute expiry;
enrolled kiosks (a device token, stored as a hash), and staff card + PIN sign-in (card id as a keyed hash, PIN
as argon2). Only hashes are stored. Repeated failures slow the failing source down (``api/ratelimit.py``), they
never lock the account: a hard lock is a door anyone can shut on a colleague."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session, select

from .clock import utc
from .domain.actor import Actor
from .domain.errors import RuleViolation
from .passwords import check_password, check_pin
from .store.db import UnitOfWork
from .store.tables import AuthSession, Kiosk, Staff

ROLES = ("custody_staff", "case_officer", "supervisor", "admin", "platform")
_hasher = PasswordHasher()
_dummy: list[str] = []


def _dummy_hash() -> str:
    """A hash to verify against for an unknown person (same cost either way), made on first use, not at import."""
    if not _dummy:
        _dummy.append(_hasher.hash("not-a-password"))
    return _dummy[0]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_staff(uow: UnitOfWork, *, police_no: str, name: str, sex: str, roles: list[str], password: str,
                 staff_id: str | None = None) -> Staff:
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise RuleViolation("INVALID_ROLE", "角色无效", f"invalid roles: {bad or roles}", status=422)
    if sex not in ("male", "female"):
        raise RuleViolation("INVALID_VALUE", "性别无效", "sex must be male or female", status=422)
    check_password(password, police_no)
    if uow.session.exec(select(Staff.id).where(Staff.police_no == police_no)).first():
        raise RuleViolation("STAFF_EXISTS", "警号已存在", "police number already registered")
    person = Staff(id=staff_id or f"staff-{uuid.uuid4().hex[:8]}", police_no=police_no, name=name, sex=sex,
                   roles=list(roles), password_hash=hash_password(password), created_at=uow.now)
    uow.session.add(person)
    uow.record("staff_created", entity="staff", entity_id=person.id,
               after={"police_no": police_no, "name": name, "sex": sex, "roles": roles})
    return person


def _revoke_sessions(uow: UnitOfWork, which: Any) -> None:
    """Ends every session matching ``which`` (a staff member disabled, a kiosk revoked)."""
    for sess in uow.session.exec(select(AuthSession).where(which)).all():
        sess.revoked = True
        uow.session.add(sess)


def set_active(uow: UnitOfWork, staff_id: str, active: bool) -> Staff:
    person = uow.session.get(Staff, staff_id)
    if person is None:
        raise RuleViolation("NOT_FOUND", "工作人员不存在", "staff not found", status=404)
    person.active = active
    uow.session.add(person)
    _revoke_sessions(uow, AuthSession.staff_id == staff_id)
    uow.record("staff_enabled" if active else "staff_disabled", entity="staff", entity_id=staff_id,
               after={"active": active})
    return person


def staff_public(p: Staff) -> dict[str, Any]:
    return {"id": p.id, "police_no": p.police_no, "name": p.name, "sex": p.sex, "roles": p.roles,
            "active": p.active}


@dataclass
class LoginResult:
    token: str | None
    expires_at: datetime | None
    staff: dict[str, Any] | None
    error: RuleViolation | None = None


def card_hash(card_id: str) -> str:
    """The stored form of a staff card's id: a hash, so the table never holds the card number itself."""
    return hashlib.sha256(b"hcc-staff-card:" + card_id.strip().upper().encode()).hexdigest()


def set_card(uow: UnitOfWork, staff_id: str, card_id: str, pin: str) -> Staff:
    """Binds a staff card and PIN (4-8 digits) to a staff member; stores their hashes only."""
    check_pin(pin)
    if len(card_id.strip()) < 4:
        raise RuleViolation("INVALID_VALUE", "卡号无效", "card id too short", status=422)
    person = uow.session.get(Staff, staff_id)
    if person is None:
        raise RuleViolation("NOT_FOUND", "工作人员不存在", "staff not found", status=404)
    h = card_hash(card_id)
    other = uow.session.exec(select(Staff.id).where(Staff.card_id_hash == h, Staff.id != staff_id)).first()
    if other:
        raise RuleViolation("CARD_IN_USE", "该卡已绑定其他人员", "the card belongs to someone else")
    person.card_id_hash, person.pin_hash = h, _hasher.hash(pin)
    uow.session.add(person)
    uow.record("staff_card_set", entity="staff", entity_id=staff_id, after={"card": "set"}, live=False)
    return person


def enrol_kiosk(uow: UnitOfWork, kiosk_id: str, name: str = "") -> str:
    """Enrols (or re-enrols, replacing the token of) a kiosk or terminal; returns its token, shown once."""
    token = secrets.token_urlsafe(32)
    row = uow.session.get(Kiosk, kiosk_id)
    if row is None:
        row = Kiosk(id=kiosk_id, name=name, token_hash=token_hash(token), enrolled_at=uow.now,
                    enrolled_by=uow.actor.id)
    else:
        row.token_hash, row.revoked, row.enrolled_at = token_hash(token), False, uow.now
        row.name = name or row.name
    uow.session.add(row)
    uow.record("kiosk_enrolled", entity="kiosk", entity_id=kiosk_id, after={"name": row.name})
    return token


def revoke_kiosk(uow: UnitOfWork, kiosk_id: str) -> None:
    row = uow.session.get(Kiosk, kiosk_id)
    if row is None:
        raise RuleViolation("NOT_FOUND", "终端不存在", "kiosk not enrolled", status=404)
    row.revoked = True
    uow.session.add(row)
    _revoke_sessions(uow, AuthSession.kiosk_id == kiosk_id)
    uow.record("kiosk_revoked", entity="kiosk", entity_id=kiosk_id, after={"revoked": True})


def check_kiosk(session: Session, kiosk_id: str | None, kiosk_token: str | None, required: bool) -> None:
    """A kiosk sign-in must come from an enrolled kiosk presenting its token. With enrolment optional (demo
    sites only) an unknown kiosk id passes, but an enrolled one must still present its own token."""
    if kiosk_id is None:
        return
    row = session.get(Kiosk, kiosk_id)
    refused = RuleViolation("KIOSK_NOT_ENROLLED", "该终端未登记或凭据无效", "this kiosk is not enrolled or its token is wrong",
                            status=403, kiosk_id=kiosk_id)
    if row is None:
        if required:
            raise refused
        return
    if row.revoked or not kiosk_token or not secrets.compare_digest(row.token_hash, token_hash(kiosk_token)):
        raise refused


def _open_session(uow: UnitOfWork, person: Staff, idle: timedelta, absolute: timedelta, kiosk_id: str | None,
                  method: str) -> LoginResult:
    person.failed_logins, person.locked_until = 0, None
    uow.session.add(person)
    token = secrets.token_urlsafe(32)
    expires = uow.now + absolute
    uow.session.add(AuthSession(token_hash=token_hash(token), staff_id=person.id, kiosk_id=kiosk_id,
                                created_at=uow.now, last_seen_at=uow.now, expires_at=expires,
                                idle_seconds=int(idle.total_seconds())))
    uow.record("signed_in", entity="staff", entity_id=person.id, after={"kiosk_id": kiosk_id, "method": method},
               live=False)
    return LoginResult(token, expires, staff_public(person))


def _check_secret(uow: UnitOfWork, person: Staff | None, stored_hash: str | None, secret: str,
                  denied: RuleViolation) -> RuleViolation | None:
    """The one credential check: same cost for an unknown person (no enumeration by timing), no lock anyone
    could trigger (the caller backs the source off), a disabled account refused. Never raises for bad credentials (the failure count must commit):
    returns the error instead, or None when the secret is right."""
    if person is None or stored_hash is None:
        try:
            _hasher.verify(_dummy_hash(), secret)
        except VerificationError:
            pass
        return denied
    try:
        _hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        person.failed_logins += 1  # shown to admins; the back-off is per source, in api/ratelimit.py
        uow.session.add(person)
        return denied
    if not person.active:
        return RuleViolation("ACCOUNT_DISABLED", "账号已停用", "account disabled", status=403)
    return None


def _verify(uow: UnitOfWork, person: Staff | None, stored_hash: str | None, secret: str, kiosk_id: str | None,
            method: str, idle: timedelta, absolute: timedelta, denied: RuleViolation) -> LoginResult:
    """Sign-in: the credential check, then a fresh session."""
    error = _check_secret(uow, person, stored_hash, secret, denied)
    if error is not None or person is None:
        return LoginResult(None, None, None, error or denied)
    return _open_session(uow, person, idle, absolute, kiosk_id, method)


def card_login(uow: UnitOfWork, card_id: str, pin: str, *, idle: timedelta, absolute: timedelta,
               kiosk_id: str | None = None) -> LoginResult:
    """Staff card (something held) + PIN (something known)."""
    person = uow.session.exec(select(Staff).where(Staff.card_id_hash == card_hash(card_id))).first()
    denied = RuleViolation("BAD_CREDENTIALS", "卡号或PIN错误", "wrong card or PIN", status=401)
    return _verify(uow, person, person.pin_hash if person else None, pin, kiosk_id, "card_pin", idle, absolute,
                   denied)


def login(uow: UnitOfWork, police_no: str, password: str, *, idle: timedelta, absolute: timedelta,
          kiosk_id: str | None = None) -> LoginResult:
    """Police number and password; counts failures (the caller backs the source off)."""
    person = uow.session.exec(select(Staff).where(Staff.police_no == police_no)).first()
    denied = RuleViolation("BAD_CREDENTIALS", "警号或密码错误", "wrong police number or password", status=401)
    return _verify(uow, person, person.password_hash if person else None, password, kiosk_id, "password", idle,
                   absolute, denied)


def authenticate(session: Session, token: str, now: datetime) -> tuple[Staff, AuthSession]:
    sess = session.get(AuthSession, token_hash(token))
    unauth = RuleViolation("UNAUTHENTICATED", "请先登录", "sign in first", status=401)
    if sess is None or sess.revoked:
        raise unauth
    if utc(sess.expires_at) <= now or utc(sess.last_seen_at) + timedelta(seconds=sess.idle_seconds) <= now:
        raise RuleViolation("SESSION_EXPIRED", "登录已超时，请重新登录", "session expired, sign in again", status=401)
    person = session.get(Staff, sess.staff_id)
    if person is None or not person.active:
        raise unauth
    if now - utc(sess.last_seen_at) >= timedelta(seconds=15):
        sess.last_seen_at = now
        session.add(sess)
    return person, sess


def logout(uow: UnitOfWork, token: str) -> None:
    sess = uow.session.get(AuthSession, token_hash(token))
    if sess is not None and not sess.revoked:
        sess.revoked = True
        uow.session.add(sess)
        uow.record("signed_out", entity="staff", entity_id=sess.staff_id, after={}, live=False)


def actor_for(person: Staff, allowed: tuple[str, ...]) -> Actor:
    role = next((r for r in person.roles if r in allowed), person.roles[0] if person.roles else "")
    return Actor(id=person.id, role=role, name=person.name, sex=person.sex, roles=tuple(person.roles))


# ---------------------------------------------------------------------------------------------------------------
# Step-up: a second person proves who he is for one act (a supervisor granting an approval at a kiosk, another
# staff member confirming her presence), without signing the kiosk's own user out. The server checks the
# credentials; the client never says who approved.


class StepUpIn(BaseModel):
    """Step-up credentials as carried in a request body (field ``step_up``): either a staff card + PIN or a
    police number + password, never both, never neither."""

    # the either/or in the OpenAPI schema too, so a client (and the schema fuzzer) knows what is valid
    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [
        {"required": ["card_id", "pin"], "properties": {"card_id": {"type": "string"}, "pin": {"type": "string"}},
         "not": {"anyOf": [{"required": ["police_no"]}, {"required": ["password"]}]}},
        {"required": ["police_no", "password"],
         "properties": {"police_no": {"type": "string"}, "password": {"type": "string"}},
         "not": {"anyOf": [{"required": ["card_id"]}, {"required": ["pin"]}]}},
    ]})
    card_id: str | None = Field(default=None, min_length=4, max_length=64)
    pin: str | None = Field(default=None, min_length=4, max_length=8, pattern=r"^[0-9]+$")
    police_no: str | None = Field(default=None, min_length=1, max_length=32)
    password: str | None = Field(default=None, min_length=1, max_length=256)

    @model_validator(mode="after")
    def _one_way(self) -> StepUpIn:
        card = self.card_id is not None or self.pin is not None
        password = self.police_no is not None or self.password is not None
        if card == password:
            raise ValueError("give either card_id + pin or police_no + password")
        if card and (self.card_id is None or self.pin is None):
            raise ValueError("card_id and pin go together")
        if password and (self.police_no is None or self.password is None):
            raise ValueError("police_no and password go together")
        return self

    @property
    def method(self) -> str:
        return "card_pin" if self.card_id is not None else "password"


@dataclass
class StepUpResult:
    """Who proved himself (``actor``) and how (``method``: card_pin | password), or the refusal."""

    actor: Actor | None
    method: str
    error: RuleViolation | None = None


def verify_step_up(uow: UnitOfWork, cred: StepUpIn, *, role: str = "supervisor") -> StepUpResult:
    """Checks step-up credentials with the sign-in's rules: a wrong PIN or password counts toward that account's
    failures (and, in ``api.deps.step_up``, the sign-in back-off of that account from that address), a disabled
    account is refused, and the person must hold ``role``. Like sign-in it never
    raises for bad credentials (the failure count must commit): run it in its own transaction and raise
    ``result.error`` after (``controller.api.deps.step_up`` does this)."""
    if cred.card_id is not None and cred.pin is not None:
        person = uow.session.exec(select(Staff).where(Staff.card_id_hash == card_hash(cred.card_id))).first()
        denied = RuleViolation("BAD_CREDENTIALS", "卡号或PIN错误", "wrong card or PIN", status=401)
        error = _check_secret(uow, person, person.pin_hash if person else None, cred.pin, denied)
    else:
        person = uow.session.exec(select(Staff).where(Staff.police_no == (cred.police_no or ""))).first()
        denied = RuleViolation("BAD_CREDENTIALS", "警号或密码错误", "wrong police number or password", status=401)
        error = _check_secret(uow, person, person.password_hash if person else None, cred.password or "", denied)
    if error is not None or person is None:
        return StepUpResult(None, cred.method, error or denied)
    if role not in person.roles:
        return StepUpResult(None, cred.method, RuleViolation(
            "NEEDS_SUPERVISOR" if role == "supervisor" else "FORBIDDEN_ROLE",
            "须由值班领导/办案部门负责人本人验证" if role == "supervisor" else "验证人无此职责",
            "a supervisor must prove who he is" if role == "supervisor" else f"the verifier lacks the role {role}",
            status=403, role=role))
    if person.failed_logins:
        person.failed_logins = 0
        uow.session.add(person)
    return StepUpResult(actor_for(person, (role,)), cred.method)


def _set_password(uow: UnitOfWork, person: Staff, new_password: str, action: str) -> None:
    """The new hash, every session of the account ended (its live sockets close with them)."""
    check_password(new_password, person.police_no)
    person.password_hash = hash_password(new_password)
    person.failed_logins = 0
    uow.session.add(person)
    _revoke_sessions(uow, AuthSession.staff_id == person.id)
    uow.record(action, entity="staff", entity_id=person.id, after={"sessions": "ended"})


def change_password(uow: UnitOfWork, staff_id: str, current: str, new_password: str) -> None:
    """A staff member's own change: the current password proves it is him, not just his open session."""
    person = uow.session.get(Staff, staff_id)
    if person is None:
        raise RuleViolation("NOT_FOUND", "工作人员不存在", "staff not found", status=404)
    try:
        _hasher.verify(person.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise RuleViolation("CURRENT_PASSWORD_WRONG", "当前密码错误", "the current password is wrong",
                            status=403) from None
    if secrets.compare_digest(current.encode(), new_password.encode()):
        raise RuleViolation("WEAK_PASSWORD", "新密码不能与当前密码相同", "the new password must differ from the current one",
                            status=422, reason="unchanged")
    _set_password(uow, person, new_password, "password_changed")


def reset_password(uow: UnitOfWork, staff_id: str, new_password: str) -> None:
    """An admin's reset (a forgotten password): the account's sessions end, wherever they are."""
    person = uow.session.get(Staff, staff_id)
    if person is None:
        raise RuleViolation("NOT_FOUND", "工作人员不存在", "staff not found", status=404)
    _set_password(uow, person, new_password, "password_reset")
