"""Door lock messages (JSON over MQTT, both roles). Topics under ``hcc/<site>/door_lock/<id>/``:

``state``              retained ``{v, ts, door: open|closed, lock: locked|unlocked}``
``event/forced_open``  the door opened while locked: ``{v, event_id, ts}``
``cmd/lock``           ``{v, request_id, reply_to, expires_at}``
``cmd/unlock``         ``{..., hold_s}``: unlock; relock by itself after ``hold_s`` seconds when given
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from devices.mqtt_proto import Command, EventMessage, StateMessage

KIND = "door_lock"


@dataclass(frozen=True, kw_only=True)
class DoorStateMsg(StateMessage):
    door: Literal["open", "closed"]
    lock: Literal["locked", "unlocked"]


@dataclass(frozen=True, kw_only=True)
class ForcedOpenMsg(EventMessage):
    pass


@dataclass(frozen=True, kw_only=True)
class LockCmd(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class UnlockCmd(Command):
    hold_s: float | None = None

    def __post_init__(self) -> None:
        Command.__post_init__(self)
        if self.hold_s is not None and not 0 < self.hold_s <= 3600:
            raise ValueError("hold_s must be in (0, 3600]")


EVENTS: dict[str, type[EventMessage]] = {"forced_open": ForcedOpenMsg}
COMMANDS: dict[str, type[Command]] = {"lock": LockCmd, "unlock": UnlockCmd}
