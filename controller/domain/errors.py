"""The domain's refusal: a rule was broken. Carries a stable code and a message in Chinese and English."""

from __future__ import annotations

from typing import Any


class RuleViolation(Exception):
    def __init__(self, code: str, message: str, message_en: str, status: int = 409, **details: Any) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message = message
        self.message_en = message_en
        self.status = status
        self.details = details


class NotFound(RuleViolation):
    def __init__(self, what: str, ident: str, what_zh: str = "记录") -> None:
        super().__init__("NOT_FOUND", f"{what_zh}不存在", f"{what} not found: {ident}", status=404,
                         entity=what, id=ident)


def invalid(code: str, message: str, message_en: str, **details: Any) -> RuleViolation:
    """A refusal of bad input (422) rather than of a step (409)."""
    return RuleViolation(code, message, message_en, status=422, **details)
