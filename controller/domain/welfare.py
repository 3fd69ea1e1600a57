"""Welfare of the person held: meal and night-rest timers, welfare-check intervals by risk, and who may record a
check. Pure rules; ``services/welfare.py`` reads the stays and raises the alarms.

Sources:
- 《刑事诉讼法》第119条第3款: 传唤、拘传犯罪嫌疑人，应当保证犯罪嫌疑人的饮食和必要的休息时间. The police's own
  procedure rules repeat it for criminal and administrative cases and add that it is recorded (记录在案). No
  article fixes how often a meal is due or how long the night's rest is: the meal interval, the night window,
  the minimum continuous rest and every welfare-check interval below are site policy, set in the site file's
  ``[welfare]`` and ``[timing]`` sections.
- A welfare check (巡查) is the guard's own look into the room; it counts only when the guard was there
  (公安部《公安机关执法办案场所办案区使用管理规定》: 办案区 subjects are under watch the whole time, 全程看管).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from .errors import RuleViolation

# risk -> (Chinese name shown to staff, English name); the order is the order shown
RISK_NAMES: dict[str, tuple[str, str]] = {
    "self_harm_risk": ("有自伤自残风险", "self-harm risk"),
    "intoxicated": ("醉酒", "intoxicated"),
    "minor": ("未成年人", "minor"),
    "pregnant": ("怀孕", "pregnant"),
    "ill": ("患病", "ill"),
    "injured": ("受伤", "injured"),
}


@dataclass(frozen=True)
class Reason:
    code: str
    minutes: int

    def view(self) -> dict[str, object]:
        zh, en = RISK_NAMES[self.code]
        return {"code": self.code, "name": zh, "name_en": en, "minutes": self.minutes}


@dataclass(frozen=True)
class CheckInterval:
    """How often a room (or one subject) is looked at, and the risks that make it so (shortest first)."""

    minutes: int
    reasons: tuple[Reason, ...] = ()

    def view(self) -> dict[str, object]:
        applying = [r for r in self.reasons if r.minutes == self.minutes]
        return {"minutes": self.minutes, "reasons": [r.view() for r in applying],
                "all_reasons": [r.view() for r in self.reasons]}


def risks(flags: Mapping[str, object] | None, is_minor: bool) -> list[str]:
    """The welfare risks of one subject: the health check's flags, the intoxicated flag, and being a minor."""
    f = flags or {}
    return [code for code in RISK_NAMES if (is_minor if code == "minor" else bool(f.get(code)))]


def check_interval(subject_risks: Iterable[Iterable[str]], default_minutes: int,
                   risk_minutes: Mapping[str, int]) -> CheckInterval:
    """The shortest interval any present subject's risk asks for (else the default), with every risk present."""
    seen: dict[str, Reason] = {}
    for one in subject_risks:
        for code in one:
            seen[code] = Reason(code, risk_minutes[code])
    reasons = tuple(sorted(seen.values(), key=lambda r: (r.minutes, list(RISK_NAMES).index(r.code))))
    minutes = min([default_minutes, *(r.minutes for r in reasons)])
    return CheckInterval(minutes, reasons)


# ---------------------------------------------------------------------------------------------------------------
# Meals and the night's rest (site policy under CPL art. 119 ¶3)


@dataclass(frozen=True)
class NightWindow:
    start: time  # local time the night rest window opens, e.g. 22:00
    end: time  # local time it closes, e.g. 06:00 (the next day when before ``start``)
    min_rest: timedelta  # the continuous rest the subject must be able to have inside it
    tz: tzinfo

    def around(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The window that contains ``at`` (aware datetimes), or None by day."""
        local = at.astimezone(self.tz)
        for day in (local.date() - timedelta(days=1), local.date()):
            start = datetime.combine(day, self.start, self.tz)
            end = datetime.combine(day if self.end > self.start else day + timedelta(days=1), self.end, self.tz)
            if start <= local < end:
                return start.astimezone(at.tzinfo), end.astimezone(at.tzinfo)
        return None

    def next_start(self, after: datetime) -> datetime:
        local = after.astimezone(self.tz)
        start = datetime.combine(local.date(), self.start, self.tz)
        return (start if start > local else start + timedelta(days=1)).astimezone(after.tzinfo)


def meal_due_at(last_meal_or_entry: datetime, interval: timedelta, night: NightWindow) -> datetime:
    """A meal is due ``interval`` after the last one (or arrival); meals are by day, so one falling due in the
    night window is due when the window closes (breakfast)."""
    due = last_meal_or_entry + interval
    window = night.around(due)
    return window[1] if window else due


def rest_due_at(entered_at: datetime, now: datetime, night: NightWindow,
                rests: Iterable[datetime]) -> datetime | None:
    """In tonight's window (the one ``now`` is in), the rest must start early enough for ``min_rest`` to fit
    before the window closes; a subject who arrived later than that is due at arrival + the same slack. None by
    day or once a rest was recorded inside the window."""
    window = night.around(now)
    if window is None:
        return None
    start, end = window
    if any(start <= r < end for r in rests):
        return None
    latest = end - night.min_rest
    if entered_at <= latest:
        return max(latest, start)
    slack = max(latest - start, timedelta(0))
    return min(entered_at + slack, end)


# ---------------------------------------------------------------------------------------------------------------
# A welfare check counts only when the checker was there


@dataclass(frozen=True)
class Presence:
    """What the site knows of the checker at the moment of the check."""

    room_has_reader: bool
    staff_tag_id: str | None  # the signed-in staff member's own tag, if any
    tag_seen_at: datetime | None  # when a reader last reported that tag in this room (None: not in it)
    kiosk_room_id: str | None  # the room the signed-in kiosk is enrolled in (None: not an enrolled kiosk)


NOT_PRESENT_ZH = "巡查须由巡查人员本人在该房间内登记，未能确认您在场，本次巡查未记录"
NOT_PRESENT_EN = "the welfare check was not recorded: the checking staff member was not shown to be in the room"


def check_present(room_id: str, p: Presence, now: datetime, window: timedelta) -> str:
    """Refuses a check the checker cannot have made. Where the room has a wristband reader, the checker's own tag
    must have been reported in the room within ``window``; where it has none, the check must come from a kiosk
    enrolled in that room. Returns how presence was shown ("tag" or "kiosk")."""
    if p.room_has_reader:
        if p.staff_tag_id is None:
            raise RuleViolation("WELFARE_CHECK_NOT_PRESENT", NOT_PRESENT_ZH + "（您未绑定定位手环）",
                                NOT_PRESENT_EN + " (you have no tag)", room_id=room_id, reason="no_staff_tag")
        if p.tag_seen_at is None or now - p.tag_seen_at > window:
            raise RuleViolation("WELFARE_CHECK_NOT_PRESENT", NOT_PRESENT_ZH,
                                NOT_PRESENT_EN + " (your tag is not reported there)", room_id=room_id,
                                reason="tag_not_in_room", window_s=int(window.total_seconds()))
        return "tag"
    if p.kiosk_room_id != room_id:
        raise RuleViolation("WELFARE_CHECK_NOT_PRESENT", NOT_PRESENT_ZH + "（该房间无定位设备，须在本房间的终端上登记）",
                            NOT_PRESENT_EN + " (this room has no reader: use the kiosk enrolled in it)",
                            room_id=room_id, reason="not_room_kiosk")
    return "kiosk"
