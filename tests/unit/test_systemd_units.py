"""The systemd units pass ``systemd-analyze verify`` (skipped where systemd is not installed), and sd_notify sends
READY, WATCHDOG at half the watchdog interval, and STOPPING as datagrams on ``$NOTIFY_SOCKET``."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from controller.systemd import Notifier

ROOT = Path(__file__).resolve().parents[2]
UNITS = ["controller.service", "hw-sim.service", "hcc-bridge.service"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze not installed (apt-get install systemd)")
def test_every_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    venv = ROOT / ".venv"
    for name in UNITS:  # the units name /opt/hcc/.venv; verify checks the executables exist, so point at ours
        text = (ROOT / "systemd" / name).read_text().replace("/opt/hcc/.venv", str(venv))
        (tmp_path / name).write_text(text)
    out = subprocess.run(["systemd-analyze", "verify", *(str(tmp_path / n) for n in UNITS)],
                         capture_output=True, text=True, timeout=60)
    complaints = [line for line in (out.stdout + out.stderr).splitlines()
                  if any(n in line for n in UNITS) or str(tmp_path) in line]
    assert out.returncode == 0 and complaints == [], out.stdout + out.stderr


def test_controller_unit_is_a_sandboxed_notify_service() -> None:
    text = (ROOT / "systemd" / "controller.service").read_text()
    for line in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "ExecStartPre=/opt/hcc/.venv/bin/hcc-controller "
                 "migrate", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                 "StateDirectory=hcc", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "User=hcc"):
        assert line in text, line


def datagrams(tmp_path: Path) -> tuple[socket.socket, str]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    return sock, path


async def recv(sock: socket.socket, limit_s: float = 5.0) -> str:
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(limit_s):
        return (await loop.sock_recv(sock, 4096)).decode()


async def test_notifier_sends_ready_watchdog_pings_and_stopping(tmp_path: Path) -> None:
    sock, path = datagrams(tmp_path)
    try:
        notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000"})
        assert notifier.enabled and notifier.watchdog_s == 0.1
        notifier.ready("serving")
        assert (await recv(sock)).startswith("READY=1")
        assert await recv(sock) == "WATCHDOG=1"
        assert await recv(sock) == "WATCHDOG=1"  # keeps pinging from the loop
        await notifier.stopping()
        msgs = [await recv(sock)]
        while msgs[-1] == "WATCHDOG=1":  # a ping already in flight
            msgs.append(await recv(sock))
        assert msgs[-1] == "STOPPING=1"
    finally:
        sock.close()


def test_notifier_is_silent_outside_systemd_and_for_another_pids_watchdog() -> None:
    assert not Notifier({}).enabled and Notifier({}).notify("READY=1") is False
    assert Notifier({"NOTIFY_SOCKET": "@abstract", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}).watchdog_s is None
    assert Notifier({"NOTIFY_SOCKET": "@abstract"}).address == "\0abstract"
