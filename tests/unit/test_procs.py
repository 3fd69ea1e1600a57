"""The shared subprocess helper (tests/procs.py): ready on a line or a health URL, a dead child reported with its
log, stop and kill leave nothing running."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from tests.procs import Child, free_port

SERVE = ("import http.server, sys\n"
         "class H(http.server.BaseHTTPRequestHandler):\n"
         "    def do_GET(self):\n        self.send_response(200); self.end_headers()\n"
         "    def log_message(self, *a): pass\n"
         "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n")


def test_ready_line_then_stop(tmp_path: Path) -> None:
    child = Child([sys.executable, "-c", "import time; print('sim ready', flush=True); time.sleep(600)"],
                  log=tmp_path / "c.log", what="sim", ready_line="sim ready")
    child.start(timeout=30)
    assert child.alive()
    child.stop()
    assert not child.alive() and child.proc is not None and child.proc.returncode == -signal.SIGTERM


def test_health_url_then_kill(tmp_path: Path) -> None:
    port = free_port()
    child = Child([sys.executable, "-c", SERVE, str(port)], log=tmp_path / "s.log", what="server",
                  health_url=f"http://127.0.0.1:{port}/healthz")
    child.start(timeout=30)
    child.kill()
    assert child.proc is not None and child.proc.returncode == -signal.SIGKILL


def test_a_child_that_dies_is_reported_with_its_log(tmp_path: Path) -> None:
    child = Child([sys.executable, "-c", "import sys; sys.stderr.write('no such key file\\n'); sys.exit(3)"],
                  log=tmp_path / "d.log", what="receiver", health_url=f"http://127.0.0.1:{free_port()}/healthz")
    with pytest.raises(RuntimeError, match="receiver exited: no such key file"):
        child.start(timeout=30)
    line = Child([sys.executable, "-c", "print('something else')"], log=tmp_path / "e.log", what="sim",
                 ready_line="sim ready")
    with pytest.raises(RuntimeError, match="sim did not start"):
        line.start(timeout=30)
