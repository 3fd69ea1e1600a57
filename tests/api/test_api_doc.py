"""docs/API.md stays in step with the code: every call it names is served, and every served route is named."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import Api

DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"


def _shape(path: str) -> str:
    """A path with its parameters blanked, so /stays/{id} and /stays/{stay_id} compare equal."""
    return re.sub(r"\{[^}]+\}", "{}", path.split("?")[0].rstrip("/"))


def documented() -> set[tuple[str, str]]:
    calls: set[tuple[str, str]] = set()
    for methods, path, more in re.findall(r"`((?:GET|POST)(?:\|(?:GET|POST))*) (/[^` ]*)`((?: `/[^`]+`)*)", DOC.read_text()):
        paths = [path, *(path.rsplit("/", 1)[0] + p for p in re.findall(r"`(/[a-z]+)`", more))]
        for method in methods.split("|"):
            for p in paths:
                calls.add((method, _shape(p if p.startswith("/api/") else "/api/v1" + p)))
    return calls


async def test_every_documented_call_is_served_and_every_route_documented(api: Api) -> None:
    status, schema = await api.get("/openapi.json")
    assert status == 200
    served = {(m.upper(), _shape(p)) for p, ops in schema["paths"].items() if p.startswith("/api/v1")
              for m in ops if m in ("get", "post")}
    # one route serves the pause, resume and end of an interview the contract names one by one
    served |= {("POST", f"/api/v1/interviews/{{}}/{a}") for a in ("pause", "resume", "end")}
    doc = documented()
    assert len(doc) > 30
    assert doc - served == set(), "documented but not served"
    undocumented = {(m, p) for m, p in served - doc
                    if not p.startswith("/api/v1/ui") and p != "/api/v1/interviews/{}/{}"}
    assert undocumented == set(), "served but not in docs/API.md"
