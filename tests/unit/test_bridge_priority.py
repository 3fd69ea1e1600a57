"""The bridge lowers its own CPU priority to ``[bridge] nice`` (the API answers first when the PC is short of CPU),
never raises it, and a site file cannot ask for a niceness Unix does not have. Run in a child process: a niceness
once raised cannot be lowered again by an unprivileged process, and the test runner's own must stay as it is."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from controller.settings import BridgeConfig

CHILD = """
import os
from controller.bridge.__main__ import lower_priority
start = os.getpriority(os.PRIO_PROCESS, 0)
print(start, lower_priority(start + 5), os.getpriority(os.PRIO_PROCESS, 0), lower_priority(start + 2),
      os.getpriority(os.PRIO_PROCESS, 0))
"""


def test_bridge_lowers_its_priority_and_never_raises_it() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True).stdout.split()
    start, got, now, again, after = map(int, out)
    assert (got, now) == (start + 5, start + 5)
    assert (again, after) == (start + 5, start + 5), "asked for less than it has: it stays where it is"


def test_bridge_nice_defaults_to_5_and_is_bounded() -> None:
    assert BridgeConfig().nice == 5
    for bad in (-1, 20):
        with pytest.raises(ValidationError):
            BridgeConfig(nice=bad)
