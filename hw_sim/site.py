"""Every simulated device of one site, built from the raw site TOML (parsed with tomllib, never through
``controller``): MQTT devices here, serial devices through ``hw_sim.serial_devices`` and the capture camera through
``hw_sim.camera`` when those modules exist. Owns their start and stop."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from devices.kinds import KINDS
from hw_sim.alarm_beacon import AlarmBeaconSim
from hw_sim.door_lock import DoorLockSim
from hw_sim.mqtt_device import MqttSimDevice
from hw_sim.panic_button import PanicButtonSim
from hw_sim.recorder import RecorderSim
from hw_sim.wristband_reader import TagField, WristbandReaderSim

log = logging.getLogger(__name__)

# The simulator of each MQTT kind of the one table of device kinds (devices/kinds.py), which says which kinds are
# MQTT, serial (hw_sim.serial_devices, at the table's baud rates) or cameras.
MQTT_SIMS: dict[str, type[MqttSimDevice]] = {
    "wristband_reader": WristbandReaderSim,
    "door_lock": DoorLockSim,
    "panic_button": PanicButtonSim,
    "alarm_beacon": AlarmBeaconSim,
    "recorder": RecorderSim,
}
assert set(MQTT_SIMS) == {k.name for k in KINDS.values() if k.style == "mqtt"}, "an MQTT kind without a simulator"


class SimSite:
    """The simulated devices of a site, by id. ``sims`` holds anything with start/stop/set_fault/clear_fault/info."""

    def __init__(self, raw: dict[str, Any], run_dir: Path, credentials: Path | None = None) -> None:
        """``credentials``: the ``credentials.json`` of `devices credentials`; every MQTT device then signs in
        with its own account and signs with its own key (without it: an open bench broker)."""
        self.raw = raw
        self.credentials: dict[str, Any] = (
            json.loads(credentials.read_text(encoding="utf-8"))["clients"] if credentials is not None else {})
        self.run_dir = run_dir
        self.site_id = str(raw.get("site", {}).get("id", "site"))
        self.tag_field = TagField()
        self.sims: dict[str, Any] = {}
        self.rooms: dict[str, str | None] = {}
        self.skipped: list[str] = []

    @property
    def mqtt_url(self) -> str:
        return str(self.raw.get("mqtt", {}).get("url", "mqtt://127.0.0.1:1883"))

    def build(self) -> None:
        for dev in self.raw.get("devices", []):
            kind, device_id = dev.get("kind"), dev.get("id")
            self.rooms[device_id] = dev.get("room_id")
            cls = MQTT_SIMS.get(kind)
            if cls is None:
                continue
            kw: dict[str, Any] = {"tag_field": self.tag_field} if cls is WristbandReaderSim else {}
            self.sims[device_id] = cls(device_id, url=dev.get("url") or self.mqtt_url, site=self.site_id,
                                       room_id=dev.get("room_id"), options=dev.get("options", {}),
                                       credentials=self.credentials.get(device_id), **kw)
        self._build_serial()
        self._build_cameras()

    def _optional(self, module: str, what: str) -> Any:
        """Import a simulator module that another part of the work provides; None (and a log line) if absent."""
        try:
            return importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            log.warning("%s is not there yet: %s are not simulated", module, what)
            self.skipped.append(what)
            return None

    def _build_serial(self) -> None:
        mod = self._optional("hw_sim.serial_devices", "serial devices")
        if mod is None:
            return
        for sim in mod.build_serial_sims(self.raw, self.run_dir):
            self.sims[sim.device_id] = sim

    def _build_cameras(self) -> None:
        cams = [d for d in self.raw.get("devices", []) if d.get("kind") in KINDS and KINDS[d["kind"]].style == "camera"]
        if not cams:
            return
        camera = self._optional("hw_sim.camera", "cameras")
        if camera is None:
            return
        for dev in cams:
            url = urlsplit(dev["url"])
            if url.scheme != "http":
                log.warning("camera %s: %s is not an http URL; not simulated", dev["id"], dev["url"])
                continue
            self.sims[dev["id"]] = camera.SimCamera(dev["id"], host=url.hostname or "127.0.0.1", port=url.port or 80)

    async def start(self) -> None:
        # MQTT clients connect in the background; start them all, then wait (bounded) for their first connect.
        await asyncio.gather(*(s.start() for s in self.sims.values()))
        mqtt = [s for s in self.sims.values() if isinstance(s, MqttSimDevice)]
        if mqtt:
            try:
                await asyncio.gather(*(s.wait_ready(10) for s in mqtt))
            except TimeoutError:
                down = [s.device_id for s in mqtt if not s.link.connected]
                log.warning("MQTT devices not connected yet (broker %s down?): %s", self.mqtt_url, ", ".join(down))

    async def stop(self) -> None:
        results = await asyncio.gather(*(s.stop() for s in self.sims.values()), return_exceptions=True)
        for sim, res in zip(self.sims.values(), results, strict=True):
            if isinstance(res, BaseException):
                log.warning("stopping %s failed: %r", getattr(sim, "device_id", sim), res)

    def by_room(self, kind: str, room_id: str) -> Any:
        for sim in self.sims.values():
            if getattr(sim, "kind", None) == kind and self.rooms.get(sim.device_id) == room_id:
                return sim
        raise LookupError(f"no simulated {kind} in room {room_id!r}")

    def first(self, kind: str) -> Any:
        for sim in self.sims.values():
            if getattr(sim, "kind", None) == kind:
                return sim
        raise LookupError(f"no simulated {kind} in this site")
