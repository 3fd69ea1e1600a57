"""Benchmark figures in the shared format: one JSON list per benchmark in bench/results/<name>.json, and a table.

A figure is ``{"name", "metric", "unit", "value", "baseline", "ratio", "target", "ok", "runs", "when"}``; the
baseline is measured in the same run, ``ratio`` is value / baseline and ``ok`` says whether the ratio is at most
``target`` (None: no target, always ok), or at least ``target`` for a figure made with ``direction=">="`` (a rate,
where higher is better); such a figure also carries ``"direction"``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def figure(name: str, metric: str, unit: str, value: float, baseline: float, *, target: float | None,
           runs: int, direction: str = "<=") -> dict[str, Any]:
    if direction not in ("<=", ">="):
        raise ValueError("direction is '<=' (target is a maximum) or '>=' (target is a minimum)")
    ratio = value / baseline if baseline else float("inf")
    ok = target is None or (ratio <= target if direction == "<=" else ratio >= target)
    fig = {"name": name, "metric": metric, "unit": unit, "value": round(value, 6), "baseline": round(baseline, 6),
           "ratio": round(ratio, 3), "target": target, "ok": ok, "runs": runs,
           "when": datetime.now(UTC).isoformat(timespec="seconds")}
    if direction != "<=":
        fig["direction"] = direction
    return fig


def write(bench: str, figures: list[dict[str, Any]], results: Path = RESULTS) -> Path:
    """Write the figures to ``results/<bench>.json`` and print them as a table; returns the file."""
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{bench}.json"
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    rows = [("name", "metric", "value", "baseline", "ratio", "target", "ok")]
    rows += [(f["name"], f["metric"], f"{f['value']:.4g} {f['unit']}", f"{f['baseline']:.4g} {f['unit']}",
              f"{f['ratio']:.3f}", "-" if f["target"] is None else f"{f.get('direction', '<=')} {f['target']}",
              "ok" if f["ok"] else "MISS")
             for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    print(f"-> {path}")
    return path
