"""Scripted scenarios of the simulated centre, run through the control interface (``POST /scenarios/<name>``).

Each takes the :class:`SimSite` and optional parameters and returns a JSON-able account of what it did. Scenarios act
as people do (a subject walks, a tag moves); the controller sees only what the devices report.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from hw_sim.site import SimSite


async def gate_alarm_zone3(site: SimSite, tag_id: str = "tag-demo-1", zones: list[int] | None = None) -> dict[str, Any]:
    """A subject enters the search room and walks through the metal gate, which alarms in zone 3."""
    gate = site.first("metal_gate")
    moved = None
    try:
        moved = site.by_room("wristband_reader", site.rooms.get(gate.device_id) or "search").tag_move(tag_id)
    except LookupError:
        pass  # a site without a reader in the search room still has a gate
    transit = gate.walk_through(zones=zones or [3])
    return {"tag": moved, "gate": gate.device_id, "transit": transit}


async def tag_moves_wait2_to_int1(site: SimSite, tag_id: str = "tag-demo-1") -> dict[str, Any]:
    """A tag is seen in waiting room 2, then moves to interrogation room 1 (waiting room 2 reports it absent)."""
    first = site.by_room("wristband_reader", "wait-2").tag_move(tag_id)
    second = site.by_room("wristband_reader", "int-1").tag_move(tag_id)
    return {"steps": [first, second]}


SCENARIOS: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
    "gate_alarm_zone3": gate_alarm_zone3,
    "tag_moves_wait2_to_int1": tag_moves_wait2_to_int1,
}


def describe() -> dict[str, str]:
    return {name: (inspect.getdoc(fn) or "").splitlines()[0] for name, fn in SCENARIOS.items()}

