"""Alarms: kinds, severities, and the lifecycle raised -> acknowledged -> resolved, with escalation timing."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from .errors import RuleViolation


class AlarmState(enum.StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


# kind -> (severity, Chinese title, English title)
ALARM_KINDS: dict[str, tuple[str, str, str]] = {
    "deadline_warning": ("warning", "即将超时", "deadline approaching"),
    "deadline_overdue": ("critical", "已超过法定时限", "legal time limit passed"),
    "welfare_check_late": ("warning", "巡查超时", "welfare check late"),
    "recording_failed": ("critical", "同步录音录像故障", "recording failed"),
    "panic": ("critical", "紧急报警", "panic button pressed"),
    "device_offline": ("warning", "设备离线", "device offline"),
    "unknown_tag": ("warning", "未登记手环", "wristband with no open stay"),
    "tag_removed": ("critical", "手环被拆除", "wristband removed"),
    "lone_officer": ("critical", "单人审讯", "fewer than two officers in an interview"),
    "unattended": ("critical", "无人看管", "subject unattended"),
    "co_case_contact": ("critical", "同案人员接触", "co-case subjects in one room"),
    "locker_forced": ("critical", "储物柜异常开启", "locker opened without an order"),
    "placement_override": ("info", "候问安置越权批准", "placement rule overridden by a supervisor"),
    "location_not_allowed": ("warning", "人员位置异常", "subject in a place the stay does not allow"),
    "alarm_escalated": ("critical", "报警未确认已升级", "alarm escalated"),
    "door_forced": ("critical", "门被强行打开", "door forced open"),
    "locker_not_empty": ("warning", "储物柜清空后仍有物品", "locker not empty after exit"),
    "custody_overdue": ("warning", "涉案财物/卷宗逾期未归还", "case property or file not returned on time"),
    "custody_transfer_late": ("warning", "涉案财物逾期未移交管理中心", "case property not transferred in time"),
    "device_forged": ("critical", "设备应答未通过验证", "device reply failed verification"),
    "device_unknown": ("warning", "未登记设备发送消息", "messages from an unlisted device"),
    "notification_due": ("warning", "未按时通知家属", "notification of the measure is late"),
}

SEVERITY_ORDER = {"info": 0, "warning": 1, "critical": 2}


def severity_of(kind: str) -> str:
    return ALARM_KINDS[kind][0]


def acknowledge(state: AlarmState) -> AlarmState:
    if state is not AlarmState.RAISED:
        raise RuleViolation("ALARM_NOT_RAISED", "该报警已确认或已处置", "the alarm is not in the raised state",
                            state=state.value)
    return AlarmState.ACKNOWLEDGED


def resolve(state: AlarmState, note: str) -> AlarmState:
    if state is AlarmState.RESOLVED:
        raise RuleViolation("ALARM_RESOLVED", "该报警已处置", "the alarm is already resolved")
    if not note.strip():
        raise RuleViolation("NOTE_REQUIRED", "请填写处置说明", "a resolution note is required", status=422)
    return AlarmState.RESOLVED


def due_for_escalation(state: AlarmState, raised_at: datetime, escalated: bool, now: datetime,
                       limit: timedelta) -> bool:
    """An alarm nobody acknowledged within ``limit`` goes to the supervisor, once."""
    return state is AlarmState.RAISED and not escalated and now - raised_at >= limit


def due_for_repeat(state: AlarmState, last_notified: datetime, now: datetime, every: timedelta) -> bool:
    """An overdue alarm repeats until someone acts on it."""
    return state is AlarmState.RAISED and now - last_notified >= every
