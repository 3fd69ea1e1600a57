"""零滞留: once a stay's legal deadline has passed, only the steps that end the overrun are allowed.

The limits of 《刑事诉讼法》第119条 (summons 12/24 h), 《治安管理处罚法》 (询问查证 8/12/24 h) and 《人民警察法》第9条
(继续盘问 24/48 h) are maxima: past them the person may not be held for further questioning or activity. What stays
allowed is what ends the overrun: a recorded decision (release, or a change of measure) and the exit, plus what the
exit needs (the intake steps that lead to it, the medical check, the return from leave and its search) and care.
The overdue alarm stays open until then, and escalates as before.
"""

from __future__ import annotations

from datetime import datetime

from ..clock import utc
from ..domain.errors import RuleViolation
from ..store.tables import Stay

STEP_ZH = {"interview": "讯问/询问", "activity": "活动", "leave": "临时出区", "placement_move": "调换候问室",
           "extension": "延长时限"}


def ensure_within_deadline(stay: Stay, now: datetime, step: str) -> None:
    """Refuses ``step`` (a key of STEP_ZH) on a stay whose legal deadline has passed."""
    if now >= utc(stay.deadline_at):
        raise RuleViolation("DEADLINE_PASSED", f"已超过法定时限，不能再进行{STEP_ZH.get(step, step)}；请作出处理决定或办理出区",
                            f"the legal deadline has passed: no {step.replace('_', ' ')}; record a decision or exit",
                            step=step, deadline_at=utc(stay.deadline_at).isoformat())
