"""The device registry: site device configs -> adapter instances, started and stopped together.

Device configs are anything with ``id``, ``kind``, ``url``, ``room_id`` and ``options`` (the controller's pydantic
``DeviceConfig``, a dict, a SimpleNamespace). Each kind maps to an adapter class imported lazily by name, so a kind
whose module is not there yet is skipped with a log line instead of breaking the others. MQTT adapters that name the
same broker URL share one :class:`MqttLink` (one paho client per broker) whose last will is
``hcc/<site>/controller/availability``.

Construction styles: MQTT adapters get ``(id, link, sink, room_id=, options=)``; serial adapters
``(id, url, options, on_event=sink)``; the camera ``(id, url, on_event=sink)``. ``factories`` overrides or adds a
kind, e.g. a lock-board factory that passes the boards of the site's locker banks.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devices import mqtt_proto as proto
from devices.base import Adapter, Availability, EventSink
from devices.transport.mqtt import MqttLink
from devices.trust import DEFAULT_THRESHOLD, SourceWatch, parse_key

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    id: str
    kind: str
    url: str
    room_id: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, obj: Any) -> DeviceSpec:
        """From a mapping or any object with the attributes (e.g. the controller's DeviceConfig)."""
        get: Callable[[str, Any], Any] = (
            (lambda k, d: obj.get(k, d)) if isinstance(obj, Mapping) else (lambda k, d: getattr(obj, k, d))
        )
        return cls(str(get("id", "")), str(get("kind", "")), str(get("url", "")), get("room_id", None),
                   dict(get("options", None) or {}))


@dataclass
class RegistryContext:
    """What a factory may use: the site id, the event sink, and the shared MQTT link of a broker URL."""

    site: str
    sink: EventSink
    link_for: Callable[[str], MqttLink]


Factory = Callable[[DeviceSpec, RegistryContext], Adapter]

# kind -> (module, class, construction style)
ADAPTERS: dict[str, tuple[str, str, str]] = {
    "wristband_reader": ("devices.wristband_reader.adapter", "WristbandReaderAdapter", "mqtt"),
    "door_lock": ("devices.door_lock.adapter", "DoorLockAdapter", "mqtt"),
    "panic_button": ("devices.panic_button.adapter", "PanicButtonAdapter", "mqtt"),
    "alarm_beacon": ("devices.alarm_beacon.adapter", "AlarmBeaconAdapter", "mqtt"),
    "recorder": ("devices.recorder.adapter", "RecorderAdapter", "mqtt"),
    "lock_board": ("devices.lock_board.adapter", "LockBoardAdapter", "serial"),
    "id_reader": ("devices.id_reader.adapter", "IdReaderAdapter", "serial"),
    "metal_gate": ("devices.metal_gate.adapter", "MetalGateAdapter", "serial"),
    "breathalyser": ("devices.breathalyser.adapter", "BreathalyserAdapter", "serial"),
    "capture_camera": ("devices.camera.adapter", "CameraAdapter", "camera"),
}


def _build(style: str, cls: Any, spec: DeviceSpec, ctx: RegistryContext) -> Adapter:
    if style == "mqtt":
        adapter: Adapter = cls(spec.id, ctx.link_for(spec.url), ctx.sink, room_id=spec.room_id, options=spec.options)
        return adapter
    if style == "serial":
        adapter = cls(spec.id, spec.url, spec.options, on_event=ctx.sink)
    else:
        adapter = cls(spec.id, spec.url, on_event=ctx.sink)
    return adapter


class DeviceRegistry:
    """Adapters of a site by id. Nothing connects before :meth:`start_all`; nothing there raises for an absent
    device (adapters retry on their own)."""

    def __init__(
        self,
        devices: Iterable[Any],
        sink: EventSink,
        *,
        site: str,
        mqtt_username: str | None = None,
        mqtt_password: str | None = None,
        factories: Mapping[str, Factory] | None = None,
        mqtt_options: Mapping[str, Any] | None = None,
        device_keys_dir: Path | None = None,
        require_keys: bool = False,
        unknown_threshold: int = DEFAULT_THRESHOLD,
    ) -> None:
        self.site = proto.check_id(site, "site")
        self._device_keys_dir = device_keys_dir
        self._require_keys = require_keys  # a production site: a signing device without its key is not trusted
        # Counts what no configured device sends; ``known`` grows as the specs are read below.
        self.watch = SourceWatch(self.site, (), sink, threshold=unknown_threshold)
        self._sink = sink
        self._mqtt_auth = (mqtt_username, mqtt_password)
        self._mqtt_options = dict(mqtt_options or {})
        self._links: dict[str, MqttLink] = {}
        self._adapters: dict[str, Adapter] = {}
        self._specs: dict[str, DeviceSpec] = {}
        self.skipped: dict[str, str] = {}  # device id -> why it has no adapter
        ctx = RegistryContext(site, sink, self._link_for)
        overrides = dict(factories or {})
        for obj in devices:
            spec = DeviceSpec.of(obj)
            if spec.id in self._specs:
                raise ValueError(f"device {spec.id!r} is listed twice")
            self._specs[spec.id] = spec
            self.watch.known.add((spec.kind, spec.id))
            try:
                factory = overrides.get(spec.kind) or self._factory(spec.kind)
            except LookupError as exc:
                self.skipped[spec.id] = str(exc)
                log.warning("device %s (%s) not started: %s", spec.id, spec.kind, exc)
                continue
            try:
                self._adapters[spec.id] = factory(spec, ctx)
                self._give_key(self._adapters[spec.id])
            except (ValueError, TypeError, KeyError, OSError) as exc:
                self._adapters.pop(spec.id, None)
                self.skipped[spec.id] = f"bad configuration: {exc}"
                log.error("device %s (%s) not started: bad configuration: %s", spec.id, spec.kind, exc)

    def _give_key(self, adapter: Adapter) -> None:
        """A signing adapter (one with ``device_key``) gets ``<device_keys_dir>/<id>.key`` when there is one."""
        if not hasattr(adapter, "device_key"):
            return
        if hasattr(adapter, "require_signature"):
            adapter.require_signature = self._require_keys
        if self._device_keys_dir is None:
            return
        path = self._device_keys_dir / f"{adapter.device_id}.key"
        if path.exists():
            adapter.device_key = parse_key(path.read_text(encoding="utf-8"))
        else:
            log.warning("device %s has no key in %s: its confirmations cannot be verified", adapter.device_id,
                        self._device_keys_dir)

    @staticmethod
    def _factory(kind: str) -> Factory:
        entry = ADAPTERS.get(kind)
        if entry is None:
            raise LookupError(f"no adapter for kind {kind!r}")
        module_name, attr, style = entry
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                raise LookupError(f"adapter module {module_name} is not available") from None
            raise
        cls = getattr(module, attr, None)
        if cls is None:
            raise LookupError(f"{module_name} has no {attr}")
        return lambda spec, ctx: _build(style, cls, spec, ctx)

    def _link_for(self, url: str) -> MqttLink:
        link = self._links.get(url)
        if link is None:
            suffix = f"-{len(self._links)}" if self._links else ""
            username, password = self._mqtt_auth
            link = MqttLink(url, site=self.site, client_id=f"hcc-{self.site}-controller{suffix}",
                            availability_topic=proto.controller_topic(self.site, "availability"),
                            username=username, password=password, **self._mqtt_options)
            self._links[url] = link
            # the whole site tree, to count what no adapter listens to; replies refused by the link are reported
            link.subscribe(f"{proto.TOPIC_ROOT}/{self.site}/#", self.watch.on_message)
            link.add_forgery_listener(self.watch.on_forged_reply)
        return link

    # --- access --------------------------------------------------------------------------------------------

    def devices(self) -> list[Adapter]:
        return list(self._adapters.values())

    def get(self, device_id: str) -> Adapter:
        try:
            return self._adapters[device_id]
        except KeyError:
            why = self.skipped.get(device_id, "not in the site configuration")
            raise KeyError(f"no adapter for device {device_id!r}: {why}") from None

    @property
    def links(self) -> list[MqttLink]:
        return list(self._links.values())

    # --- lifecycle -----------------------------------------------------------------------------------------

    async def start_all(self) -> None:
        for link in self._links.values():
            await link.start()
        results = await asyncio.gather(*(a.start() for a in self._adapters.values()), return_exceptions=True)
        for adapter, res in zip(self._adapters.values(), results, strict=True):
            if isinstance(res, BaseException):
                log.error("device %s failed to start: %r", adapter.device_id, res)

    async def stop_all(self) -> None:
        results = await asyncio.gather(*(a.stop() for a in self._adapters.values()), return_exceptions=True)
        for adapter, res in zip(self._adapters.values(), results, strict=True):
            if isinstance(res, BaseException):
                log.warning("device %s failed to stop cleanly: %r", adapter.device_id, res)
        for link in self._links.values():
            await link.stop()

    def snapshot(self) -> list[dict[str, Any]]:
        """Availability and last seen (epoch seconds or None) of every configured device, in config order."""
        out = []
        for device_id, spec in self._specs.items():
            adapter = self._adapters.get(device_id)
            row: dict[str, Any] = {"id": device_id, "kind": spec.kind, "room_id": spec.room_id}
            if adapter is None:
                row |= {"availability": Availability.UNKNOWN.value, "last_seen": None,
                        "detail": self.skipped.get(device_id, "")}
            else:
                row |= {"availability": Availability(adapter.availability).value, "last_seen": adapter.last_seen,
                        "detail": ""}
            out.append(row)
        return out
