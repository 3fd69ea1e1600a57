"""Health rules of a stay: the entry health check's risk flags, fitness for placement, the five-item medical exam
before a detention centre, and the drug-test procedure. Pure rules; ``services/health.py`` stores the records.

Sources:
- 《吸毒检测程序规定》(公安部令第110号, as amended by 公安部令第141号, in force 2017-01-01):
  art. 6 sample kinds (urine, blood, saliva, hair); art. 8 §1 collection, sending and testing by two or more staff,
  and a female subject's urine sample collected by female staff; art. 8 §2 a positive on-site sample is kept as
  A and B samples, numbered and sealed under the signatures of collector and subject; art. 12 the subject may ask
  for a laboratory test within three days of being told the on-site result (five days before the amendment).
- 《看守所条例》art. 10: the detention centre examines a person's health before admitting him (and refuses some
  conditions), so the centre records the five-item exam before it sends the subject there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from .errors import RuleViolation, invalid

SAMPLE_KINDS = ("urine", "blood", "hair", "saliva")
DRUG_CLASSES = ("opioids", "methamphetamine", "ketamine", "mdma", "cannabis", "cocaine", "other")
RESULTS = ("negative", "positive", "invalid")
# the centre's five-item exam (五项体检) as the receiving detention centres ask for it
FIVE_ITEMS = ("blood_pressure", "blood_routine", "ecg", "chest_xray", "abdominal_ultrasound")
RETEST_DAYS = 3  # art. 12 as amended by 公安部令第141号
RISK_FLAGS = ("injured", "ill", "pregnant", "self_harm_risk", "on_medication")


def risk_flags(injuries: int, illnesses: int, medications: int, pregnant: bool, self_harm_risk: bool) -> dict[str, bool]:
    """The welfare flags an entry health check sets on the stay."""
    return {"injured": injuries > 0, "ill": illnesses > 0, "on_medication": medications > 0, "pregnant": pregnant,
            "self_harm_risk": self_harm_risk}


def needs_medical_before_placement(flags: dict[str, bool]) -> bool:
    """An injured or ill subject is seen by a doctor before a waiting room, unless a supervisor approves."""
    return bool(flags.get("injured") or flags.get("ill"))


def check_fit_for_placement(flags: dict[str, bool], has_medical_check: bool, approved: bool) -> None:
    if needs_medical_before_placement(flags) and not has_medical_check and not approved:
        raise RuleViolation("MEDICAL_CHECK_REQUIRED", "受伤或患病人员须先经医生检查，或经值班领导批准后方可安置",
                            "an injured or ill subject needs a medical check (or an approval) before placement",
                            flags=[k for k in ("injured", "ill") if flags.get(k)])


def check_five_items(items: dict[str, object]) -> None:
    missing = [k for k in FIVE_ITEMS if k not in items]
    if missing:
        raise invalid("FIVE_ITEMS_INCOMPLETE", "五项体检项目不全", "the five-item exam is incomplete", missing=missing)


def check_exit_to_detention_centre(disposition: str, has_five_item_exam: bool) -> None:
    if disposition == "to_detention_centre" and not has_five_item_exam:
        raise RuleViolation("FIVE_ITEM_EXAM_REQUIRED", "送看守所前须完成五项体检并记录结果和医生",
                            "the five-item medical exam must be recorded before transfer to a detention centre")


def check_drug_sampling(subject_sex: str, sample_kind: str, collectors: Sequence[tuple[str, str]]) -> None:
    """``collectors``: (staff id, sex) of each authenticated staff member who took the sample."""
    if sample_kind not in SAMPLE_KINDS:  # art. 6
        raise invalid("UNKNOWN_SAMPLE_KIND", "未知的样本类型", f"unknown sample kind {sample_kind}")
    ids = {sid for sid, _sex in collectors}
    if len(ids) < 2:  # art. 8 §1
        raise RuleViolation("TOO_FEW_SAMPLERS", "采集、送检、检测样本须由两名以上工作人员进行",
                            "two or more staff must take the sample", collectors=sorted(ids))
    # art. 8 §1: a female subject's urine sample is collected by female staff (the text names urine only)
    if subject_sex == "female" and sample_kind == "urine" and any(sex != "female" for _sid, sex in collectors):
        raise RuleViolation("SAMPLER_SEX", "女性被检测人的尿液样本须由女性工作人员采集",
                            "a female subject's urine sample must be collected by female staff")


def check_drug_results(results: dict[str, str], sample_a_no: str | None, sample_b_no: str | None,
                       seal_nos: Sequence[str]) -> bool:
    """Returns whether any class tested positive; a positive needs A/B samples numbered and sealed (art. 8 §2)."""
    for cls, res in results.items():
        if cls not in DRUG_CLASSES or res not in RESULTS:
            raise invalid("UNKNOWN_DRUG_RESULT", "检测项目或结果无效", f"bad result {cls}={res}")
    if not results:
        raise invalid("DRUG_RESULTS_REQUIRED", "须记录各类毒品的检测结果", "a result per drug class is required")
    positive = any(r == "positive" for r in results.values())
    if positive and (not sample_a_no or not sample_b_no or len(seal_nos) < 2):
        raise invalid("AB_SAMPLES_REQUIRED", "现场检测阳性的，须分装A、B样本并编号、签封",
                      "a positive result needs numbered and sealed A and B samples")
    return positive


def retest_deadline(notified_at: datetime) -> datetime:
    """Art. 12: the subject may ask for a laboratory test within three days of being told the result."""
    return notified_at + timedelta(days=RETEST_DAYS)
