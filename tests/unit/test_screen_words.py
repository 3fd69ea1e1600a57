"""What a person reads is Chinese words: every refusal's Chinese message (the second argument of a
``RuleViolation``/``invalid``-style call with a stable code first) carries no error code, no internal id and no
English. Placeholders are allowed only where they hold Chinese text (names ending in ``_zh``/``_ZH``) or numbers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")
ALLOWED_LATIN = {"PIN", "JSON", "DNA", "ID", "IC", "A", "B", "GB"}
# placeholder expressions that hold numbers, Chinese text, or words staff typed (an item's description)
NUMERIC_OR_ZH = re.compile(r"(_zh|_ZH\b|_ZH\[|ROLE_ZH|max_hours|hours|minutes|limit|count|seconds|\bn\b|age|description)")


def _messages() -> list[tuple[Path, int, ast.expr]]:
    out = []
    for f in list((ROOT / "controller").rglob("*.py")) + list((ROOT / "devices").rglob("*.py")):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) < 3:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and CODE.match(first.value):
                out.append((f, node.lineno, node.args[1]))
    return out


def _problems(expr: ast.expr) -> list[str]:
    parts: list[str] = []
    probs: list[str] = []
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        parts.append(expr.value)
    elif isinstance(expr, ast.JoinedStr):
        for v in expr.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue):
                src = ast.unparse(v.value)
                if not NUMERIC_OR_ZH.search(src):
                    probs.append(f"placeholder {{{src}}}")
    else:
        return probs  # a name or call: checked where that text is made
    text = "".join(parts)
    if not re.search(r"[\u4e00-\u9fff]", text):
        probs.append(f"no Chinese in {text!r}")
    for tok in re.findall(r"[A-Za-z][A-Za-z_]+|[A-Za-z]", text):
        if tok not in ALLOWED_LATIN:
            probs.append(f"latin {tok!r}")
    return probs


def test_rule_messages_in_chinese_carry_no_code_id_or_english() -> None:
    found = _messages()
    assert len(found) > 80  # the walk really sees the refusals
    bad = [f"{f.relative_to(ROOT)}:{line}: {p}" for f, line, expr in found for p in _problems(expr)]
    assert not bad, "\n".join(bad)


def test_the_check_catches_a_code_or_an_id() -> None:
    assert _problems(ast.parse('f"房间不存在：{room_id}"', mode="eval").body)
    assert _problems(ast.parse('"须先完成 HANDHELD_REQUIRED"', mode="eval").body)
    assert _problems(ast.parse('"recorder unavailable"', mode="eval").body)
    assert not _problems(ast.parse('f"超出法定最长时限（{tier.max_hours:g}小时）"', mode="eval").body)
