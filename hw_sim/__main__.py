"""``python -m hw_sim --site <file>`` (console script ``hcc-hw-sim``): play every device of a site.

``--credentials <dir>`` (the output of ``python -m controller devices credentials``) runs the devices as a site
does: each signs in with its own broker account and signs with its own key, and the broker started here enforces
the generated passwords and ACL. ``--open-bench`` is the explicitly named bench mode: an open broker, anonymous
devices, no signatures; one of the two must be given.

Starts the MQTT broker when asked (``--broker auto`` starts one unless something already listens on the site's
broker port; Mosquitto where installed, else the embedded broker), every simulated MQTT device, the serial devices
on ptys under ``--run-dir`` and the capture camera, then serves the control interface (``hw_sim/control.py``) on
127.0.0.1:``--control-port`` until SIGINT/SIGTERM. Prints one ``hw_sim ready ...`` line on stdout when everything
is up, for scripts and tests to wait on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hw_sim.broker import BrokerHandle, start_broker
from hw_sim.control import ControlServer
from hw_sim.site import SimSite

log = logging.getLogger("hw_sim")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="hw_sim", description="Simulate every device of a handling-centre site.")
    ap.add_argument("--site", required=True, type=Path, help="site TOML file (e.g. site/demo-site.toml)")
    ap.add_argument("--run-dir", type=Path, default=Path("var/sim"), help="where pty links and broker files go")
    ap.add_argument("--broker", choices=("auto", "mosquitto", "embedded", "none"), default="auto",
                    help="start an MQTT broker on the site's MQTT port (auto: unless one already listens)")
    auth = ap.add_mutually_exclusive_group(required=True)
    auth.add_argument("--credentials", type=Path, default=None,
                      help="output folder of `python -m controller devices credentials`: every device signs in with "
                           "its own account and key, and the broker started here uses its passwords and ACL")
    auth.add_argument("--open-bench", action="store_true",
                      help="bench mode: an open broker with anonymous clients and unsigned devices (benchmarks only)")
    ap.add_argument("--control-port", type=int, default=18099, help="control interface port on 127.0.0.1")
    ap.add_argument("--log-level", default="INFO")
    return ap.parse_args(argv)


def load_raw(path: Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        return tomllib.load(f)


async def _port_open(host: str, port: int) -> bool:
    try:
        _, w = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
    except (OSError, TimeoutError):
        return False
    w.close()
    with contextlib.suppress(OSError):
        await w.wait_closed()
    return True


async def _maybe_broker(mode: str, url: str, run_dir: Path, auth_dir: Path | None = None) -> BrokerHandle | None:
    if mode == "none":
        return None
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 1883
    if host not in ("127.0.0.1", "localhost"):
        log.info("site broker %s is not local; not starting one", url)
        return None
    if mode == "auto" and await _port_open("127.0.0.1", port):
        log.info("a broker already listens on %s; using it", url)
        return None
    broker = await start_broker(port, prefer="embedded" if mode == "embedded" else "mosquitto", run_dir=run_dir,
                                auth_dir=auth_dir)
    log.info("MQTT broker (%s) on %s", broker.kind, broker.url)
    return broker


async def run(args: argparse.Namespace) -> int:
    raw = load_raw(args.site)
    run_dir: Path = args.run_dir
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    creds: Path | None = args.credentials
    if creds is None:
        log.warning("open bench mode: anonymous broker, devices without accounts or keys (never a real site)")
    site = SimSite(raw, run_dir, credentials=creds / "credentials.json" if creds else None)
    site.build()
    broker = await _maybe_broker(args.broker, site.mqtt_url, run_dir, creds)
    control = ControlServer(site, port=args.control_port)
    try:
        await site.start()
        await control.start()
        print(f"hw_sim ready: {len(site.sims)} devices, control http://127.0.0.1:{control.port}, "
              f"mqtt {site.mqtt_url}" + (f" ({broker.kind})" if broker else ""), flush=True)
        await stop.wait()
        log.info("stopping")
    finally:
        await control.stop()
        await site.stop()
        if broker is not None:
            await broker.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        args.run_dir.mkdir(parents=True, exist_ok=True)
        return asyncio.run(run(args))
    except FileNotFoundError as exc:
        print(f"hw_sim: {exc}", file=sys.stderr)
        return 2
    except tomllib.TOMLDecodeError as exc:
        print(f"hw_sim: {args.site}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
