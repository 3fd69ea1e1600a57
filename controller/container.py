"""Builds everything once from the settings and passes it in: site, clock, database, hub, ports, scheduler."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from .clock import Clock, FakeClock, SystemClock
from .domain.actor import Actor
from .hub import Hub
from .scheduler import Scheduler
from .services import rooms
from .services.context import SiteContext
from .services.ports import LockerPort, NoLockerBoard, NoRecorder, RecorderPort
from .services.sightings import TagSightings
from .settings import Settings, SiteConfig, load_site
from .store.db import Database

if TYPE_CHECKING:
    from .devicebus import DeviceBus
    from .services.captures import CaptureService
    from .sync.pusher import Pusher

log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    pass


class Lifecycle(Protocol):
    """Something the app's lifespan starts before serving and stops after (devices, the sync pusher, hw_sim)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Container:
    settings: Settings
    site: SiteConfig
    ctx: SiteContext
    clock: Clock
    db: Database
    hub: Hub
    scheduler: Scheduler
    recorder: RecorderPort = field(default_factory=NoRecorder)
    lockers: LockerPort = field(default_factory=NoLockerBoard)
    devices: DeviceBus | None = None  # the site's devices, when attached (``build(with_devices=True)``)
    captures: CaptureService | None = None
    sync_pusher: Pusher | None = None  # with ``site.sync.platform_url``
    bench: bool = False  # the benchmark endpoints (never on a production site)
    lifecycle: list[Lifecycle] = field(default_factory=list)  # started in order, stopped in reverse
    sightings: TagSightings = field(default_factory=TagSightings)  # tags the wristband readers reported

    @property
    def fake_clock(self) -> FakeClock | None:
        return self.clock if isinstance(self.clock, FakeClock) else None


def build(settings: Settings, site: SiteConfig | None = None, clock: Clock | None = None,
          with_devices: bool = False) -> Container:
    """Everything the app needs. ``with_devices`` attaches the devicebus (the site's real or simulated devices)."""
    site = site or load_site(settings.site_file)
    if settings.fake_clock and site.site.production:
        raise ConfigError("HCC_FAKE_CLOCK is refused on a production site / 生产站点禁止使用测试时钟")
    clock = clock or (FakeClock(running=settings.fake_clock_running) if settings.fake_clock else SystemClock())
    hub = Hub()
    db = Database(settings.db_url(), clock, publish=hub.publish)
    ctx = SiteContext.from_config(site)
    scheduler = Scheduler(db, ctx, clock)
    c = Container(settings=settings, site=site, ctx=ctx, clock=clock, db=db, hub=hub, scheduler=scheduler)
    db.write_sync(Actor.system("config"), lambda uow: rooms.sync_lockers(uow, ctx))
    c.bench = bool(settings.bench_endpoints and not site.site.production)
    if with_devices:
        from .devicebus import DeviceBus, DeviceLockerPort, DeviceRecorderPort

        bridged = (settings.bridge_mode or site.bridge.mode) == "process"
        supervise = site.bridge.supervise if settings.bridge_supervise is None else settings.bridge_supervise
        if bridged and supervise:  # before the devicebus: the bridge is starting while the bus connects to it
            from .bridge.supervisor import BridgeSupervisor

            c.lifecycle.append(BridgeSupervisor(settings.site_file, settings.data_dir, site))
        bus = DeviceBus(c, bridged=bridged)
        c.devices = bus
        c.lifecycle.append(bus)
        c.recorder = DeviceRecorderPort(site, bus.registry)
        c.lockers = DeviceLockerPort(bus.registry, bus.positions, clock)
    from .services.captures import CaptureService

    c.captures = CaptureService(db, site, settings.data_dir, c.devices)
    if site.sync.platform_url:
        from .sync.pusher import build_pusher

        c.sync_pusher = build_pusher(db, site.site.id, site.sync, clock, hub)
        c.lifecycle.append(c.sync_pusher)
    from .services import reports

    reporter = Actor.system("reports")
    scheduler.extra.append(lambda: db.write_when_due(reporter, lambda uow: reports.generate_due(uow, ctx)))  # daily
    return c
