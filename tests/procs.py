"""One way for the test suites to run a real process: start it, wait until it is ready, stop or kill it.

The controller (``python -m controller run``), hw_sim, the central-platform receiver and the e2e servers all go
through :class:`Child`. Ready means a bounded poll of an HTTP health URL or a ready line on stdout (never a sleep
for time to pass); a child that exits while we wait is reported with the tail of its log. Stopping is SIGTERM,
then SIGKILL after a grace period; killing is SIGKILL and waiting for the kernel to reap it.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS's choice), for a child to bind."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def log_tail(log: Path, chars: int = 2000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"


def wait_healthy(url: str, alive: Callable[[], bool], log: Path, what: str, timeout: float = 30.0,
                 every: float = 0.05) -> None:
    """Until ``url`` answers 200: bounded by ``timeout``; a child that dies meanwhile fails at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"{what} exited: {log_tail(log)}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(every)  # polling for a real process to come up, not waiting for time to pass
    raise TimeoutError(f"{what} did not become healthy at {url}: {log_tail(log)}")


class Child:
    """A subprocess with its output in ``log`` (stdout piped instead when readiness is a ``ready_line``)."""

    def __init__(self, argv: Sequence[str], *, log: Path, what: str, env: Mapping[str, str] | None = None,
                 cwd: Path = ROOT, ready_line: str | None = None, health_url: str | None = None,
                 stop_grace_s: float = 10.0, truncate_log: bool = False,
                 preexec: Callable[[], None] | None = None) -> None:
        self.argv, self.log, self.what = list(argv), log, what
        self.env = dict(env) if env is not None else None
        self.cwd, self.ready_line, self.health_url = cwd, ready_line, health_url
        self.stop_grace_s, self.truncate_log, self.preexec = stop_grace_s, truncate_log, preexec
        self.proc: subprocess.Popen[str] | None = None

    def spawn(self) -> None:
        """Start it without waiting (``wait_ready`` next), so several children can come up together."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "w" if self.truncate_log else "a") as log:
            self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, text=True, stderr=log,
                                         stdout=subprocess.PIPE if self.ready_line else log,
                                         preexec_fn=self.preexec)

    def wait_ready(self, timeout: float = 30.0) -> None:
        assert self.proc is not None, "spawn() first"
        try:
            if self.ready_line is not None:
                self._wait_line(self.ready_line)
            elif self.health_url is not None:
                wait_healthy(self.health_url, self.alive, self.log, self.what, timeout)
        except BaseException:
            self.stop()
            raise

    def start(self, timeout: float = 30.0) -> None:
        self.spawn()
        self.wait_ready(timeout)

    def _wait_line(self, marker: str) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()  # blocks until the child prints its ready line, or EOF if it died
            if marker in line:
                return
            if not line and self.proc.poll() is not None:
                raise RuntimeError(f"{self.what} did not start: {log_tail(self.log)}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=self.stop_grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
