"""CLI: ``python -m controller run|demo|migrate|user|check-config`` and the site operations of ``cli_ops.py``
(init, kiosk, devices credentials, sync rotate-key, backup, restore, user card).

``run`` migrates the database, then serves the API; ``demo`` does the same on a local SQLite file with the demo
site, seeded demo staff (printed with their passwords), every device simulated, and the test clock running.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from .settings import Settings, SiteConfigError, load_site

log = logging.getLogger("controller")

DEMO_STAFF = [
    # police_no, name, sex, roles
    ("100001", "王建国", "male", ["case_officer"]),
    ("100002", "李明", "male", ["case_officer"]),
    ("100003", "赵丽", "female", ["case_officer"]),
    ("200001", "陈静", "female", ["custody_staff"]),
    ("200002", "刘强", "male", ["custody_staff"]),
    ("300001", "张伟", "male", ["supervisor"]),
    ("900001", "系统管理员", "male", ["admin"]),
]


def _logging(level: str) -> None:
    """JSON lines on stderr (journald keeps them), identity numbers masked (controller/logs.py)."""
    from .logs import setup

    setup(level)


def migrate(settings: Settings) -> None:
    from .store.migrate import migrate as run

    run(settings.db_url(), settings.data_dir)


def seed_demo_staff(settings: Settings) -> list[tuple[str, str, str, str]]:
    """Creates the demo staff once; their passwords live in a 0600 file in the data dir, never in the repo."""
    from .auth import create_staff
    from .clock import SystemClock
    from .store.db import Actor, Database

    path = settings.data_dir / "demo-staff.json"
    if path.exists():
        return [tuple(x) for x in json.loads(path.read_text())]  # type: ignore[misc]
    db = Database(settings.db_url(), SystemClock())
    out = []
    try:
        for police_no, name, sex, roles in DEMO_STAFF:
            password = secrets.token_urlsafe(6)
            def add(uow: Any, p: str = police_no, n: str = name, s: str = sex, r: list[str] = roles,
                    pw: str = password) -> Any:
                return create_staff(uow, police_no=p, name=n, sex=s, roles=r, password=pw, staff_id=f"staff-{p}")

            db.write_sync(Actor.system("seed"), add)
            out.append((police_no, name, ",".join(roles), password))
    finally:
        db.close()
    path.write_text(json.dumps(out, ensure_ascii=False))
    os.chmod(path, 0o600)
    return out


class SimulatorProcess:
    """hw_sim as a child of the demo, started and stopped with the app's lifespan (uvicorn re-raises SIGTERM after
    shutdown, so a ``finally`` in main would never run); PR_SET_PDEATHSIG ends it even if we are SIGKILLed."""

    def __init__(self, site_file: Path) -> None:
        self.site_file = site_file
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "hw_sim", "--site", str(self.site_file),  # noqa: ASYNC220
                                      "--run-dir", "var/sim"], preexec_fn=_die_with_parent)
        await asyncio.sleep(1.5)  # give the ptys and the broker a moment, so the adapters find them at once

    async def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.proc.wait, 10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _die_with_parent() -> None:
    import ctypes

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def serve(settings: Settings, *, simulator: bool = False) -> None:
    import uvicorn

    from .app import create_app
    from .container import build

    container = build(settings, with_devices=True)
    if simulator:  # before the devicebus, so the simulated devices exist when the adapters connect
        container.lifecycle.insert(0, SimulatorProcess(settings.site_file))
    app = create_app(container)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                            access_log=False, lifespan="on", log_config=None)  # uvicorn logs via our JSON handler
    from .systemd import notifying_server

    server = notifying_server(config, f"serving on {settings.host}:{settings.port}")
    try:
        asyncio.run(server.serve())
    finally:
        container.db.close()


def cmd_run(args: argparse.Namespace) -> int:
    settings = Settings()
    migrate(settings)
    serve(settings)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    os.environ.setdefault("HCC_DATA_DIR", "var/demo")
    os.environ.setdefault("HCC_SITE_FILE", "site/demo-site.toml")
    os.environ.setdefault("HCC_FAKE_CLOCK", "1")
    os.environ.setdefault("HCC_FAKE_CLOCK_RUNNING", "1")
    settings = Settings()
    migrate(settings)
    staff = seed_demo_staff(settings)
    base = f"http://{settings.host}:{settings.port}"
    print("\n=== 办案中心站点控制器 演示 / controller demo ===", flush=True)
    print(f"  自助终端 Kiosk:        {base}/ui/kiosk.html")
    print(f"  讯问室终端 Interview:  {base}/ui/interview.html")
    print(f"  值班看板 Dashboard:    {base}/ui/dashboard.html")
    print(f"  API docs:              {base}/docs     health: {base}/healthz")
    print("  演示账号 Demo staff (警号 police no / 姓名 / 角色 / 密码 password):")
    for police_no, name, roles, password in staff:
        print(f"    {police_no}  {name}  {roles:<14} {password}")
    print("  模拟设备控制 Simulator control: http://127.0.0.1:18099/devices   "
          "scripted day: python -m hw_sim.demo_day", flush=True)
    serve(settings, simulator=not args.no_sim)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    migrate(Settings())
    print("migrated")
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    try:
        site = load_site(args.file)
    except SiteConfigError as exc:
        print(str(exc), file=sys.stderr)
        for key, msg in exc.problems:
            print(f"  {key}: {msg}", file=sys.stderr)
        return 2
    print(f"ok: {site.site.id}: {len(site.rooms)} rooms, {len(site.locker_ids())} lockers, {len(site.devices)} devices")
    return 0


def cmd_user(args: argparse.Namespace) -> int:
    import getpass

    from .auth import create_staff, set_active
    from .clock import SystemClock
    from .store.db import Actor, Database

    settings = Settings()
    migrate(settings)
    db = Database(settings.db_url(), SystemClock())
    try:
        if args.user_cmd == "add":
            password = os.environ.get("HCC_NEW_PASSWORD") or getpass.getpass("password: ")
            p = db.write_sync(Actor.system("cli"), lambda uow: create_staff(
                uow, police_no=args.police_no, name=args.name, sex=args.sex, roles=args.roles.split(","),
                password=password, staff_id=args.staff_id))
            print(f"added {p.id} ({p.police_no})")
        else:
            db.write_sync(Actor.system("cli"), lambda uow: set_active(uow, args.staff_id, False))
            print(f"disabled {args.staff_id}")
    finally:
        db.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m controller", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run", help="migrate then serve").set_defaults(fn=cmd_run)
    demo = sub.add_parser("demo", help="demo: SQLite, demo site, simulated devices, seeded staff")
    demo.add_argument("--no-sim", action="store_true", help="do not start hw_sim")
    demo.set_defaults(fn=cmd_demo)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(fn=cmd_migrate)
    chk = sub.add_parser("check-config", help="validate a site file")
    chk.add_argument("file", type=Path)
    chk.set_defaults(fn=cmd_check_config)
    user = sub.add_parser("user", help="staff accounts")
    usub = user.add_subparsers(dest="user_cmd", required=True)
    add = usub.add_parser("add")
    add.add_argument("--police-no", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--sex", choices=["male", "female"], required=True)
    add.add_argument("--roles", required=True, help="comma-separated")
    add.add_argument("--staff-id", default=None, help="stable id (default: generated)")
    dis = usub.add_parser("disable")
    dis.add_argument("staff_id")
    user.set_defaults(fn=cmd_user)
    from .cli_ops import register

    register(sub, usub)
    args = parser.parse_args(argv)
    _logging(os.environ.get("HCC_LOG_LEVEL", "INFO"))
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
