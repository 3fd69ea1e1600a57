"""Site variants for the interview safeguards' tests: the demo site has a wristband reader in every interview
room; a site without one in a room proves the appropriate adult's presence by the officer's confirmation there."""

from __future__ import annotations

from typing import Any


def without_readers(container: Any, *rooms: str) -> None:
    """The site as if the wristband readers of ``rooms`` were not installed (the config is frozen: a new one)."""
    cfg = container.ctx.config
    container.ctx.config = cfg.model_copy(update={"devices": [
        d for d in cfg.devices if not (d.kind == "wristband_reader" and d.room_id in rooms)]})
