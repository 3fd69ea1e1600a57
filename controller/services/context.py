"""What services need to know about the site, built once from the site config and passed in (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..domain.rules import ClockRule, clock_table
from ..settings import RoomConfig, SiteConfig, TimingConfig


@dataclass
class SiteContext:
    config: SiteConfig
    clocks: dict[str, ClockRule] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: SiteConfig) -> SiteContext:
        return cls(config=config, clocks=clock_table((r.basis, r.base_hours, r.max_hours) for r in config.rules))

    @property
    def timing(self) -> TimingConfig:
        return self.config.timing

    @property
    def site_id(self) -> str:
        return self.config.site.id

    @property
    def witness_check_required(self) -> bool:
        """Whether a witness or victim is checked before going on (site ``witnesses.security_check``)."""
        return self.config.witnesses.security_check != "none"

    def room_of_kind(self, kind: str) -> str | None:
        """The site's first room of a kind (registration, search, collection): where that step happens."""
        return next((r.id for r in self.config.rooms if r.kind == kind), None)

    def room(self, room_id: str) -> RoomConfig:
        from ..domain.errors import NotFound

        room = self.config.room(room_id)
        if room is None:
            raise NotFound("room", room_id, "房间")
        return room
