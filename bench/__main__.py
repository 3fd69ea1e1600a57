"""``python -m bench [--only NAME]``: runs every benchmark (each ``bench/bench_<name>.py`` in its own process),
then merges their figures into ``bench/results/all.json`` and prints one table."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from bench.report import RESULTS

HERE = Path(__file__).resolve().parent


def names() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--only", choices=names(), help="run one benchmark")
    args = ap.parse_args(argv)
    chosen = [args.only] if args.only else names()
    failed = []
    for name in chosen:
        print(f"\n=== bench {name} ===", flush=True)
        rc = subprocess.call([sys.executable, "-m", f"bench.bench_{name}"], cwd=HERE.parent)
        if rc != 0:
            failed.append(name)
    merged = []
    for name in names():
        path = RESULTS / f"{name}.json"
        if path.exists():
            merged += [{"bench": name, **f} for f in json.loads(path.read_text(encoding="utf-8"))]
    (RESULTS / "all.json").write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n=== all figures ===")
    for f in merged:
        target = "-" if f.get("target") is None else f"{f.get('direction', '<=')} {f['target']}"
        print(f"{f['bench']:<11} {f['name']:<44} {f['ratio']:>8.3f}  target {target:<8} {'ok' if f['ok'] else 'MISS'}")
    print(f"-> {RESULTS / 'all.json'}")
    if failed:
        print(f"benchmarks that failed to run: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
