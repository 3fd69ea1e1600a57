"""Prometheus text exposition of the controller's vital signs: open stays, alarms, transitions, devices, queues.

Transitions are counted from the audit trail (stay entries by action), so the counter survives restarts and
cannot disagree with the record; device availability comes from the devicebus snapshot when devices are attached;
queue depths are the live hub's subscriber queues (WebSocket clients, devicebus).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from .container import Container
from .services.common import OPEN
from .store.tables import Alarm, AuditEntry, OutboxEntry, Stay


async def render(c: Container) -> str:
    def q(s: Any) -> dict[str, Any]:
        return {
            "stays_open": s.exec(select(func.count()).select_from(Stay).where(col(Stay.state).in_(OPEN))).one(),
            "alarms_open": dict(s.exec(select(Alarm.severity, func.count()).where(Alarm.state != "resolved")
                                       .group_by(Alarm.severity)).all()),
            "outbox_seq": s.exec(select(func.max(OutboxEntry.seq))).one() or 0,
            "transitions": dict(s.exec(select(AuditEntry.action, func.count()).where(AuditEntry.entity == "stay")
                                       .group_by(AuditEntry.action)).all()),
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
    lines += ["# HELP hcc_transitions_total Stay transitions recorded, by action",
              "# TYPE hcc_transitions_total counter"]
    lines += [f'hcc_transitions_total{{action="{_label(a)}"}} {n}' for a, n in sorted(v["transitions"].items())]
    bus = c.devices
    if bus is not None:
        lines += ["# HELP hcc_device_up Device availability (1 online, 0 otherwise) by device",
                  "# TYPE hcc_device_up gauge"]
        rows = bus.snapshot()
        for row in rows:
            up = 1 if row.get("availability") == "online" else 0
            lines.append(f'hcc_device_up{{device="{_label(row["id"])}",kind="{_label(row["kind"])}"}} {up}')
        # each device's intake (devices/intake.py): duplicates folded and distinct events dropped under a flood
        lines += ["# HELP hcc_device_events_shed_total Device events shed by the device's intake, by how",
                  "# TYPE hcc_device_events_shed_total counter"]
        for row in rows:
            for how, n in sorted((row.get("intake") or {}).get("shed", {}).items()):
                lines.append(f'hcc_device_events_shed_total{{device="{_label(row["id"])}",how="{_label(how)}"}} {n}')
        if bus.bridge is not None:
            lines += ["# HELP hcc_bridge_late_results_total Device bridge answers no caller waited for any more (its "
                      "timeout had passed, or a repeat), by code (BRIDGE_EXPIRED: not run, the command had expired)",
                      "# TYPE hcc_bridge_late_results_total counter"]
            lines += [f'hcc_bridge_late_results_total{{code="{_label(code)}"}} {n}'
                      for code, n in sorted(bus.bridge.late_results.items())]
            lag = bus.bridge.presence_lag
            lines += ["# HELP hcc_presence_lag_seconds How late wristband moves arrive, by stage (reader: the "
                      "reader's report to the bridge's send; bridge: the bridge's send to the controller)",
                      "# TYPE hcc_presence_lag_seconds histogram"]
            for stage in sorted(lag.counts):
                cum = lag.cumulative(stage)
                lines += [f'hcc_presence_lag_seconds_bucket{{stage="{stage}",le="{le}"}} {n}' for le, n in cum]
                lines += [f'hcc_presence_lag_seconds_sum{{stage="{stage}"}} {lag.sums[stage]:.6f}',
                          f'hcc_presence_lag_seconds_count{{stage="{stage}"}} {cum[-1][1]}']
        lines += ["# HELP hcc_device_events_queued Device events waiting in the device's intake queue",
                  "# TYPE hcc_device_events_queued gauge"]
        lines += [f'hcc_device_events_queued{{device="{_label(row["id"])}"}} {(row.get("intake") or {}).get("queued", 0)}'
                  for row in rows]
    queues = list(getattr(c.hub, "_queues", ()))
    lines += ["# HELP hcc_live_subscribers Live event subscribers (WebSocket clients, devicebus)",
              "# TYPE hcc_live_subscribers gauge", f"hcc_live_subscribers {len(queues)}",
              "# HELP hcc_live_queue_depth_max Deepest subscriber queue of live events",
              "# TYPE hcc_live_queue_depth_max gauge", f"hcc_live_queue_depth_max {max((q.qsize() for q in queues), default=0)}",
              "# HELP hcc_live_queue_depth_total Live events waiting in all subscriber queues",
              "# TYPE hcc_live_queue_depth_total gauge", f"hcc_live_queue_depth_total {sum(q.qsize() for q in queues)}"]
    if c.sync_pusher is not None:
        lines += await c.sync_pusher.metrics()
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
