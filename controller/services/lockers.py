"""Locker openings: one failure contract for every use case that opens a compartment.

Rule 6 (《公安机关执法办案管理中心建设规范》: custody of a subject's property): every opening names its operator and
reason, and is on the record before the board is driven. The board is driven after the commit; when it does not
open (no board, board offline, a stuck latch) the failure is recorded too and the caller gets a
:class:`LockerOpening` that says so in Chinese, never a silent success:

- a step that opens a locker as a consequence (property stored, exit started, a case-property handover) keeps
  the step and returns the failed opening beside it, so the kiosk shows it and offers a retry;
- the explicit opening (``POST /lockers/{id}/open``) raises :class:`LockerNotOpened` (HTTP 503) with the same
  code and messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devices.base import DeviceError

from ..domain.actor import Actor
from ..domain.errors import RuleViolation
from ..store.db import Database, UnitOfWork
from ..store.tables import Locker
from . import alarms, rooms
from .commands import OpenLocker
from .ports import LockerPort


@dataclass(frozen=True)
class LockerOpening:
    """The outcome of driving the board for one compartment; ``message`` is Chinese, for the screen."""

    locker_id: str
    ok: bool
    code: str | None = None
    message: str | None = None
    message_en: str | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.ok:
            return {"ok": True, "locker_id": self.locker_id}
        return {"ok": False, "locker_id": self.locker_id, "code": self.code, "message": self.message,
                "message_en": self.message_en}


class LockerNotOpened(RuleViolation):
    """The explicit opening was recorded but the board did not open the compartment (HTTP 503)."""

    def __init__(self, opening: LockerOpening) -> None:
        super().__init__(opening.code or "DEVICE_ERROR", opening.message or "", opening.message_en or "",
                         status=503, locker_id=opening.locker_id)


def _failure(locker_id: str, exc: DeviceError) -> LockerOpening:
    # The device's own text (ids, ports, bytes) never reaches the screen: the kiosk reads these two messages.
    return LockerOpening(locker_id, False, exc.code,
                         f"储物柜 {locker_id.upper()} 未能自动打开（{exc.message_zh}），请重试或用钥匙开柜",
                         f"locker {locker_id.upper()} did not open ({exc.code}); retry or open it with the key")


async def drive(db: Database, port: LockerPort, actor: Actor, locker_id: str) -> LockerOpening:
    """Drives the board for an opening already on the record; a failure is recorded and returned, not raised."""
    try:
        await port.open(locker_id)
    except DeviceError as exc:
        err = exc  # the audit keeps the device's own words for the technician
        await db.write(actor, lambda uow: rooms.record_locker_failure(uow, locker_id, err))
        return _failure(locker_id, exc)
    return LockerOpening(locker_id, True)


async def open_after_step(db: Database, port: LockerPort, actor: Actor, locker_id: str | None,
                          result: dict[str, Any]) -> dict[str, Any]:
    """A committed step whose consequence is an opening (property stored, exit started): the step stands, and
    ``result["locker_open"]`` says whether the compartment opened."""
    if locker_id:
        result["locker_open"] = (await drive(db, port, actor, locker_id)).as_dict()
    return result


async def open_on_request(db: Database, port: LockerPort, actor: Actor, locker_id: str,
                          cmd: OpenLocker) -> dict[str, Any]:
    """The explicit opening: recorded with operator and reason, then driven; raises LockerNotOpened on failure."""
    view = await db.write(actor, lambda uow: rooms.record_locker_open(uow, locker_id, cmd))
    opening = await drive(db, port, actor, locker_id)
    if not opening.ok:
        raise LockerNotOpened(opening)
    return view


@dataclass(frozen=True)
class DoorReport:
    """What the lock board reports for one compartment; ``authorised`` when an opening was commanded or expected."""

    locker_id: str
    device_id: str
    open: bool
    item_present: bool
    cause: str  # "unlock", "poll", "forced", "initial"
    authorised: bool

    def as_dict(self) -> dict[str, Any]:
        return {"locker_id": self.locker_id, "open": self.open, "item_present": self.item_present, "cause": self.cause}


def record_door(uow: UnitOfWork, report: DoorReport) -> None:
    """The board's view of a compartment: its door and item sensors on the record, and the alarms it calls for:
    a door open with no commanded opening (forced), or an item left in a free compartment."""
    lk = uow.session.get(Locker, report.locker_id)
    if lk is None:
        return
    changed = (lk.door_open, lk.item_present) != (report.open, report.item_present)
    lk.door_open, lk.item_present = report.open, report.item_present
    uow.session.add(lk)
    if report.cause == "initial" and not report.open:
        return
    if changed:
        uow.record("locker_state_changed", entity="locker", entity_id=lk.id, stay_id=lk.stay_id,
                   after={**report.as_dict(), "authorised": report.authorised})
    if report.open and not report.authorised and report.cause in ("forced", "initial"):
        alarms.raise_unless_open(uow, "locker_forced", f"locker_forced:{lk.id}", stay_id=lk.stay_id,
                                 device_id=report.device_id, locker_id=lk.id, cause=report.cause)
    if not report.open and lk.stay_id is None and report.item_present and lk.state == "free":
        alarms.raise_unless_open(uow, "locker_not_empty", f"locker_not_empty:{lk.id}", device_id=report.device_id,
                                 locker_id=lk.id)
