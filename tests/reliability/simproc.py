"""hw_sim as a subprocess for the reliability tests: every simulated device of a test site, on its own ptys, with
its own broker on a free port (``--broker auto``: Mosquitto where installed, else the embedded one) and the control
interface on another."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.reliability.harness import ROOT, free_port
from tests.reliability.sites import write_site


class SimProcess:
    def __init__(self, run_dir: Path, *, grace_s: float = 1.0, broker: str = "auto",
                 mqtt_port: int | None = None, open_bench: bool = False) -> None:
        self.run_dir = run_dir
        self.mqtt_port = mqtt_port or free_port()
        self.control_port = free_port()
        # devices with their own accounts and keys, as a site runs them; ``open_bench`` only for benchmarks
        self.open_bench = open_bench
        self.site = write_site(run_dir, self.mqtt_port, grace_s=grace_s, credentials=not open_bench)
        self.credentials = None if open_bench else run_dir / "mqtt"
        self.broker = broker
        self.proc: subprocess.Popen[str] | None = None
        self.log = run_dir / "hw_sim.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    def start(self, timeout: float = 30.0) -> None:
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hw_sim", "--site", str(self.site), "--run-dir", str(self.run_dir),
                 *(["--open-bench"] if self.credentials is None else ["--credentials", str(self.credentials)]),
                 "--broker", self.broker, "--control-port", str(self.control_port), "--log-level", "WARNING"],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = self.proc.stdout.readline()  # blocks until the ready line (or EOF if it died)
        if "hw_sim ready" not in line or time.monotonic() > deadline:
            self.stop()
            raise RuntimeError(f"hw_sim did not start: {line!r} {self.log.read_text()[-2000:]}")

    def fault(self, device_id: str, name: str, **params: object) -> None:
        r = httpx.post(f"{self.url}/devices/{device_id}/faults", json={"name": name, "params": params}, timeout=10)
        r.raise_for_status()

    def clear(self, device_id: str) -> None:
        httpx.delete(f"{self.url}/devices/{device_id}/faults", timeout=10).raise_for_status()

    def info(self, device_id: str) -> dict[str, object]:
        r = httpx.get(f"{self.url}/devices/{device_id}", timeout=10)
        r.raise_for_status()
        return dict(r.json())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None
