"""Site files for controller subprocesses in the reliability tests: the demo site re-pointed at this test's own
broker and ptys (never the demo's, which a developer may be running), written back as TOML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.conftest import bench_site


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(raw: dict[str, Any]) -> str:
    """Enough TOML for a site file: top-level tables, arrays of tables, inline tables for nested values."""
    out: list[str] = []
    for key, val in raw.items():
        if isinstance(val, dict):
            out.append(f"[{key}]")
            out += [f"{k} = {_value(v)}" for k, v in val.items()]
            out.append("")
        elif isinstance(val, list) and val and all(isinstance(x, dict) for x in val):
            for row in val:
                out.append(f"[[{key}]]")
                out += [f"{k} = {_value(v)}" for k, v in row.items()]
                out.append("")
        else:
            out.insert(0, f"{key} = {_value(val)}")
    return "\n".join(out) + "\n"


def write_site(run_dir: Path, mqtt_port: int, *, grace_s: float = 1.0, credentials: bool = True) -> Path:
    """Writes the demo site pointed at ``mqtt_port`` and ptys under ``run_dir``; returns the file. With
    ``credentials`` (all but the open bench), `devices credentials` output goes to ``run_dir/mqtt`` and the
    controller signs in with it and checks device signatures with its keys."""
    raw = bench_site(run_dir, mqtt_port)
    raw["timing"]["device_offline_grace_s"] = grace_s
    if credentials:
        from controller import ops
        from controller.settings import parse_site

        creds = run_dir / "mqtt"
        ops.issue_credentials(parse_site(raw), creds)
        raw["mqtt"] |= {"username": "controller", "password_file": str(creds / "controller.password"),
                        "device_keys_dir": str(creds / "keys")}
    path = run_dir / "site.toml"
    run_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(to_toml(raw), encoding="utf-8")
    return path
