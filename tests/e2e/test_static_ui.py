"""Static checks of kiosk_ui/ that need no browser: every literal string key has a dictionary entry in both
languages, nothing is fetched from another origin, and each file says what it is for in its first line."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "kiosk_ui"


def dictionary() -> dict[str, tuple[str, str]]:
    """The dictionary of i18n.js and the entries feature modules add with extend()."""
    words: dict[str, tuple[str, str]] = {}
    for js in sorted((UI / "js").glob("*.js")):
        text = js.read_text(encoding="utf-8")
        words |= {k: (zh, en) for k, zh, en in re.findall(r'^\s*"([^"]+)": \["([^"]*)", "([^"]*)"\],$', text, re.M)}
    return words


def test_every_literal_key_has_chinese_and_english() -> None:
    words = dictionary()
    assert len(words) > 300
    used: set[str] = set()
    for js in (UI / "js").glob("*.js"):
        used |= set(re.findall(r'\bt\("([a-z_.]+)"', js.read_text(encoding="utf-8")))
        used |= set(re.findall(r'submitRow\("([a-z_.]+)"', js.read_text(encoding="utf-8")))
        used |= set(re.findall(r'showLocalError\(\w+, "([a-z_.]+)"\)', js.read_text(encoding="utf-8")))
    for page in UI.glob("*.html"):
        used |= set(re.findall(r'data-i18n="([a-z_.]+)"', page.read_text(encoding="utf-8")))
    missing = sorted(k for k in used if k not in words)
    assert not missing, missing
    assert all(zh and en for zh, en in words.values())


def test_nothing_is_loaded_from_another_origin() -> None:
    for f in UI.rglob("*"):
        if f.suffix in (".html", ".js", ".css"):
            assert not re.search(r'(src|href)\s*=\s*["\']https?://|@import\s+url\(["\']?https?://|from\s+["\']https?://',
                                 f.read_text(encoding="utf-8")), f


def test_each_file_starts_with_what_it_is_for() -> None:
    for f in UI.rglob("*"):
        first = f.read_text(encoding="utf-8").splitlines()[:2] if f.suffix in (".html", ".js", ".css") else None
        if first is None:
            continue
        head = " ".join(first)
        assert head.startswith(("//", "/*")) or "<!--" in head, f
