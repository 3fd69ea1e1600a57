"""Alarm beacon messages (JSON over MQTT, both roles). Topics under ``hcc/<site>/alarm_beacon/<id>/``:

``state``     retained ``{v, ts, on, pattern, severity}``
``cmd/on``    ``{v, request_id, reply_to, expires_at, pattern: steady|flash|strobe, severity: info|warning|critical}``
``cmd/off``   ``{v, request_id, reply_to, expires_at}``
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from devices.mqtt_proto import Command, StateMessage

KIND = "alarm_beacon"

Pattern = Literal["steady", "flash", "strobe"]
Severity = Literal["info", "warning", "critical"]


@dataclass(frozen=True, kw_only=True)
class BeaconStateMsg(StateMessage):
    on: bool
    pattern: Pattern = "steady"
    severity: Severity = "info"


@dataclass(frozen=True, kw_only=True)
class OnCmd(Command):
    pattern: Pattern = "flash"
    severity: Severity = "critical"


@dataclass(frozen=True, kw_only=True)
class OffCmd(Command):
    pass


COMMANDS: dict[str, type[Command]] = {"on": OnCmd, "off": OffCmd}
