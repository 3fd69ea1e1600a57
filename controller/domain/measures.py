"""The legal measure a stay is under, how it may change mid-stay, its clock, and the exits it allows.

A stay starts under the basis it was registered with (a summons, 继续盘问, a surrender, a witness inquiry or a
detention; see ``rules.DEFAULT_CLOCKS``). A recorded decision moves it to another measure; the legal clock is then
re-derived from the new measure and the decision's own time. Where a measure sends the person to a facility, only
that facility is a lawful exit; the non-custodial ones release.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import RuleViolation, invalid
from .rules import DEFAULT_CLOCKS

_CPL_85 = "《刑事诉讼法》第85条：拘留后，应当立即将被拘留人送看守所羁押，至迟不得超过二十四小时"
_CPL_93 = "《刑事诉讼法》第93条：逮捕后，应当立即将被逮捕人送看守所羁押"
_CPL_87 = "《刑事诉讼法》第87条：公安机关要求逮捕犯罪嫌疑人的时候，应当提请同级人民检察院审查批准"
_CPL_67 = "《刑事诉讼法》第66、67条：取保候审由公安机关决定、执行"
_CPL_74 = "《刑事诉讼法》第74、75条：监视居住在住处或指定居所执行"
_PSAPL_DET = "《治安管理处罚法》：对被决定给予行政拘留处罚的人，由作出决定的公安机关送达拘留所执行"
_NARC_38 = "《禁毒法》第38、41条：强制隔离戒毒由县级以上公安机关作出决定，送强制隔离戒毒场所执行"
_PROC_125 = "《公安机关办理刑事案件程序规定》：拘留须经县级以上公安机关负责人批准，签发拘留证"

RELEASE_EXITS = ("released", "handed_over", "to_hospital")


@dataclass(frozen=True)
class Measure:
    key: str
    name_zh: str
    source: str
    hours: float | None  # the clock from the decision, where the measure has one here
    exits: tuple[str, ...]  # the exit dispositions this measure allows
    approval: bool  # a supervisor's approval (and the decision document) is needed to record it
    case_kind: str | None = None  # criminal / administrative measures only in that kind of case
    coercive: bool = True  # never for a witness or victim


# The measures a decision can move a stay to.
DECIDED: dict[str, Measure] = {m.key: m for m in (
    Measure("criminal_detention", "刑事拘留", f"{_CPL_85}；{_PROC_125}", 24, ("to_detention_centre", "to_hospital"),
            True, "criminal"),
    Measure("arrest", "逮捕", f"{_CPL_87}；{_CPL_93}", 24, ("to_detention_centre", "to_hospital"), True, "criminal"),
    Measure("admin_detention", "行政拘留", f"{_PSAPL_DET}（本中心按24小时内送达执行）", 24,
            ("to_detention_house", "to_hospital"), True, "administrative"),
    Measure("compulsory_rehab", "强制隔离戒毒", f"{_NARC_38}（本中心按24小时内送达执行）", 24,
            ("to_rehab_centre", "to_hospital"), True, "administrative"),
    Measure("bail", "取保候审", _CPL_67, None, ("bail",), True, "criminal"),
    Measure("residential_surveillance", "监视居住", _CPL_74, None, ("residential_surveillance",), True, "criminal"),
    Measure("released", "释放/解除", "传唤、继续盘问期限内未决定采取强制措施的，应当立即释放（《人民警察法》第9条、《刑事诉讼法》第119条）",
            None, ("released", "handed_over", "to_hospital"), False, None, coercive=False),
)}

# The starting bases (registration) and what a decision may move them to.
_FROM_SUMMONS = tuple(DECIDED)
NEXT: dict[str, tuple[str, ...]] = {
    "criminal_summons": _FROM_SUMMONS, "compelled_appearance": _FROM_SUMMONS, "admin_summons": _FROM_SUMMONS,
    "verbal_summons": _FROM_SUMMONS, "voluntary_surrender": _FROM_SUMMONS, "continued_questioning": _FROM_SUMMONS,
    "witness_inquiry": ("released",),
    "criminal_detention": ("arrest", "bail", "residential_surveillance", "released"),
    "arrest": ("released",),
    "admin_detention": ("released",),
    "compulsory_rehab": ("released",),
}

# The exits of a stay still under its starting basis.
BASIS_EXITS: dict[str, tuple[str, ...]] = {
    **{b: RELEASE_EXITS for b in DEFAULT_CLOCKS}, "witness_inquiry": ("released", "to_hospital"),
    "criminal_detention": DECIDED["criminal_detention"].exits,
}

MEASURES = tuple(DECIDED)


def exits_for(measure: str) -> tuple[str, ...]:
    if measure in DECIDED:
        return DECIDED[measure].exits
    return BASIS_EXITS.get(measure, RELEASE_EXITS)


def check_change(current: str, new: str, role: str, case_kind: str) -> Measure:
    """Refuses a change the law does not draw; returns the new measure."""
    target = DECIDED.get(new)
    if target is None:
        raise invalid("MEASURE_UNKNOWN", "强制措施无效", f"unknown measure {new!r}", measures=list(DECIDED))
    if target.coercive and role != "suspect":
        # a witness or victim is asked, never held: no coercive measure applies to them
        raise RuleViolation("MEASURE_NOT_FOR_ROLE", "证人、被害人不得采取强制措施", "a witness or victim cannot be put under a "
                            "coercive measure", role=role, measure=new)
    if new not in NEXT.get(current, ()):
        raise RuleViolation("MEASURE_CHANGE_NOT_ALLOWED", f"不能由当前措施变更为“{target.name_zh}”",
                            f"{current} cannot change to {new}", current=current, measure=new,
                            allowed=list(NEXT.get(current, ())))
    if target.case_kind is not None and target.case_kind != case_kind:
        raise RuleViolation("MEASURE_CASE_KIND_MISMATCH", f"“{target.name_zh}”不适用于该类案件",
                            f"{new} does not apply to a {case_kind} case", case_kind=case_kind, measure=new)
    return target


def check_exit(measure: str, role: str, disposition: str) -> None:
    """The exit must be the one the current measure allows; a witness or victim never leaves to a detention
    facility."""
    allowed = exits_for(measure)
    if role in ("witness", "victim") and disposition not in ("released", "to_hospital"):
        raise RuleViolation("EXIT_DISPOSITION_MISMATCH", "证人、被害人只能离开，不得送押", "a witness or victim is released, "
                            "never held", role=role, disposition=disposition, allowed=list(allowed))
    if disposition not in allowed:
        raise RuleViolation("EXIT_DISPOSITION_MISMATCH", "出区去向与当前强制措施不符",
                            f"the exit {disposition} does not match the measure {measure}", measure=measure,
                            disposition=disposition, allowed=list(allowed))
