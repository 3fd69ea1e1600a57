"""A fork server for crash loops: one process imports the controller once, then forks a fresh controller
(``python -m controller run``, the same ``main``) per request, so a SIGKILL/restart cycle costs the controller's
own start-up (migrate check, container, devices, uvicorn) rather than a few seconds of Python imports.

Each child is a real, separate controller process with its own database connections, opened after the fork; what
a SIGKILL does to it is what it does to the service. Run as ``python -m tests.reliability.zygote``: it prints
``ready``, then reads one JSON request per line (``{"argv", "env", "log"}``) and answers with the child's pid.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.procs import ROOT, wait_healthy
from tests.reliability.harness import ControllerProcess


def _warm() -> Any:
    import uvicorn  # noqa: F401

    import controller.__main__ as cli
    import controller.app  # noqa: F401
    import controller.container  # noqa: F401
    import controller.devicebus  # noqa: F401
    import controller.store.migrate  # noqa: F401
    import devices.registry  # noqa: F401

    for name in ("alembic.command", "alembic.config", "devices.lock_board.adapter", "devices.id_reader.adapter",
                 "devices.metal_gate.adapter", "devices.mqtt_device", "devices.transport.mqtt",
                 "devices.transport.serial", "controller.sync.pusher", "uvicorn.protocols.http.h11_impl",
                 "uvicorn.lifespan.on", "uvicorn.loops.asyncio"):
        try:
            __import__(name)
        except ImportError:
            pass
    # one throwaway start-up on a scratch database loads everything the first build loads lazily
    import tempfile
    import threading

    from controller.app import create_app
    from controller.container import build
    from controller.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), site_file=ROOT / "site" / "demo-site.toml", fake_clock=True)
        cli.migrate(settings)
        container = build(settings, with_devices=True)
        create_app(container)
        container.db.close()
    assert threading.active_count() == 1, "no thread may be running when the server forks"
    return cli


def serve() -> None:
    cli = _warm()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps killed children: no zombies to wait for
    print("ready", flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                fd = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                os.environ.clear()
                os.environ.update(req["env"])
                code = int(cli.main(req["argv"]))
            except BaseException as exc:  # noqa: BLE001 - the child must never return into the server loop
                print(f"controller child failed: {exc!r}", file=sys.stderr, flush=True)
            finally:
                os._exit(code)
        print(pid, flush=True)


class Zygote:
    """The fork server, seen from the test: ``spawn`` answers a child pid."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.reliability.zygote"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"zygote did not start: {line!r}")

    def spawn(self, argv: list[str], env: dict[str, str], log: Path) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"argv": argv, "env": env, "log": str(log)}) + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


class ForkedController(ControllerProcess):
    """``ControllerProcess`` with children forked from a :class:`Zygote` (same CLI, same environment)."""

    def __init__(self, zygote: Zygote, data_dir: Path, site: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(data_dir, site, env)
        self.zygote = zygote
        self.pid: int | None = None
        self.start_times: list[float] = []

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        pid = self.pid = self.zygote.spawn(["run"], dict(self.env), self.log)
        wait_healthy(f"{self.url}/healthz", lambda: alive(pid), self.log, "controller", timeout, every=0.02)
        self.start_times.append(time.monotonic() - t0)

    def cli(self, *args: str, env: dict[str, str] | None = None) -> None:
        """The CLI (``migrate``, ``user add``) forked from the warm server too; its output goes to the log."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        mark = self.log.stat().st_size if self.log.exists() else 0
        self.pid = self.zygote.spawn(list(args), {**self.env, **(env or {})}, self.log)
        if not self._wait_gone(60):
            raise TimeoutError(f"controller {' '.join(args)} did not finish")
        out = self.log.read_bytes()[mark:].decode(errors="replace")
        if "Traceback" in out or "child failed" in out:
            raise RuntimeError(f"controller {' '.join(args)} failed: {out[-2000:]}")
        self.pid = None

    def _wait_gone(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.pid is not None and alive(self.pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)  # the kernel tearing the process down
        return True

    def kill(self) -> None:
        if self.pid is not None and alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)
            if not self._wait_gone(10):
                raise RuntimeError(f"controller {self.pid} survived SIGKILL")
        self.pid = None

    def stop(self) -> None:
        if self.pid is not None and alive(self.pid):
            os.kill(self.pid, signal.SIGTERM)
            if not self._wait_gone(10):
                os.kill(self.pid, signal.SIGKILL)
                self._wait_gone(10)
        self.pid = None


if __name__ == "__main__":
    serve()
