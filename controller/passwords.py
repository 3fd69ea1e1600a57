"""The password and PIN policy: what a staff member may choose (and an admin may set).

A password is at least MIN_LENGTH characters, does not contain the person's police number, is not one of the
common passwords shipped in ``controller/data/common-passwords.txt`` and is not one character repeated. A PIN is
4-8 digits and not a trivial one: not one digit repeated, not a run up or down (1234, 9876), not a common PIN.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from .domain.errors import RuleViolation

MIN_LENGTH = 10
COMMON_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
COMMON_PINS = frozenset({"520520", "5201314", "1314520", "121212", "112233", "123123", "110110", "159753",
                         "147258", "123321", "654321", "1212", "1122", "2580", "0852", "1004", "2000", "1999"})


# Keyboard and counting runs: "12345678901", "abcdefghijk", "qwertyuiopas" are no passwords.
RUNS = ("01234567890123456789", "98765432109876543210", "abcdefghijklmnopqrstuvwxyz",
        "zyxwvutsrqponmlkjihgfedcba", "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.startswith("#"))


def weak(zh: str, en: str, reason: str) -> RuleViolation:
    return RuleViolation("WEAK_PASSWORD", zh, en, status=422, reason=reason)


def check_password(password: str, police_no: str) -> None:
    """Raises WEAK_PASSWORD (422, ``details.reason``) unless ``password`` meets the policy."""
    if len(password) < MIN_LENGTH:
        raise weak(f"密码至少{MIN_LENGTH}位", f"the password must be at least {MIN_LENGTH} characters", "too_short")
    low = password.lower()
    if police_no and police_no.lower() in low:
        raise weak("密码不能包含警号", "the password must not contain the police number", "contains_police_no")
    if low in common_passwords() or len(set(low)) <= 2 or any(low in run for run in RUNS):
        raise weak("密码过于常见或简单，请换一个", "the password is too common or too simple", "common")


def _run(pin: str) -> bool:
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    return steps in ({1}, {-1})


def check_pin(pin: str) -> None:
    """Raises WEAK_PIN (422) unless ``pin`` is 4-8 digits and not trivial."""
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise RuleViolation("WEAK_PIN", "PIN须为4至8位数字", "the PIN must be 4 to 8 digits", status=422)
    if len(set(pin)) == 1 or _run(pin) or pin in COMMON_PINS or pin.lower() in common_passwords():
        raise RuleViolation("WEAK_PIN", "PIN过于简单（如重复或连续数字），请换一个",
                            "the PIN is trivial (repeated or consecutive digits); choose another", status=422,
                            reason="trivial")
