"""The devicebus with its devices in the bridge process (``[bridge] mode = "process"``; README, "Processes").

The controller keeps the devicebus's handlers, its ports and its reactions, and every database write (through the
services); the adapters, the wristband stream and rule 8 run in ``python -m controller.bridge``. The registry is
the bridge client's stand-in (commands with results), and presence arrives coalesced: a change per tag that moved
(applied as a reader's report is in-process: the live location message, an unknown tag's alarm) and rule 8's
findings, decided in the bridge on the roster sent from here (who wears which wristband, where each open stay may
be, and the controller's clock) after every committed stay or staff change and on each scheduler tick.

(Built on main's one-module devicebus while the devicebus rooms are being merged; it becomes a room of its own.)
"""

from __future__ import annotations

from typing import Any

from devices.registry import DeviceRegistry
from devices.wristband_reader.adapter import TagAbsent, TagPresent

from .bridge import messages as m
from .bridge.client import LOCAL_KINDS, BridgeClient, RemoteRegistry
from .devicebus import SYSTEM, DeviceBus, _read_secret, raise_unless_open
from .domain import presence as rules8


class BridgedDeviceBus(DeviceBus):
    def __init__(self, container: Any) -> None:
        super().__init__(container)  # its own registry is built but never started: the bridge's runs instead
        site = container.site
        self.bridge = BridgeClient(site, container.settings.data_dir, self.on_device_event, self.apply_presence,
                                   timeout_s=site.bridge.command_timeout_s)
        cameras = [d for d in site.devices if d.kind in LOCAL_KINDS]
        local = DeviceRegistry(cameras, self.on_device_event, site=site.site.id, mqtt_username=site.mqtt.username,
                               mqtt_password=_read_secret(site.mqtt.password_file),
                               device_keys_dir=site.mqtt.device_keys_dir) if cameras else None
        self.registry: Any = RemoteRegistry(self.bridge, local)

    # --- rule 8 is the bridge's ------------------------------------------------------------------------------

    def _schedule_check(self) -> None:
        return None

    async def check_rooms(self, rooms: set[str] | None = None) -> list[rules8.Finding]:
        self._dirty_rooms = set()
        return []

    async def refresh_tags(self) -> None:
        await super().refresh_tags()
        self._send_roster()

    async def tick(self) -> None:
        """From the scheduler: the bridge checks every occupied room with our time (grace periods run out)."""
        self._send_roster()

    def _send_roster(self) -> None:
        stays = {sid: m.StayHere(case_no=st["case_no"], state=st["state"], allowed=sorted(st["allowed"]))
                 for sid, st in self._stays.items()}
        self.bridge.send_roster(m.Roster(tag_owner=dict(self.tag_owner), stays=stays, now=self.c.clock.now(),
                                         check_all=True))

    def apply_presence(self, batch: m.PresenceBatch) -> None:
        for ch in batch.changes:
            if ch.zone is None:
                if ch.from_zone is not None:
                    self._on_TagAbsent(TagAbsent(ch.device_id, "wristband_reader", ch.t_sent, tag_id=ch.tag_id,
                                                 zone=ch.from_zone, event_id=""))
            else:
                self._on_TagPresent(TagPresent(ch.device_id, "wristband_reader", ch.t_sent, tag_id=ch.tag_id,
                                               zone=ch.zone, rssi=0.0, event_id=""))
        for f in batch.findings:
            self._spawn(self.c.db.write(SYSTEM, lambda uow, f=f: raise_unless_open(
                uow, f.kind, f.key, stay_id=f.stay_id, room_id=f.room_id, **f.details)))
