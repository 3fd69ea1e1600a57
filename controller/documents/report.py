"""The daily report (运行状况日报) laid out for print: figures, bars by measure, alarms by kind, overdue stays."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..domain.alarms import ALARM_KINDS
from .pdf import Block, Chart, Document, Fields, Grid, Heading, Text, render
from .templates import BASIS, ROLE, duration, label


def _pct(v: Any) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def _mins(v: Any) -> str:
    return "—" if v is None else duration(float(v) * 60)


def _secs(v: Any) -> str:
    return "—" if v is None else duration(float(v))


def report_blocks(st: dict[str, Any]) -> list[Block]:
    e, sm, od = st["entries"], st["stay_minutes"], st["overdue"]
    rec, wf, dv, er = st["recording"], st["welfare"], st["devices"], st["entry_rate"]
    longest = sm.get("longest") or {}
    blocks: list[Block] = [
        Heading("一、总体情况"),
        Fields([("入区人数", str(e["count"])), ("涉及案件", str(e["cases"])),
                ("平均在区时长", _mins(sm["avg"])), ("最长在区时长", _mins(sm["max"])
                                                     + (f"（{longest.get('name')}）" if longest else "")),
                ("超时滞留（零滞留目标 0）", str(od["count"])), ("入区率", _pct(er["rate"]) + (
                    f"（{er['cases_entered']}/{er['case_count']} 起）" if er.get("case_count") else "（未提供案件数）")),
                ("巡查合规率", _pct(wf["compliance"]) + f"（巡查 {wf['checks']} 次，超时 {wf['late']} 次）"),
                ("同步录音录像完整率", _pct(rec["recorded_share"]) + f"（中断 {rec['gaps']} 次，共 {_secs(rec['gap_seconds'])}）"),
                ("设备在线率", _pct(dv["availability"]) + f"（{dv['devices']} 台）"),
                ("讯（询）问次数", str(rec["interviews"]))]),
        Chart("按法律依据", [(label(BASIS, k), float(v), str(v)) for k, v in sorted(e["by_measure"].items())]),
        Chart("按人员类别", [(label(ROLE, k), float(v), str(v)) for k, v in sorted(e["by_role"].items())]),
        Heading("二、报警及处置"),
        Grid(["类型", "次数", "已确认", "平均确认用时", "最长确认用时", "已处置", "平均处置用时"],
             [[ALARM_KINDS.get(k, ("", "其他报警", ""))[1], str(a["count"]), str(a["acknowledged"]),
               _secs(a["ack_seconds"]["avg"]), _secs(a["ack_seconds"]["max"]), str(a["resolved"]),
               _secs(a["resolve_seconds"]["avg"])] for k, a in st["alarms"].items()], [2, 0.8, 0.8, 1.3, 1.3, 0.8, 1.3],
             empty="无报警"),
        Heading("三、超时滞留人员"),
        Grid(["姓名", "案件编号", "超时", "状态"],
             [[o["name"], o["case_no"], _mins(o["over_minutes"]), "仍在区" if o["open"] else "已出区"]
              for o in od["stays"]], empty="无（零滞留）"),
        Heading("四、每日入区"),
        Chart("入区人数", [(d["day"], float(d["entries"]), str(d["entries"])) for d in e["by_day"]][-31:]),
        Text("口径：入区按入区时间计；在区时长、超时按该期间入区的人员计；报警按报警时间计；巡查合规率 = (巡查次数 - 巡查超时次数) / 巡查次数；"
             "录音录像完整率 = 1 - 中断时长 / 讯（询）问时长；设备在线率 = 1 - 离线时长 / (设备数 × 期间时长)。", small=True),
    ]
    return blocks


def render_report(st: dict[str, Any], *, title: str, tz: str, now: datetime, document_id: str) -> tuple[bytes, str]:
    zone = ZoneInfo(tz)
    start = datetime.fromisoformat(st["from"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    end = datetime.fromisoformat(st["to"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    doc = Document(title=title, blocks=report_blocks(st), document_id=document_id,
                   generated_at=now.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"), site_name=st["site"]["name"],
                   subtitle=f"{st['site']['name']} · 统计期间 {start} 至 {end}")
    pdf = render(doc)
    return pdf, hashlib.sha256(pdf).hexdigest()
