"""Facts about a subject that must agree with themselves: sex and birth date against the resident identity number,
and the age of criminal responsibility of a suspect held under a criminal measure.

Pure rules: each raises :class:`~controller.domain.errors.RuleViolation` with a stable code naming the contradiction.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from .errors import RuleViolation, invalid

# GB 11643-1999 §5.2.3: the 17th character (last of the sequence code) is odd for a man and even for a woman.
_SEX_OF_PARITY: Final = {1: "male", 0: "female"}


def sex_of_resident_id(number: str) -> str:
    """The sex a well-formed 18-character resident identity number encodes."""
    return _SEX_OF_PARITY[int(number.strip()[16]) % 2]


def check_sex_matches(number: str, sex: str) -> None:
    """Refuses a sex that the (already validated) resident identity number contradicts."""
    encoded = sex_of_resident_id(number)
    if encoded != sex:
        raise invalid("ID_SEX_MISMATCH", "性别与身份证号码不符（号码第17位奇数为男、偶数为女）",
                      "sex does not match the identity number (17th digit odd for male, even for female)",
                      field="subject.sex", sex=sex, sex_in_id_number=encoded)


# Criminal measures: a suspect held under one of these is being dealt with as a criminal suspect.
CRIMINAL_BASES: Final = frozenset({"criminal_summons", "compelled_appearance", "criminal_detention",
                                   "voluntary_surrender"})

# 《刑法》第17条第2款（2020年《刑法修正案（十一）》修正，2021-03-01施行）：已满十四周岁不满十六周岁的人，犯故意杀人、
# 故意伤害致人重伤或者死亡、强奸、抢劫、贩卖毒品、放火、爆炸、投放危险物质罪的，应当负刑事责任。
OFFENCES_14_16: Final = ("intentional_homicide", "intentional_injury_serious", "rape", "robbery", "drug_trafficking",
                         "arson", "explosion", "poisoning")
# 《刑法》第17条第3款（同上修正）：已满十二周岁不满十四周岁的人，犯故意杀人、故意伤害罪，致人死亡或者以特别残忍手段
# 致人重伤造成严重残疾，情节恶劣，经最高人民检察院核准追诉的，应当负刑事责任。
OFFENCES_12_14: Final = ("intentional_homicide", "intentional_injury_serious")
OFFENCE_CATEGORIES: Final = OFFENCES_14_16  # every category the law lists for a suspect under sixteen

OFFENCE_NAMES_ZH: Final = {
    "intentional_homicide": "故意杀人", "intentional_injury_serious": "故意伤害（致人重伤或者死亡）", "rape": "强奸",
    "robbery": "抢劫", "drug_trafficking": "贩卖毒品", "arson": "放火", "explosion": "爆炸", "poisoning": "投放危险物质",
}


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def check_criminal_responsibility(*, role: str, legal_basis: str, birth_date: date, today: date,
                                  offence_category: str | None, spp_approval_no: str | None) -> None:
    """A suspect under a criminal measure must be of an age the Criminal Law holds responsible for the offence."""
    if role != "suspect" or legal_basis not in CRIMINAL_BASES:
        return
    age = age_on(birth_date, today)
    if age >= 16:
        return  # 《刑法》第17条第1款：已满十六周岁的人犯罪，应当负刑事责任
    if age < 12:
        # 《刑法》第17条：不满十二周岁的人不负刑事责任；不得对其采取刑事强制措施
        raise RuleViolation("UNDER_AGE_OF_CRIMINAL_RESPONSIBILITY",
                            "不满十二周岁，不负刑事责任（《刑法》第17条），不得以刑事措施带入办案区",
                            "under 12: no criminal responsibility (Criminal Law art. 17); no criminal measure",
                            status=422, age=age)
    allowed = OFFENCES_12_14 if age < 14 else OFFENCES_14_16
    if offence_category is None:
        raise RuleViolation("OFFENCE_CATEGORY_REQUIRED",
                            "未满十六周岁的嫌疑人须注明《刑法》第17条所列罪名",
                            "a suspect under 16 needs the offence category that Criminal Law art. 17 lists",
                            status=422, age=age, field="case.offence_category", allowed=list(allowed))
    if offence_category not in allowed:
        raise RuleViolation("OFFENCE_NOT_LISTED_FOR_AGE",
                            f"{age}周岁的人对“{OFFENCE_NAMES_ZH.get(offence_category, offence_category)}”不负刑事责任"
                            "（《刑法》第17条）",
                            f"at {age} the Criminal Law (art. 17) holds no one responsible for this offence",
                            status=422, age=age, field="case.offence_category", allowed=list(allowed))
    if age < 14 and not spp_approval_no:
        # 《刑法》第17条第3款：经最高人民检察院核准追诉的，应当负刑事责任
        raise RuleViolation("SPP_APPROVAL_REQUIRED",
                            "已满十二周岁不满十四周岁的嫌疑人须经最高人民检察院核准追诉，请填写核准文书编号",
                            "a suspect aged 12-13 needs the Supreme People's Procuratorate's approval to prosecute "
                            "(Criminal Law art. 17 para 3): give the approval document number",
                            status=422, age=age, field="case.spp_approval_no")
