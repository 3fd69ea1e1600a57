"""Runs the real controller as a subprocess (``python -m controller run``) on a free port, for crash tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.procs import ROOT, Child, free_port

__all__ = ["ROOT", "ControllerProcess", "free_port"]


class ControllerProcess:
    def __init__(self, data_dir: Path, site: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {**os.environ, "HCC_DATA_DIR": str(data_dir),
                    "HCC_SITE_FILE": str(site or ROOT / "site" / "demo-site.toml"),
                    "HCC_PORT": str(self.port), "HCC_LOG_LEVEL": "WARNING", **(env or {})}
        self.log = data_dir / "controller.log"
        self.child = Child([sys.executable, "-m", "controller", "run"], log=self.log, what="controller",
                           env=self.env, health_url=f"{self.url}/healthz")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def proc(self) -> subprocess.Popen[str] | None:
        return self.child.proc

    def cli(self, *args: str, env: dict[str, str] | None = None) -> None:
        subprocess.run([sys.executable, "-m", "controller", *args], env={**self.env, **(env or {})}, cwd=ROOT,
                       check=True, capture_output=True)

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.child.env, self.child.log = self.env, self.log  # a test may have changed either since
        self.child.start(timeout)

    def kill(self) -> None:
        self.child.kill()

    def stop(self) -> None:
        self.child.stop()
