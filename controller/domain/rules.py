"""Legal rules as plain functions and tables: clocks, identity numbers, separation, same-sex search, custody.

Each rule cites its source. The clock table is the default; a site may override a row's hours in its config.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from .errors import RuleViolation, invalid

# ---------------------------------------------------------------------------------------------------------------
# Rule 1: legal clocks


@dataclass(frozen=True)
class ExtensionTier:
    """One lawful ground to hold longer, up to ``max_hours`` from the start of the basis, with an approver."""

    ground: str
    max_hours: float
    approval: str  # who must approve, in words
    source: str


@dataclass(frozen=True)
class ClockRule:
    basis: str
    name_zh: str
    base_hours: float
    source: str
    tiers: tuple[ExtensionTier, ...] = ()
    # Hours the basis allows in the secure area beyond the general 24 h cap (continued questioning: 48 h).
    area_cap_hours: float | None = None

    @property
    def max_hours(self) -> float:
        return max([self.base_hours, *(t.max_hours for t in self.tiers)])


_CPL_119 = "《刑事诉讼法》第119条（2018年修正）：传唤、拘传持续的时间不得超过十二小时；案情特别重大、复杂，需要采取拘留、逮捕措施的，不得超过二十四小时"
_PSAPL = ("《治安管理处罚法》（2025年修订，2026-01-01施行）询问查证时限条款：一般不超过八小时；涉案人数众多、"
          "违反治安管理行为人身份不明的不超过十二小时；情况复杂，可能适用行政拘留的不超过二十四小时"
          "（原法第83条为八小时/二十四小时两档）")
_PPL_9 = "《人民警察法》第9条：继续盘问时间自带至公安机关之时起不超过二十四小时，特殊情况经县级以上公安机关批准可延长至四十八小时"
_CPL_85 = "《刑事诉讼法》第85条：拘留后应当立即将被拘留人送看守所羁押，至迟不得超过二十四小时"

DEFAULT_CLOCKS: dict[str, ClockRule] = {
    r.basis: r
    for r in (
        ClockRule("criminal_summons", "传唤", 12, _CPL_119,
                  (ExtensionTier("major_complex_case", 24, "supervisor", _CPL_119),)),
        ClockRule("compelled_appearance", "拘传", 12, _CPL_119,
                  (ExtensionTier("major_complex_case", 24, "supervisor", _CPL_119),)),
        ClockRule("admin_summons", "治安传唤", 8, _PSAPL,
                  (ExtensionTier("many_people_or_identity_unknown", 12, "supervisor", _PSAPL),
                   ExtensionTier("admin_detention_possible", 24, "supervisor", _PSAPL))),
        ClockRule("verbal_summons", "口头传唤", 8, _PSAPL,
                  (ExtensionTier("many_people_or_identity_unknown", 12, "supervisor", _PSAPL),
                   ExtensionTier("admin_detention_possible", 24, "supervisor", _PSAPL))),
        ClockRule("continued_questioning", "继续盘问", 24, _PPL_9,
                  (ExtensionTier("county_approval", 48, "county-level public security organ", _PPL_9),),
                  area_cap_hours=48),
        ClockRule("criminal_detention", "刑事拘留", 24, _CPL_85),
        # A person who surrenders is held no longer than a summons allows until a measure is decided.
        ClockRule("voluntary_surrender", "投案", 12, _CPL_119,
                  (ExtensionTier("major_complex_case", 24, "supervisor", _CPL_119),)),
        # A witness or victim is not held; the centre's own limit keeps the visit short (site policy).
        ClockRule("witness_inquiry", "询问证人/被害人", 8, "本中心规定：证人、被害人询问不超过八小时（非强制措施）"),
    )
}

SECURE_AREA_CAP_HOURS = 24.0  # 公安部《执法办案管理中心建设规范》：办案区滞留一般不超过24小时

LEGAL_BASES = tuple(DEFAULT_CLOCKS)


def clock_table(overrides: Iterable[tuple[str, float | None, float | None]] = ()) -> dict[str, ClockRule]:
    """The default table with a site's overrides ``(basis, base_hours, max_hours)`` applied."""
    table = dict(DEFAULT_CLOCKS)
    for basis, base, top in overrides:
        if basis not in table:
            raise ValueError(f"rules: unknown legal basis {basis!r}")
        rule = table[basis]
        if base is not None:
            rule = replace(rule, base_hours=base)
        if top is not None:
            rule = replace(rule, tiers=tuple(replace(t, max_hours=min(t.max_hours, top)) for t in rule.tiers))
        table[basis] = rule
    return table


def area_limit(rule: ClockRule, entered_at: datetime, cap_hours: float = SECURE_AREA_CAP_HOURS) -> datetime:
    return entered_at + timedelta(hours=max(cap_hours, rule.area_cap_hours or 0))


def initial_deadline(rule: ClockRule, basis_started_at: datetime, entered_at: datetime,
                     cap_hours: float = SECURE_AREA_CAP_HOURS) -> datetime:
    return min(basis_started_at + timedelta(hours=rule.base_hours), area_limit(rule, entered_at, cap_hours))


def check_extension(rule: ClockRule, basis_started_at: datetime, entered_at: datetime, current: datetime,
                    until: datetime, ground: str | None, cap_hours: float = SECURE_AREA_CAP_HOURS) -> ExtensionTier:
    """Refuses an extension the basis does not allow; returns the tier that allows it."""
    if not rule.tiers:
        raise RuleViolation("EXTENSION_NOT_ALLOWED", f"{rule.name_zh}的时限不可延长",
                            f"the time limit of {rule.basis} cannot be extended", basis=rule.basis)
    if until <= current:
        raise invalid("EXTENSION_NOT_LATER", "延长后的时限必须晚于当前时限",
                      "the new deadline must be later than the current one", current=current.isoformat())
    if ground is None:
        if len(rule.tiers) > 1:
            raise invalid("EXTENSION_GROUND_REQUIRED", "请选择延长依据", "choose the ground for the extension",
                          grounds=[t.ground for t in rule.tiers])
        tier = rule.tiers[0]
    else:
        found = [t for t in rule.tiers if t.ground == ground]
        if not found:
            raise invalid("EXTENSION_GROUND_UNKNOWN", "延长依据无效", f"unknown extension ground {ground!r}",
                          grounds=[t.ground for t in rule.tiers])
        tier = found[0]
    limit = min(basis_started_at + timedelta(hours=tier.max_hours), area_limit(rule, entered_at, cap_hours))
    if until > limit:
        raise RuleViolation("EXTENSION_BEYOND_LIMIT", f"超出法定最长时限（{tier.max_hours:g}小时）",
                            f"beyond the legal maximum of {tier.max_hours:g} h", limit=limit.isoformat(),
                            source=tier.source)
    return tier


def warning_marks(deadline: datetime, marks_minutes: Sequence[int]) -> list[tuple[int, datetime]]:
    return [(m, deadline - timedelta(minutes=m)) for m in sorted(marks_minutes, reverse=True)]


# ---------------------------------------------------------------------------------------------------------------
# Identity: GB 11643-1999 citizen identity number

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def gb11643_check_char(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def validate_resident_id(number: str, birth_date: date | None = None) -> None:
    """Refuses a resident identity number whose form, embedded birth date or check digit is wrong."""
    n = number.strip().upper()
    if len(n) != 18 or not n[:17].isdigit() or not (n[17].isdigit() or n[17] == "X"):
        raise invalid("INVALID_ID_NUMBER", "身份证号码格式错误", "identity number must be 17 digits and a check character")
    try:
        born = date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        raise invalid("INVALID_ID_NUMBER", "身份证号码中的出生日期无效",
                      "the birth date inside the identity number is impossible") from None
    if gb11643_check_char(n[:17]) != n[17]:
        raise invalid("INVALID_ID_NUMBER", "身份证号码校验位错误", "identity number check digit is wrong")
    if birth_date is not None and born != birth_date:
        raise invalid("ID_BIRTH_DATE_MISMATCH", "出生日期与身份证号码不符",
                      "birth date does not match the identity number")


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def is_minor(birth: date, day: date) -> bool:
    return age_on(birth, day) < 18


# ---------------------------------------------------------------------------------------------------------------
# Rule 4: same-sex search and sampling


def check_searcher(subject_sex: str, checker_sex: str) -> None:
    # 《公安机关办理刑事案件程序规定》第227条：检查妇女的身体，应当由女工作人员进行
    if subject_sex == "female" and checker_sex != "female":
        raise RuleViolation("SEARCH_CHECKER_SEX", "女性被检查人须由女性工作人员检查",
                            "a female subject must be searched by female staff")


def check_sampler(subject_sex: str, sampler_sex: str) -> None:
    # 《吸毒检测程序规定》第8条第1款：采集女性被检测人尿液检测样本，应当由女性工作人员进行
    if subject_sex == "female" and sampler_sex != "female":
        raise RuleViolation("SAMPLER_SEX", "女性被检测人的样本须由女性工作人员采集",
                            "a female subject's sample must be taken by female staff")


# ---------------------------------------------------------------------------------------------------------------
# Rule 5: waiting-room placement


@dataclass(frozen=True)
class Occupant:
    stay_id: str
    sex: str
    minor: bool
    role: str
    case_no: str
    intoxicated: bool = False


@dataclass(frozen=True)
class RoomView:
    id: str
    kind: str
    capacity: int
    restrictions: tuple[str, ...] = ()
    occupants: tuple[Occupant, ...] = field(default_factory=tuple)


PLACEMENT_MESSAGES = {
    "ROOM_NOT_HOLDING": ("该房间不是候问室", "not a waiting or sobering room"),
    "ROOM_FULL": ("候问室已满", "the room is full"),
    "ROOM_MIXED_SEX": ("不得男女混关", "men and women may not share a room"),
    "ROOM_MINOR_WITH_ADULT": ("未成年人不得与成年人同室", "a minor may not share a room with adults"),
    "ROOM_SAME_CASE": ("同案人员不得同室", "subjects of the same case may not share a room"),
    "ROOM_SUSPECT_WITH_WITNESS": ("嫌疑人不得与证人、被害人同室", "a suspect may not share a room with a witness or victim"),
    "ROOM_RESTRICTED": ("不符合该房间的使用限制", "the room's restrictions do not allow this subject"),
}


def placement_violations(subject: Occupant, room: RoomView) -> list[str]:
    """Every rule a placement breaks, in a stable order; empty when the placement is lawful."""
    if room.kind not in ("waiting", "sobering"):
        return ["ROOM_NOT_HOLDING"]
    out: list[str] = []
    others = [o for o in room.occupants if o.stay_id != subject.stay_id]
    if len(others) + 1 > room.capacity:
        out.append("ROOM_FULL")
    r = set(room.restrictions)
    if ("minors_only" in r and not subject.minor) or ("female_only" in r and subject.sex != "female") or (
            "male_only" in r and subject.sex != "male") or ("intoxicated_only" in r and not subject.intoxicated):
        out.append("ROOM_RESTRICTED")
    if any(o.sex != subject.sex for o in others):
        out.append("ROOM_MIXED_SEX")
    if any(o.minor != subject.minor for o in others):
        out.append("ROOM_MINOR_WITH_ADULT")
    if any(o.case_no == subject.case_no for o in others):
        out.append("ROOM_SAME_CASE")
    witnessish = {"witness", "victim"}
    if any((o.role == "suspect") != (subject.role == "suspect") or
           (subject.role in witnessish) != (o.role in witnessish) for o in others):
        out.append("ROOM_SUSPECT_WITH_WITNESS")
    return out


def check_placement(subject: Occupant, room: RoomView, override: bool) -> list[str]:
    """Refuses an unlawful placement unless a supervisor overrides; returns what was overridden."""
    violations = placement_violations(subject, room)
    if violations and (not override or "ROOM_NOT_HOLDING" in violations):
        code = violations[0]
        zh, en = PLACEMENT_MESSAGES[code]
        raise RuleViolation(code, zh, en, violations=violations, room_id=room.id)
    return violations


# ---------------------------------------------------------------------------------------------------------------
# Rules 3 and 6: interviews and custody of property


def check_interview(role: str, room_kind: str, officer_ids: Sequence[str], minor: bool,
                    appropriate_adult_present: bool, room_busy: bool) -> None:
    if room_kind not in ("interrogation", "inquiry"):
        raise RuleViolation("ROOM_NOT_INTERVIEW", "该房间不是讯问/询问室", "not an interview room")
    if role == "suspect" and room_kind != "interrogation":
        # 《公安机关执法办案场所设置规范》：讯问犯罪嫌疑人应在讯问室进行
        raise RuleViolation("ROOM_KIND_MISMATCH", "讯问嫌疑人须在讯问室进行", "a suspect is interrogated in an interrogation room")
    if room_busy:
        raise RuleViolation("ROOM_OCCUPIED", "该讯问/询问室正在使用", "the interview room is in use")
    if len(set(officer_ids)) < 2:
        # 《刑事诉讼法》第118条：讯问的时候，侦查人员不得少于二人
        raise RuleViolation("TOO_FEW_OFFICERS", "讯问/询问须有两名以上办案民警", "an interview needs at least two officers")
    if minor and not appropriate_adult_present:
        # 《刑事诉讼法》第281条：讯问未成年犯罪嫌疑人，应当通知其法定代理人到场
        raise RuleViolation("MINOR_NEEDS_APPROPRIATE_ADULT", "讯问/询问未成年人须有法定代理人或合适成年人在场",
                            "a minor's interview needs an appropriate adult present")


# 《刑事诉讼法》第281条: the legal representative, or else another adult relative, a representative of the school,
# the work unit, the grassroots organisation or a youth-protection organisation; a code, never free text like "—"
ADULT_RELATIONS = ("parent", "guardian", "other_relative", "teacher", "community_representative",
                   "youth_representative")


def check_vulnerable(minor: bool, sex: str, needs_interpreter: bool, adult: dict[str, Any] | None,
                     officer_sexes: Sequence[str], interpreter: str | None) -> None:
    """The protections a vulnerable subject has at an interview's start (issue 13)."""
    if minor and adult is not None:
        missing = [k for k in ("name", "relation", "id_number", "contact") if not str(adult.get(k) or "").strip()]
        if adult.get("relation") and adult["relation"] not in ADULT_RELATIONS:
            missing.append("relation")
        if missing:
            # 《刑事诉讼法》第281条: the adult present must be identified (who, in what capacity, how to reach them)
            raise invalid("APPROPRIATE_ADULT_INCOMPLETE", "合适成年人须登记姓名、身份（关系）、身份证号码和联系方式",
                          "the appropriate adult needs a name, a relation from the list, an identity number and a "
                          "contact", fields=sorted(set(missing)), relations=list(ADULT_RELATIONS))
        validate_resident_id(str(adult["id_number"]))
    if minor and sex == "female" and "female" not in officer_sexes:
        # 《刑事诉讼法》第281条第3款: 讯问女性未成年犯罪嫌疑人，应当有女工作人员在场
        raise RuleViolation("FEMALE_STAFF_REQUIRED", "讯问/询问女性未成年人须有女工作人员在场",
                            "a female minor's interview needs a female staff member present")
    if needs_interpreter and not (interpreter or "").strip():
        # 《刑事诉讼法》第9条、第121条: 不通晓当地语言文字的、聋哑人，应当为其翻译 / 有通晓聋哑手势的人参加
        raise RuleViolation("INTERPRETER_REQUIRED", "该人员需要翻译（含手语翻译），须先登记翻译人员",
                            "this subject needs an interpreter: record one before the interview starts")


def check_custodian(custodian_id: str, case_officer_ids: Sequence[str]) -> None:
    # 《公安机关涉案财物管理若干规定》：办案人员与保管人员相分离
    if custodian_id in case_officer_ids:
        raise RuleViolation("CUSTODIAN_IS_CASE_OFFICER", "保管人不得为本案办案民警",
                            "the custodian may not be one of the stay's case officers")


ITEM_DISPOSITIONS = ("returned", "handed_to_family", "seized", "travels_with_subject")


def check_item_disposition(disposition: str | None, receiver: dict[str, Any] | None, document_no: str | None) -> None:
    if disposition is None:
        raise RuleViolation("PROPERTY_UNRESOLVED", "有物品未处置", "an item has no disposition")
    if disposition == "handed_to_family" and not (receiver and receiver.get("name") and receiver.get("id_number")):
        raise invalid("RECEIVER_REQUIRED", "交家属须登记领取人姓名和证件号码", "a family receiver needs name and identity number")
    if disposition == "seized" and not document_no:
        raise invalid("DOCUMENT_NO_REQUIRED", "扣押须填写扣押文书编号", "a seizure needs its document number")
    if disposition == "destroyed" and not document_no:
        raise invalid("DOCUMENT_NO_REQUIRED", "销毁须填写销毁记录编号", "a destruction needs its record number")


# Items the law does not let go back out by default: prohibited or dangerous articles and what is evidence or
# instrument of the offence are collected or seized (《治安管理处罚法》第11条; 《刑事诉讼法》第141条;
# 《公安机关涉案财物管理若干规定》), so giving one back needs a recorded decision.
DECISION_CATEGORIES = ("dangerous", "case_related")
GIVES_BACK = ("returned", "handed_to_family")


def item_needs_approval(category: str, disposition: str) -> bool:
    """A dangerous or case-related item given back (to the subject or the family) needs a granted approval;
    seizure (with its document) and destruction (with its record) are decisions in themselves."""
    return category in DECISION_CATEGORIES and disposition in GIVES_BACK
