"""The services' ports filled with the site's adapters: the room's recorder (rule 3) and the lock board (rule 6).

A port with no device, or whose device fails, raises: the use case decides what the failure means (no interview
without a confirmed recording; a locker opening recorded as failed), it never passes silently.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from devices.base import DeviceError, DeviceUnavailable
from devices.registry import DeviceRegistry

from ..clock import Clock
from ..services.ports import NoDevice, RecordingNotConfirmed
from ..settings import SiteConfig

EXPECTED_OPEN = timedelta(seconds=60)  # a commanded opening is expected this long, so the board's report is not 'forced'


class LockerPositions:
    """Which compartment is where on which bus, and which openings were commanded (so a report is authorised)."""

    def __init__(self, site: SiteConfig) -> None:
        self.where: dict[str, tuple[str, int, int]] = {lid: (b.bus, b.address, ch) for lid, b, ch in site.locker_ids()}
        self._by_position = {v: k for k, v in self.where.items()}
        self.expected_open: dict[str, datetime] = {}

    def locker_at(self, bus_id: str, board: int, channel: int) -> str | None:
        return self._by_position.get((bus_id, board, channel))

    def expect(self, locker_id: str, now: datetime) -> None:
        self.expected_open[locker_id] = now + EXPECTED_OPEN

    def authorised(self, locker_id: str, cause: str, now: datetime) -> bool:
        expected = self.expected_open.get(locker_id)
        return cause == "unlock" or (expected is not None and expected >= now)

    def closed(self, locker_id: str) -> None:
        self.expected_open.pop(locker_id, None)


class DeviceRecorderPort:
    """Rule 3 through the room's recorder: a recording id only on the recorder's own confirmation."""

    def __init__(self, site: SiteConfig, registry: DeviceRegistry) -> None:
        self.site, self.registry = site, registry

    def _adapter(self, room_id: str) -> Any:
        room = self.site.room(room_id)
        if room is None or room.recorder_id is None:
            raise RecordingNotConfirmed("该房间未配置录像设备 / no recorder configured for this room", room_id=room_id)
        try:
            return self.registry.get(room.recorder_id)
        except KeyError as exc:
            raise RecordingNotConfirmed(f"录像设备不可用 / recorder unavailable: {exc}", room_id=room_id) from None

    async def start(self, room_id: str, stay_id: str) -> str:
        adapter = self._adapter(room_id)
        try:
            result = await adapter.start_recording(room_id, stay_id)
        except DeviceError as exc:
            raise RecordingNotConfirmed(f"{exc.message_zh} / {exc}", room_id=room_id, device_code=exc.code) from None
        return str(result.recording_id)

    async def stop(self, room_id: str, recording_id: str) -> dict[str, Any]:
        result = await self._adapter(room_id).stop_recording(recording_id)
        return {"recording_id": result.recording_id, "started_at": str(result.started_at),
                "ended_at": str(result.ended_at), "stop_confirmed": True}


class DeviceLockerPort:
    """Opens one compartment; the opening is expected for a while so the board's report is not 'forced'."""

    def __init__(self, registry: DeviceRegistry, positions: LockerPositions, clock: Clock) -> None:
        self.registry, self.positions, self.clock = registry, positions, clock

    async def open(self, locker_id: str) -> None:
        where = self.positions.where.get(locker_id)
        if where is None:
            raise NoDevice(f"locker {locker_id} is on no lock board")
        bus_id, board, channel = where
        try:
            adapter: Any = self.registry.get(bus_id)
        except KeyError:
            raise DeviceUnavailable(f"lock board {bus_id} is not running", device_id=bus_id) from None
        self.positions.expect(locker_id, self.clock.now())
        await adapter.unlock(board, channel)
