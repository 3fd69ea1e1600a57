"""One template per document kind: the data dict of ``services/documents.py`` laid out as blocks (``pdf.py``).

Adding a document kind = one data function there + one function here, named in ``TEMPLATES`` by the same kind.
Everything printed is Chinese; codes are translated with ``labels`` and never printed raw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..domain.alarms import ALARM_KINDS
from .pdf import Block, Fields, Grid, Heading, Signatures, Text

BASIS = {"criminal_summons": "刑事传唤", "compelled_appearance": "拘传", "admin_summons": "治安传唤",
         "verbal_summons": "口头传唤", "continued_questioning": "继续盘问", "criminal_detention": "刑事拘留",
         "voluntary_surrender": "投案", "witness_inquiry": "证人询问", "citizen_arrest": "扭送"}
ROLE = {"suspect": "嫌疑人", "witness": "证人", "victim": "被害人"}
SEX = {"male": "男", "female": "女"}
ID_TYPE = {"resident_id": "居民身份证", "passport": "护照", "other": "其他证件"}
SOURCE = {"id_card": "身份证阅读器读取", "manual": "人工录入"}
MANUAL_REASON = {"no_card": "未携带证件", "reader_failed": "读卡器故障", "foreign": "外籍人员", "other": "其他"}
CATEGORY = {"personal": "个人物品", "valuable": "贵重物品", "cash": "现金", "phone": "手机", "dangerous": "危险物品",
            "case_related": "涉案物品"}
ITEM_DISPOSITION = {"returned": "本人领回", "handed_to_family": "家属代领", "seized": "扣押（涉案财物）",
                    "travels_with_subject": "随人移交"}
DISPOSITION = {"released": "释放", "to_detention_centre": "送看守所", "to_detention_house": "送拘留所",
               "bail": "取保候审", "residential_surveillance": "监视居住", "handed_over": "移交",
               "to_hospital": "送医"}
GATE = {"pass": "通过", "alarm": "报警", "not_used": "未使用"}
HANDHELD = {"clear": "未发现", "found": "发现金属物品", "not_used": "未使用"}
ACTIVITY = {"drug_test": "毒品检测", "alcohol_test": "酒精检测", "medical_check": "体检",
            "identification": "辨认", "lawyer_meeting": "律师会见", "remote_meeting": "远程会见"}
CARE = {"meal": "饮食", "water": "饮水", "rest": "休息", "medication": "服药", "toilet": "如厕"}
OBSERVATION = {"ok": "正常", "concern": "异常"}
ALARM_STATE = {"raised": "未确认", "acknowledged": "已确认", "resolved": "已处置"}
LEAVE_REASON = {"scene_identification": "指认现场", "recover_goods": "起赃", "hospital": "就医", "other": "其他"}
STATE = {"registered": "已登记", "searched": "已安检", "collected": "已采集", "property_stored": "物品已保管",
         "waiting": "候问中", "in_interview": "讯（询）问中", "in_activity": "活动中",
         "on_temporary_leave": "临时出区", "returned": "已返回", "exiting": "出区中", "exited": "已出区"}
ACTION = {
    "stay_registered": "入区登记", "stay_searched": "人身安全检查", "stay_searched_on_return": "返回复检",
    "stay_collected": "信息采集", "face_captured": "人像采集", "capture_linked": "人像关联", "property_stored": "随身物品保管",
    "stay_placed": "候问安置", "interview_started": "讯（询）问开始", "interview_paused": "讯（询）问暂停",
    "interview_resumed": "讯（询）问继续", "interview_ended": "讯（询）问结束", "activity_started": "活动开始",
    "activity_ended": "活动结束", "temporary_leave_started": "临时出区", "temporary_leave_returned": "临时出区返回",
    "deadline_extended": "延长时限", "exit_started": "开始出区", "stay_exited": "出区完成", "care_recorded": "生活照料",
    "correction": "更正", "alarm_raised": "报警", "alarm_acknowledged": "报警确认", "alarm_resolved": "报警处置",
    "alarm_repeated": "报警重复", "alarm_escalated": "报警升级", "locker_opened": "储物柜开启",
    "locker_open_failed": "储物柜开启失败", "locker_state_changed": "储物柜状态变化", "document_generated": "生成文书",
}


def label(table: dict[str, str], code: Any) -> str:
    if code is None or code == "":
        return "—"
    return table.get(str(code), "其他")


def yes_no(v: Any) -> str:
    return "是" if v else "否"


@dataclass(frozen=True)
class Ctx:
    """What a template needs beyond the data: local time, room names, where signature images are kept."""

    tz: ZoneInfo
    rooms: dict[str, str]
    signatures_dir: Path

    def time(self, iso: str | None) -> str:
        if not iso:
            return "—"
        return datetime.fromisoformat(iso).astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def room(self, room_id: str | None) -> str:
        return self.rooms.get(room_id, "—") if room_id else "—"

    def span(self, span: dict[str, Any]) -> str:
        """The recorder's own start and end of the recording, as it reported them."""
        ends = [span.get("started_at"), span.get("ended_at")]
        if not all(ends):
            return ""
        try:
            return f"（{self.time(str(ends[0]))}至{self.time(str(ends[1]))}）"
        except ValueError:
            return f"（{ends[0]}至{ends[1]}）"

    def signature(self, sig_id: str | None) -> Path:
        """Where a kiosk signature's image is; a path that does not exist where none was drawn."""
        return self.signatures_dir / f"{sig_id or 'none'}.png"


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}小时{m:02d}分" if h else f"{m}分{s:02d}秒"


def _subject_fields(d: dict[str, Any], c: Ctx) -> Fields:
    s = d["subject"]
    number = s["id_number"] + ("（已脱敏）" if s.get("id_masked") else "")
    return Fields([
        ("姓名", s["name"]), ("性别", label(SEX, s["sex"])),
        ("证件类型", label(ID_TYPE, s["id_type"])), ("证件号码", number),
        ("出生日期", s["birth_date"]), ("国籍", s["nationality"]),
        ("民族", s.get("ethnicity") or "—"), ("未成年人", yes_no(s.get("is_minor"))),
        ("住址", s.get("address") or "—"), ("身份核验", label(SOURCE, d["identity_source"])
                                          + (f"（{label(MANUAL_REASON, d['manual_entry_reason'])}）"
                                             if d.get("manual_entry_reason") else "")),
    ])


def _case_fields(d: dict[str, Any], c: Ctx) -> Fields:
    return Fields([
        ("案件编号", d["case_no"]), ("人员类别", label(ROLE, d["role"])),
        ("法律依据", label(BASIS, d["legal_basis"])), ("起算时间", c.time(d["basis_started_at"])),
        ("入区时间", c.time(d["entered_at"])), ("法定时限", c.time(d["deadline_at"])),
        ("办案民警", "、".join(d["case_officers"]) or "—"), ("登记人", d["registered_by"]),
        ("简要案情", d.get("case_summary") or "—"), ("当前状态", label(STATE, d["state"])),
    ])


def registration(d: dict[str, Any], c: Ctx) -> list[Block]:
    flags = [k for k, v in (d.get("flags") or {}).items() if v]
    return [Heading("一、人员基本情况"), _subject_fields(d, c), Heading("二、案件与法律依据"), _case_fields(d, c),
            Fields([("手环编号", d.get("wristband_id") or "—"),
                    ("特别标注", "、".join({"intoxicated": "醉酒", "injured": "有伤", "ill": "患病"}.get(f, "其他")
                                          for f in flags) or "无")]),
            Signatures([("登记民警", None, "签名："), ("被带入人员", None, "签名（捺指印）：")])]


def security_check(d: dict[str, Any], c: Ctx) -> list[Block]:
    rows = []
    for r in d["searches"]:
        f = r.get("findings") or {}
        rows.append([("出区检查" if r.get("exit") else "入区检查") + " " + c.time(r.get("at")),
                     r.get("checker") or "—", r.get("witness") or "—",
                     label(GATE, r.get("gate_result")) + (f"（报警区 {','.join(map(str, r['gate_zones']))}）"
                                                         if r.get("gate_zones") else ""),
                     label(HANDHELD, r.get("handheld_result")),
                     f.get("injuries") or "无", f.get("contraband") or "无", f.get("self_reported_illness") or "无"])
    return [Heading("被检查人"), Fields([("姓名", d["subject"]["name"]), ("性别", label(SEX, d["subject"]["sex"])),
                                       ("案件编号", d["case_no"]), ("入区时间", c.time(d["entered_at"]))]),
            Heading("检查记录"),
            Grid(["时间", "检查人", "见证人", "安检门", "手持探测", "体表伤情", "违禁/危险物品", "自述疾病"], rows,
                 [2.2, 1, 1, 1.3, 1.1, 1.3, 1.3, 1.2], empty="尚无检查记录"),
            Text("依据《公安机关办理刑事案件程序规定》《公安机关执法办案场所办案区使用管理规定》，人身安全检查由同性别工作人员进行，"
                 "并有见证人在场。", small=True),
            Signatures([("检查人", None, "签名："), ("见证人", None, "签名："), ("被检查人", None, "签名：")])]


def property_list(d: dict[str, Any], c: Ctx) -> list[Block]:
    rows = []
    for i, it in enumerate(d["items"], 1):
        detail = ""
        if it.get("receiver_name"):
            detail = f"领取人 {it['receiver_name']} {it.get('receiver_id_number') or ''}".strip()
        if it.get("document_no"):
            detail = f"扣押文书 {it['document_no']}"
        rows.append([str(i), it["description"], str(it["quantity"]), label(CATEGORY, it["category"]),
                     label(ITEM_DISPOSITION, it.get("disposition")) if it.get("disposition") else "保管中",
                     detail or "—", c.time(it.get("disposed_at"))])
    return [Heading("物品持有人"), Fields([("姓名", d["subject"]["name"]), ("证件号码", d["subject"]["id_number"]),
                                        ("案件编号", d["case_no"]), ("入区时间", c.time(d["entered_at"])),
                                        ("保管人", d.get("custodian") or "—"),
                                        ("储物柜", (d.get("locker_id") or "—").upper())]),
            Heading("物品清单"),
            Grid(["序号", "物品名称", "数量", "类别", "处置", "领取/扣押", "处置时间"], rows,
                 [0.6, 2.4, 0.7, 1.2, 1.4, 2.4, 1.6], empty="未登记随身物品"),
            Text("以上物品经本人当面清点无误。出区时逐项核对处置；扣押物品另附扣押清单。", small=True),
            Signatures([("入区时 被带入人员确认", c.signature(d.get("intake_signature_id")), "本人签名（保管）"),
                        ("出区时 被带入人员确认", c.signature(d.get("exit_signature_id")), "本人签名（领回/处置）"),
                        ("保管人", None, "签名：")])]


def exit_handover(d: dict[str, Any], c: Ctx) -> list[Block]:
    ex = d.get("exit") or {}
    findings = ex.get("findings") or {}
    blocks: list[Block] = [
        Heading("出区人员"), _subject_fields(d, c), _case_fields(d, c),
        Heading("出区情况"),
        Fields([("出区去向", label(DISPOSITION, d.get("disposition"))), ("出区时间", c.time(d.get("exited_at"))),
                ("经办人", ex.get("by") or "—"), ("出区检查", findings.get("contraband") or "未发现违禁物品"),
                ("体表伤情", findings.get("injuries") or "无"), ("随身物品", f"{len(d['items'])} 件，详见物品处置")]),
        Heading("物品处置"),
        Grid(["物品名称", "数量", "处置", "说明"],
             [[it["description"], str(it["quantity"]),
               label(ITEM_DISPOSITION, it.get("disposition")) if it.get("disposition") else "未处置",
               it.get("document_no") or it.get("receiver_name") or "—"] for it in d["items"]], [3, 1, 2, 3]),
    ]
    if d.get("leaves"):
        blocks += [Heading("临时出区记录"), Grid(["事由", "批准人", "离开", "返回"],
                                           [[label(LEAVE_REASON, lv["reason"]), lv["approver"], c.time(lv["left_at"]),
                                             c.time(lv["returned_at"])] for lv in d["leaves"]])]
    blocks.append(Signatures([("移交人", None, "签名："), ("接收人/单位", None, "签名（盖章）："),
                              ("被带出人员", c.signature(d.get("exit_signature_id")), "本人签名")]))
    return blocks


def custody_record(d: dict[str, Any], c: Ctx) -> list[Block]:
    interviews = []
    for iv in d["interviews"]:
        span = iv.get("recording_span") or {}
        gaps = "；".join(f"{c.time(g.get('from'))}至{c.time(g.get('to'))}" for g in iv["gaps"]) or "无中断"
        interviews.append([c.room(iv["room_id"]), "、".join(iv["officers"]), c.time(iv["started_at"]),
                           c.time(iv["ended_at"]),
                           ("已录制" if iv.get("recording_id") or span else "无录像") + c.span(span),
                           gaps + (f"（共{duration(iv['gap_seconds'])}）" if iv["gaps"] else "")])
    return [
        Heading("一、人员与案件"), _subject_fields(d, c), _case_fields(d, c),
        Fields([("出区去向", label(DISPOSITION, d.get("disposition"))), ("出区时间", c.time(d.get("exited_at")))]),
        Heading("二、全程时间线"),
        Grid(["序号", "时间", "事项", "地点", "经办人"],
             [[str(e["seq"]), c.time(e["at"]), label(ACTION, e["action"]), c.room(e.get("room_id")), e["actor"]]
              for e in d["timeline"]], [0.7, 1.8, 2, 1.6, 1.3]),
        Heading("三、讯（询）问及同步录音录像"),
        Grid(["房间", "办案民警", "开始", "结束", "录音录像", "录像中断"], interviews, [1.2, 1.6, 1.5, 1.5, 1.6, 2.6],
             empty="无讯（询）问"),
        Heading("四、安全检查"),
        Grid(["时间", "检查人", "安检门", "违禁/危险物品"],
             [[c.time(r.get("at")), r.get("checker") or "—", label(GATE, r.get("gate_result")),
               (r.get("findings") or {}).get("contraband") or "无"] for r in d["searches"]]),
        Heading("五、巡查记录"),
        Grid(["时间", "房间", "巡查人", "情况"],
             [[c.time(w["at"]), c.room(w["room_id"]), w["by"], label(OBSERVATION, w["observation"]) + (f"（{w['note']}）" if w.get("note")
                                                                              else "")]
              for w in d["welfare_checks"]], empty="无巡查记录"),
        Heading("六、活动与生活照料"),
        Grid(["时间", "事项", "结果/说明"],
             [[c.time(a["started_at"]), label(ACTIVITY, a["kind"]), a.get("result") or "—"] for a in d["activities"]]
             + [[c.time(x["at"]), label(CARE, x["kind"]), x.get("note") or "—"] for x in d["care"]]),
        Heading("七、报警及处置"),
        Grid(["报警时间", "类型", "确认", "处置", "状态"],
             [[c.time(a["raised_at"]), ALARM_KINDS.get(a["kind"], ("", "其他报警", ""))[1], c.time(a["acknowledged_at"]),
               c.time(a["resolved_at"]), label(ALARM_STATE, a["state"])] for a in d["alarms"]], empty="无报警"),
        Heading("八、随身物品"),
        Grid(["物品名称", "数量", "类别", "处置"],
             [[it["description"], str(it["quantity"]), label(CATEGORY, it["category"]),
               label(ITEM_DISPOSITION, it.get("disposition")) if it.get("disposition") else "保管中"]
              for it in d["items"]]),
        Text("本记录由办案中心站点控制器依审计日志生成；各条目的审计序号可与审计链核对。", small=True),
    ]


Template = Callable[[dict[str, Any], Ctx], list[Block]]
TEMPLATES: dict[str, Template] = {
    "registration": registration, "security_check": security_check, "property_list": property_list,
    "exit_handover": exit_handover, "custody_record": custody_record,
}
