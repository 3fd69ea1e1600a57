"""Prometheus text exposition of the controller's vital signs (open stays, open alarms, queues, sync lag)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from .container import Container
from .services.common import OPEN
from .store.tables import Alarm, OutboxEntry, Stay


async def render(c: Container) -> str:
    def q(s: Any) -> dict[str, Any]:
        return {
            "stays_open": s.exec(select(func.count()).select_from(Stay).where(col(Stay.state).in_(OPEN))).one(),
            "alarms_open": dict(s.exec(select(Alarm.severity, func.count()).where(Alarm.state != "resolved")
                                       .group_by(Alarm.severity)).all()),
            "outbox_seq": s.exec(select(func.max(OutboxEntry.seq))).one() or 0,
        }

    v = await c.db.read(q)
    lines = [
        "# HELP hcc_stays_open Open stays in the centre", "# TYPE hcc_stays_open gauge",
        f"hcc_stays_open {v['stays_open']}",
        "# HELP hcc_alarms_open Open alarms by severity", "# TYPE hcc_alarms_open gauge",
    ]
    for sev in ("info", "warning", "critical"):
        lines.append(f'hcc_alarms_open{{severity="{sev}"}} {v["alarms_open"].get(sev, 0)}')
    lines += ["# HELP hcc_outbox_seq Highest outbox sequence written", "# TYPE hcc_outbox_seq counter",
              f"hcc_outbox_seq {v['outbox_seq']}",
              "# HELP hcc_live_events_total Live events published", "# TYPE hcc_live_events_total counter",
              f"hcc_live_events_total {c.hub.published}",
              "# HELP hcc_scheduler_sweeps_total Timer sweeps run", "# TYPE hcc_scheduler_sweeps_total counter",
              f"hcc_scheduler_sweeps_total {c.scheduler.sweeps}"]
    for extra in c.extras.get("metrics", []):
        lines += await extra()
    return "\n".join(lines) + "\n"
