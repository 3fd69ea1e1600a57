"""A busy centre's history, seeded straight into the tables (bulk inserts, deterministic by ``seed``): stays of every
measure and role, most exited in hours and a few overdue, an interview per suspect with the odd recording gap,
alarms acknowledged and resolved after a few minutes, welfare checks, a device offline now and then. Used by
``make bench ONLY=report`` (a year of 100 stays a day) and by the e2e test of the 统计 view (a week)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from controller.store.tables import Alarm, Interview, Stay, WelfareCheck

BASES = [("criminal_summons", 12), ("admin_summons", 8), ("verbal_summons", 8), ("compelled_appearance", 12),
         ("criminal_detention", 24), ("witness_inquiry", 8)]
KINDS = ["panic", "welfare_check_late", "deadline_warning", "recording_failed", "unattended", "device_offline"]


def seed_centre(engine: Engine, first_day: datetime, days: int, per_day: int, seed: int = 7,
                devices: tuple[str, ...] = ("gate-1", "idr-reg")) -> dict[str, int]:
    """Inserts ``days`` x ``per_day`` stays from ``first_day`` (aware) on; returns how many rows of each."""
    rng = random.Random(seed)
    first_day = first_day.astimezone(UTC)  # SQLite keeps the wall time it is given: hand it UTC, as the app does
    stays: list[dict[str, Any]] = []
    interviews: list[dict[str, Any]] = []
    alarms: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    n = 0
    for d in range(days):
        day0 = first_day + timedelta(days=d)
        for i in range(per_day):
            n += 1
            sid = f"seed-{n:07d}"
            basis, hours = BASES[rng.randrange(len(BASES))]
            role = "witness" if basis == "witness_inquiry" else ("victim" if rng.random() < 0.05 else "suspect")
            entered = day0 + timedelta(minutes=rng.randrange(24 * 60))
            deadline = entered + timedelta(hours=hours)
            length = timedelta(minutes=rng.randrange(60, hours * 60 + (90 if rng.random() < 0.03 else 0)))
            exited = entered + length
            stays.append({
                "id": sid, "state": "exited", "subject_name": f"人员{n}", "id_type": "resident_id",
                "id_number": f"1101051990{n:07d}X", "sex": "male" if rng.random() < 0.8 else "female",
                "birth_date": date(1990, 1, 1), "nationality": "CHN", "is_minor": False, "identity_source": "id_card",
                "role": role, "case_no": f"A-{day0:%Y%m%d}-{i // 2:03d}", "case_kind": "criminal",
                "legal_basis": basis, "basis_started_at": entered, "entered_at": entered, "deadline_at": deadline,
                "exited_at": exited, "disposition": "released", "registered_by": "cus-f", "version": 5,
                "case_officer_ids": ["off-1", "off-2"], "flags": {}, "searches": []})
            if role == "suspect":
                start = entered + timedelta(minutes=30)
                end = start + timedelta(minutes=rng.randrange(20, 120))
                gaps = []
                if rng.random() < 0.1:
                    g = start + timedelta(minutes=10)
                    gaps = [{"from": g.isoformat(), "to": (g + timedelta(minutes=rng.randrange(1, 8))).isoformat(),
                             "reason": "recording_failed"}]
                interviews.append({"id": f"iv-{sid}", "stay_id": sid, "room_id": "int-1", "state": "ended",
                                   "officer_ids": ["off-1", "off-2"], "recording_id": f"rec-{sid}",
                                   "started_at": start, "ended_at": end, "gaps": gaps})
            checks.append({"id": f"wc-{sid}", "room_id": "wait-1", "staff_id": "cus-f", "observation": "ok",
                           "at": entered + timedelta(minutes=45), "occupant_stay_ids": [sid]})
            if rng.random() < 0.15:
                kind = KINDS[rng.randrange(len(KINDS))]
                raised = entered + timedelta(minutes=rng.randrange(10, 60))
                acked = raised + timedelta(seconds=rng.randrange(20, 600))
                resolved = acked + timedelta(seconds=rng.randrange(60, 3600))
                alarms.append({"id": f"al-{sid}", "kind": kind, "severity": "warning", "state": "resolved",
                               "dedup_key": f"al-{sid}", "stay_id": sid, "raised_at": raised,
                               "acknowledged_at": acked, "resolved_at": resolved, "last_notified_at": raised,
                               "details": {}, "repeat_count": 0,
                               "device_id": devices[n % len(devices)] if kind == "device_offline" else None})
    with engine.begin() as conn:
        for table, rows in ((Stay, stays), (Interview, interviews), (Alarm, alarms), (WelfareCheck, checks)):
            for k in range(0, len(rows), 5000):
                conn.execute(insert(table.__table__), rows[k:k + 5000])  # type: ignore[attr-defined]
    return {"stays": len(stays), "interviews": len(interviews), "alarms": len(alarms), "welfare_checks": len(checks)}
