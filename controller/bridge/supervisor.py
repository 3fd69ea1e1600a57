"""The controller starts its device bridge as a child process and keeps it running: restarted (after a short,
growing pause) whenever it exits, stopped with SIGTERM when the controller stops, and ended by the kernel if the
controller dies (PR_SET_PDEATHSIG). In production systemd runs ``hcc-bridge.service`` instead and the controller
does not supervise (``[bridge] supervise = false``).

The child runs the site the controller runs, not only the file it was read from: the demo adds its broker
account in memory (``demo_credentials``), so the supervisor writes the effective site to
``<data dir>/bridge-site.json`` (0600: it names the password file) and points the bridge at it
(``HCC_BRIDGE_SITE_JSON``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from ..settings import SiteConfig

log = logging.getLogger(__name__)


def die_with_parent() -> None:
    """``preexec_fn`` of a child process: the kernel sends it SIGTERM when its parent dies (PR_SET_PDEATHSIG)."""
    import ctypes

    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


async def terminate(proc: subprocess.Popen[bytes] | None, timeout_s: float = 10.0) -> None:
    """SIGTERM a running child and wait for it; SIGKILL if it has not ended after ``timeout_s``."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.to_thread(proc.wait, timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()


SITE_JSON_ENV = "HCC_BRIDGE_SITE_JSON"


class BridgeSupervisor:
    def __init__(self, site_file: Path, data_dir: Path, site: SiteConfig | None = None, *,
                 backoff_s: tuple[float, float] = (0.2, 5.0)) -> None:
        self.site_file, self.data_dir, self.site, self.backoff_s = site_file, data_dir, site, backoff_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "HCC_SITE_FILE": str(self.site_file), "HCC_DATA_DIR": str(self.data_dir)}
        env.pop(SITE_JSON_ENV, None)
        if self.site is not None:
            path = self.data_dir / "bridge-site.json"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(self.site.model_dump_json())
            env[SITE_JSON_ENV] = str(path)
        log_file = open(self.data_dir / "bridge.log", "ab")  # noqa: SIM115 (the child keeps it; closed below)
        try:
            return subprocess.Popen([sys.executable, "-m", "controller.bridge"], env=env, stdout=log_file,
                                    stderr=log_file, preexec_fn=die_with_parent)
        finally:
            log_file.close()

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = self._spawn()
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="bridge-supervisor")

    async def _watch(self) -> None:
        pause = self.backoff_s[0]
        while not self._stopping:
            assert self.proc is not None
            code = await asyncio.to_thread(self.proc.wait)
            if self._stopping:
                return
            log.error("device bridge exited (%s); restarting in %.1fs", code, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, self.backoff_s[1])
            self.proc = self._spawn()
            self.restarts += 1

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    async def stop(self) -> None:
        self._stopping = True
        await terminate(self.proc)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
