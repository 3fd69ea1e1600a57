"""The vulnerable subject's safeguards at an interview's start, as one list both the server and the terminal read.

Each safeguard is required or not for this subject, met or not right now, and cites its legal source; ``check``
refuses the first one unmet (stable code, Chinese and English). Pure: the service gathers the facts (who proved
themselves, which tag a reader saw where, which breath reading is on the stay).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import RuleViolation

ADULT_SOURCE = "《刑事诉讼法》第281条"
FEMALE_SOURCE = "《刑事诉讼法》第281条第3款"
INTERPRETER_SOURCE = "《刑事诉讼法》第9条、第121条"
BREATH_SOURCE = "本中心规定：醉酒人员酒醒后方可讯问/询问（参照《公安机关办理行政案件程序规定》第58条：醉酒人约束至酒醒）"


@dataclass(frozen=True)
class Facts:
    """What is known about a subject and an interview about to start."""

    minor: bool
    sex: str
    needs_interpreter: bool
    intoxicated: bool
    adult_identified: bool  # a complete appropriate-adult record (name, relation, identity number, contact)
    adult_present: bool  # their visitor tag in the room recently, or confirmed at the terminal by the officer
    adult_presence: str  # how presence is proven here: "tag" (the room has a wristband reader) | "officer_confirmed"
    female_staff_proven: bool  # a female staff member proved herself (her session or her step-up)
    interpreter_recorded: bool
    breath_policy: bool  # the site's policy: an intoxicated subject is breath-tested before an interview
    breath_threshold: float  # mg/100 ml: below it the subject may be interviewed
    breath_latest: float | None  # the latest breathalyser reading recorded after the intoxicated flag


@dataclass(frozen=True)
class Safeguard:
    key: str  # adult_identified | adult_present | female_staff | interpreter | breath_test
    required: bool
    met: bool
    code: str  # the refusal when required and unmet
    message: str
    message_en: str
    source: str

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "required": self.required, "met": self.met, "code": self.code,
                "source": self.source}


def assess(f: Facts) -> list[Safeguard]:
    """Every safeguard, in the order they are checked; ``required`` false ones are listed as not needed."""
    minor_girl = f.minor and f.sex == "female"
    breath_needed = f.intoxicated and f.breath_policy
    breath_ok = f.breath_latest is not None and f.breath_latest < f.breath_threshold
    if f.adult_presence == "tag":
        present_zh = "合适成年人须佩戴访客手环进入讯问/询问室，系统感应到后方可开始"
        present_en = "the appropriate adult's visitor tag must be seen in the interview room"
    else:
        present_zh = "须由办案民警在讯问/询问室终端确认合适成年人已到场"
        present_en = "the officer must confirm at the interview-room terminal that the appropriate adult is present"
    return [
        # 《刑事诉讼法》第281条: 讯问和审判未成年人，应当通知其法定代理人到场 (or another appropriate adult)
        Safeguard("adult_identified", f.minor, f.adult_identified, "MINOR_NEEDS_APPROPRIATE_ADULT",
                  "讯问/询问未成年人须先登记法定代理人或合适成年人", "record the minor's appropriate adult first",
                  ADULT_SOURCE),
        # the same article: the adult is present (到场), not merely named
        Safeguard("adult_present", f.minor, f.adult_present, "APPROPRIATE_ADULT_NOT_PRESENT", present_zh, present_en,
                  ADULT_SOURCE),
        # 《刑事诉讼法》第281条第3款: 讯问女性未成年犯罪嫌疑人，应当有女工作人员在场
        Safeguard("female_staff", minor_girl, f.female_staff_proven, "FEMALE_STAFF_REQUIRED",
                  "讯问/询问女性未成年人须有女工作人员在场，并由其本人验证身份",
                  "a female minor's interview needs a female staff member present who proves who she is",
                  FEMALE_SOURCE),
        # 《刑事诉讼法》第9条、第121条: an interpreter (sign language included) for one who needs it
        Safeguard("interpreter", f.needs_interpreter, f.interpreter_recorded, "INTERPRETER_REQUIRED",
                  "该人员需要翻译（含手语翻译），须先登记翻译人员",
                  "this subject needs an interpreter: record one before the interview starts", INTERPRETER_SOURCE),
        # site policy: an intoxicated subject is interviewed only once a breath test shows him sober enough
        Safeguard("breath_test", breath_needed, breath_ok,
                  "BREATH_TEST_REQUIRED" if f.breath_latest is None else "BREATH_TEST_ABOVE_THRESHOLD",
                  "醉酒人员须经酒精呼气检测且结果低于本中心规定值后方可讯问/询问"
                  if f.breath_latest is None else "最近一次酒精呼气检测结果未低于本中心规定值，暂不能讯问/询问",
                  "an intoxicated subject needs a breath test below the site threshold first"
                  if f.breath_latest is None else "the latest breath test is not below the site threshold",
                  BREATH_SOURCE),
    ]


def check(f: Facts) -> list[Safeguard]:
    """Refuses the first required safeguard not met; returns the assessment when all are."""
    found = assess(f)
    for s in found:
        if s.required and not s.met:
            details: dict[str, Any] = {"requirement": s.key, "source": s.source}
            if s.key == "adult_present":
                details["presence"] = f.adult_presence
            if s.key == "breath_test":
                details["threshold"] = f.breath_threshold
                if f.breath_latest is not None:
                    details["latest"] = f.breath_latest
            raise RuleViolation(s.code, s.message, s.message_en, **details)
    return found
