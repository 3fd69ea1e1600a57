"""Ports the services call for device side effects; the devicebus fills them with real adapters.

A port is the seam between a use case and hardware we do not own. Without a device the safe answer is
refusal: no recorder means no interrogation (rule 3), never a silent pass.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from devices.base import DeviceUnavailable

from ..domain.errors import RuleViolation


class NoDevice(DeviceUnavailable):
    """The site configures no device for this job: the port refuses, it never pretends the device acted."""

    code = "DEVICE_NOT_CONFIGURED"
    message_zh = "未配置该设备"


class RecordingNotConfirmed(RuleViolation):
    def __init__(self, detail: str, **details: Any) -> None:
        # callers pass "中文 / English" or a device's raw text: a person reads only the Chinese part
        detail_zh = "：" + detail.split(" / ")[0] if re.search(r"[\u4e00-\u9fff]", detail) else ""
        super().__init__("RECORDING_NOT_CONFIRMED", f"同步录音录像未确认开始{detail_zh}",
                         f"the recorder did not confirm recording: {detail}", detail=detail, **details)


class RecorderPort(Protocol):
    async def start(self, room_id: str, stay_id: str) -> str:
        """Returns the recording id once the room's recorder confirms it records; raises RecordingNotConfirmed."""

    async def stop(self, room_id: str, recording_id: str) -> dict[str, Any]:
        """Stops the recording and returns its span ``{started_at, ended_at}``."""


class LockerPort(Protocol):
    async def open(self, locker_id: str) -> None:
        """Opens one compartment and returns when the board confirms; raises a DeviceError otherwise."""


class NoRecorder:
    async def start(self, room_id: str, stay_id: str) -> str:
        raise RecordingNotConfirmed("该房间未配置录像设备 / no recorder configured for this room", room_id=room_id)

    async def stop(self, room_id: str, recording_id: str) -> dict[str, Any]:
        raise NoDevice(f"no recorder configured for room {room_id}")


class NoLockerBoard:
    async def open(self, locker_id: str) -> None:
        raise NoDevice(f"no lock board configured for locker {locker_id}")
