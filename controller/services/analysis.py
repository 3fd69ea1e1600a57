"""运行状况分析研判: how the centre ran over a period, computed from the record (no separate counters to drift).

Definitions (each figure says what it counts, so a reader can check it against the ledger):
- entries: stays whose ``entered_at`` falls in [start, end), by legal measure, by role, and by local day.
- stay length: of those entries that have exited, exit minus entry; average and longest.
- overdue (零滞留, target 0): of those entries, stays that were (or still are, at ``now``) inside past their legal
  deadline; 《公安机关执法办案场所办案区使用管理规定》 sets the 24-hour cap and the law each basis's limit.
- alarms: raised in the period, by kind; time to acknowledge and to resolve (of those acknowledged/resolved).
- welfare checks: checks done in the period and late-check alarms raised in it; each late alarm is one round that
  was not on time and is closed by a check, so compliance = (checks - late) / checks.
- recording: interviews started in the period; recorded share = 1 - gap time / interview time (rule 3: every
  interrogation recorded in full, 《公安机关讯问犯罪嫌疑人录音录像工作规定》).
- device availability: 1 - offline time (device_offline alarms, clipped to the period) / (devices x period).
- 入区率: distinct case numbers entered / the case count the site supplies, where it does.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select as sa_select  # more than four columns: SQLModel's select types up to four
from sqlmodel import Session, col, select

from ..clock import utc
from ..domain.alarms import ALARM_KINDS
from ..store.tables import Alarm, Interview, Stay, WelfareCheck
from .context import SiteContext


def _stat(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"count": 0, "avg": None, "max": None}
    return {"count": len(values), "avg": round(sum(values) / len(values), 1), "max": round(max(values), 1)}


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def _parse(ts: Any) -> datetime | None:
    if ts is None:
        return None
    return utc(datetime.fromisoformat(ts)) if isinstance(ts, str) else utc(ts)


def analyse(session: Session, ctx: SiteContext, start: datetime, end: datetime, now: datetime,
            case_count: int | None = None) -> dict[str, Any]:
    start, end, now = utc(start), utc(end), utc(now)
    tz = ZoneInfo(ctx.config.site.timezone)
    in_range = (col(Stay.entered_at) >= start, col(Stay.entered_at) < end)

    by_measure = {k: int(n) for k, n in session.exec(
        select(Stay.legal_basis, func.count()).where(*in_range).group_by(Stay.legal_basis)).all()}
    by_role = {k: int(n) for k, n in session.exec(
        select(Stay.role, func.count()).where(*in_range).group_by(Stay.role)).all()}
    cases = int(session.exec(select(func.count(func.distinct(Stay.case_no))).where(*in_range)).one())

    lengths: list[float] = []
    by_day: Counter[str] = Counter()
    overdue: list[dict[str, Any]] = []
    longest: dict[str, Any] | None = None
    rows = session.execute(sa_select(col(Stay.id), col(Stay.subject_name), col(Stay.case_no), col(Stay.entered_at),
                                     col(Stay.exited_at), col(Stay.deadline_at)).where(*in_range)).all()
    for sid, name, case_no, entered, exited, deadline in rows:
        entered, deadline = utc(entered), utc(deadline)
        by_day[entered.astimezone(tz).date().isoformat()] += 1
        left = utc(exited) if exited is not None else None
        if left is not None:
            minutes = (left - entered).total_seconds() / 60
            lengths.append(minutes)
            if longest is None or minutes > longest["minutes"]:
                longest = {"stay_id": sid, "name": name, "case_no": case_no, "minutes": round(minutes, 1)}
        last = left or now
        if last > deadline:
            overdue.append({"stay_id": sid, "name": name, "case_no": case_no, "open": left is None,
                            "over_minutes": round((last - deadline).total_seconds() / 60, 1)})
    entries = sum(by_measure.values())

    # alarms raised in the period
    kinds: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"ack": [], "resolve": [], "n": []})
    for kind, raised, acked, resolved in session.exec(
            select(Alarm.kind, Alarm.raised_at, Alarm.acknowledged_at, Alarm.resolved_at)
            .where(Alarm.raised_at >= start, Alarm.raised_at < end)).all():
        k = kinds[kind]
        k["n"].append(1.0)
        r = utc(raised)
        if acked is not None:
            k["ack"].append((utc(acked) - r).total_seconds())
        if resolved is not None:
            k["resolve"].append((utc(resolved) - r).total_seconds())
    alarms = {kind: {"title": ALARM_KINDS.get(kind, ("", "其他报警", "other alarm"))[1],
                     "title_en": ALARM_KINDS.get(kind, ("", "其他报警", "other alarm"))[2], "count": len(v["n"]), "acknowledged": len(v["ack"]), "resolved": len(v["resolve"]),
                     "ack_seconds": _stat(v["ack"]), "resolve_seconds": _stat(v["resolve"])}
              for kind, v in sorted(kinds.items())}

    checks = int(session.exec(select(func.count()).select_from(WelfareCheck)
                              .where(WelfareCheck.at >= start, WelfareCheck.at < end)).one())
    late = len(kinds["welfare_check_late"]["n"]) if "welfare_check_late" in kinds else 0
    welfare = {"checks": checks, "late": late,
               "compliance": round(max(0, checks - late) / checks, 4) if checks else (None if not late else 0.0)}

    total = gap_total = 0.0
    gaps = 0
    unrecorded = 0
    for started, ended, gap_list, recording_id, state in session.execute(
            sa_select(col(Interview.started_at), col(Interview.ended_at), col(Interview.gaps),
                      col(Interview.recording_id), col(Interview.state))
            .where(col(Interview.started_at) >= start, col(Interview.started_at) < end)).all():
        a = utc(started)
        b = utc(ended) if ended is not None else now
        total += max(0.0, (b - a).total_seconds())
        for g in gap_list or []:
            g_from, g_to = _parse(g.get("from")), _parse(g.get("to")) or b
            if g_from is not None:
                gaps += 1
                gap_total += max(0.0, (g_to - g_from).total_seconds())
        if recording_id is None and state != "ended":
            unrecorded += 1
    interviews = int(session.exec(select(func.count()).select_from(Interview)
                                  .where(Interview.started_at >= start, Interview.started_at < end)).one())
    recording = {"interviews": interviews, "interview_seconds": round(total, 1), "gap_seconds": round(gap_total, 1),
                 "gaps": gaps, "recorded_share": _share(total - gap_total, total), "without_recording": unrecorded}

    span = max(0.0, (min(end, now) - start).total_seconds())
    device_ids = [d.id for d in ctx.config.devices]
    offline: dict[str, float] = defaultdict(float)
    for device_id, raised, resolved in session.exec(
            select(Alarm.device_id, Alarm.raised_at, Alarm.resolved_at).where(
                Alarm.kind == "device_offline", Alarm.raised_at < end,
                (col(Alarm.resolved_at).is_(None)) | (col(Alarm.resolved_at) > start))).all():
        a, b = max(utc(raised), start), min(utc(resolved) if resolved is not None else now, end)
        if b > a:
            offline[device_id or "?"] += (b - a).total_seconds()
    devices = {"devices": len(device_ids), "offline_seconds": {k: round(v, 1) for k, v in sorted(offline.items())},
               "availability": _share(len(device_ids) * span - sum(offline.values()), len(device_ids) * span)}

    days: list[dict[str, Any]] = []
    d = start.astimezone(tz).date()
    while d < end.astimezone(tz).date() + timedelta(days=1) and len(days) < 400:
        if datetime(d.year, d.month, d.day, tzinfo=tz) < end:
            days.append({"day": d.isoformat(), "entries": by_day.get(d.isoformat(), 0)})
        d += timedelta(days=1)

    return {
        "from": start.isoformat(), "to": end.isoformat(), "generated_at": now.isoformat(),
        "site": {"id": ctx.site_id, "name": ctx.config.site.name},
        "entries": {"count": entries, "by_measure": by_measure, "by_role": by_role, "by_day": days, "cases": cases},
        "stay_minutes": {**_stat(lengths), "longest": longest},
        "overdue": {"count": len(overdue), "target": 0, "stays": sorted(overdue, key=lambda o: -o["over_minutes"])[:20]},
        "alarms": alarms, "welfare": welfare, "recording": recording, "devices": devices,
        "entry_rate": {"case_count": case_count, "cases_entered": cases,
                       "rate": _share(cases, case_count) if case_count else None},
    }
