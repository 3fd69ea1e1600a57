"""``python -m controller run`` under a stand-in for systemd: READY=1 once it serves, WATCHDOG=1 pings from its
event loop, STOPPING=1 on SIGTERM — read as datagrams from a real ``$NOTIFY_SOCKET``."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import httpx
import pytest

from tests.reliability.harness import ControllerProcess
from tests.reliability.test_backup_restore import quiet_site

pytestmark = pytest.mark.slow


def test_run_tells_systemd_ready_watchdog_and_stopping(tmp_path: Path) -> None:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)  # bounded wait for the real process's datagrams
    proc = ControllerProcess(tmp_path / "data", site=quiet_site(tmp_path),
                             env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
    try:
        proc.start()
        first = sock.recv(4096).decode()
        assert first.startswith("READY=1") and "STATUS=serving" in first
        assert httpx.get(f"{proc.url}/healthz", timeout=5).status_code == 200
        assert sock.recv(4096).decode() == "WATCHDOG=1"
        assert sock.recv(4096).decode() == "WATCHDOG=1"
        assert proc.proc is not None
        proc.proc.send_signal(signal.SIGTERM)
        seen = []
        while not seen or seen[-1] == "WATCHDOG=1":
            seen.append(sock.recv(4096).decode())
        assert seen[-1] == "STOPPING=1"
        # uvicorn re-raises SIGTERM after its graceful shutdown; systemd counts SIGTERM as a clean stop
        assert proc.proc.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        proc.stop()
        sock.close()
