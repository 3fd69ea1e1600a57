"""hw_sim as a subprocess for the reliability tests: every simulated device of a test site, on its own ptys, with
its own broker on a free port (``--broker auto``: Mosquitto where installed, else the embedded one) and the control
interface on another."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.procs import Child, free_port
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
        self.log = run_dir / "hw_sim.log"
        self.child = Child([sys.executable, "-m", "hw_sim", "--site", str(self.site), "--run-dir", str(run_dir),
                            *(["--open-bench"] if self.credentials is None else ["--credentials", str(self.credentials)]),
                            "--broker", broker, "--control-port", str(self.control_port), "--log-level", "WARNING"],
                           log=self.log, what="hw_sim", ready_line="hw_sim ready", stop_grace_s=15.0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"

    @property
    def proc(self) -> subprocess.Popen[str] | None:
        return self.child.proc

    def start(self, timeout: float = 30.0) -> None:
        self.child.start(timeout)

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
        self.child.stop()
