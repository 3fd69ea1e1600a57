"""Builds the simulated serial devices of a site from its parsed TOML (``devices`` and ``locker_banks``).

Each serial device gets a pty whose symlink sits in ``run_dir`` under the last part of the device's URL (the demo
site's ``var/sim/lock-bus-1`` becomes ``<run_dir>/lock-bus-1``), paced at the device's ``options.baud``. A lock bus
gets one simulated board per locker bank on it, with the bank's channels and latch polarity. Devices whose URL is
``socket://`` or ``/dev/...`` are real hardware and are not simulated.
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath
from typing import Any

from devices.kinds import serial_bauds
from devices.lock_board.protocol import BoardSpec
from hw_sim.breathalyser import BreathalyserSim
from hw_sim.id_reader import IdReaderSim
from hw_sim.lock_board import LockBusSim
from hw_sim.metal_gate import MetalGateSim
from hw_sim.serial_sim import SerialSim

log = logging.getLogger(__name__)

SERIAL_KINDS = serial_bauds()  # kind -> default baud, from the one table of device kinds (devices/kinds.py)


def link_path(url: str, run_dir: Path) -> Path | None:
    """Where the simulator puts the device's pty symlink, or None when the URL names real hardware."""
    if "://" in url or url.startswith("/dev/"):
        return None
    return run_dir / PurePosixPath(url).name


def build_serial_sims(site_raw: dict[str, Any], run_dir: Path) -> list[SerialSim]:
    sims: list[SerialSim] = []
    banks = site_raw.get("locker_banks", [])
    for dev in site_raw.get("devices", []):
        kind = dev.get("kind")
        if kind not in SERIAL_KINDS:
            continue
        device_id, url = str(dev["id"]), str(dev["url"])
        path = link_path(url, Path(run_dir))
        if path is None:
            log.info("%s: %s is real hardware; not simulated", device_id, url)
            continue
        baud = int(dev.get("options", {}).get("baud") or SERIAL_KINDS[kind])
        if kind == "lock_board":
            boards = [BoardSpec.from_mapping(b) for b in banks if b.get("bus") == device_id]
            if not boards:
                log.warning("%s: no locker bank on this bus; not simulated", device_id)
                continue
            sims.append(LockBusSim(device_id, path, boards, baud=baud))
        elif kind == "id_reader":
            sims.append(IdReaderSim(device_id, path, baud=baud))
        elif kind == "metal_gate":
            sims.append(MetalGateSim(device_id, path, baud=baud))
        else:
            sims.append(BreathalyserSim(device_id, path, baud=baud))
    return sims
