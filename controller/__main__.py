"""CLI: ``python -m controller run|demo|migrate|user|check-config`` and the site operations of ``cli_ops.py``
(init, kiosk, devices credentials, sync rotate-key, backup, restore, user card).

``run`` migrates the database, then serves the API; ``demo`` does the same on a local SQLite file with the demo
site, seeded demo staff (printed with their passwords), every device simulated, the simulated central platform
(``hw_sim.central``) receiving the change feed, and the test clock running.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

from .settings import Settings, SiteConfig, SiteConfigError, load_site

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
    from .domain.actor import Actor
    from .store.db import Database

    path = settings.data_dir / "demo-staff.json"
    if path.exists():
        return [tuple(x) for x in json.loads(path.read_text())]  # type: ignore[misc]
    db = Database(settings.db_url(), SystemClock())
    out = []
    try:
        for police_no, name, sex, roles in DEMO_STAFF:
            password = secrets.token_urlsafe(9)  # 12 characters: within the policy (passwords.py)
            while police_no in password:  # a random draw may, very rarely, contain the police number
                password = secrets.token_urlsafe(9)
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


DEMO_PLATFORM_PORT = 18098  # beside the simulator's control port (18099)


class ChildProcess:
    """A simulator as a child of the demo, started and stopped with the app's lifespan (uvicorn re-raises SIGTERM
    after shutdown, so a ``finally`` in main would never run); PR_SET_PDEATHSIG ends it even if we are SIGKILLed.
    ``ready_url``: wait (bounded) until it answers there; else give it ``settle_s`` to open its ptys and broker."""

    def __init__(self, argv: list[str], *, settle_s: float = 0.0, ready_url: str | None = None) -> None:
        self.argv, self.settle_s, self.ready_url = argv, settle_s, ready_url
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        from .bridge.supervisor import die_with_parent

        self.proc = subprocess.Popen(self.argv, preexec_fn=die_with_parent)  # noqa: ASYNC220
        if self.ready_url is None:
            await asyncio.sleep(self.settle_s)
            return
        import httpx

        async with httpx.AsyncClient(timeout=1.0) as client:
            for _ in range(100):  # up to about 10 s; the demo goes on without it (the pusher retries)
                if self.proc.poll() is not None:
                    log.warning("demo child exited: %s", " ".join(self.argv))
                    return
                try:
                    if (await client.get(self.ready_url)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)

    async def stop(self) -> None:
        from .bridge.supervisor import terminate

        await terminate(self.proc)


def simulator_process(site_file: Path, credentials: Path) -> ChildProcess:
    """hw_sim for every device of the site, each device signing in with its own account and key from
    ``credentials`` (the broker it starts enforces the generated passwords and ACL); the ptys and the broker get a
    moment so the adapters find them."""
    return ChildProcess([sys.executable, "-m", "hw_sim", "--site", str(site_file), "--run-dir", "var/sim",
                         "--credentials", str(credentials)], settle_s=1.5)


def demo_credentials(settings: Settings, site: SiteConfig) -> tuple[SiteConfig, Path]:
    """The demo runs its broker as a site does: one account and signing key per device (`devices credentials`,
    issued once into ``<data dir>/mqtt``, 0600, kept across restarts), the generated ACL, no anonymous clients; the
    controller signs in as ``controller`` and checks every recorder confirmation with the recorder's key. The open
    bench mode stays for benchmarks only (``hw_sim --open-bench``)."""
    from . import ops

    out = settings.data_dir / "mqtt"
    ops.issue_credentials(site, out)
    mqtt = site.mqtt.model_copy(update={"username": "controller", "password_file": out / "controller.password",
                                        "device_keys_dir": out / "keys"})
    return site.model_copy(update={"mqtt": mqtt}), out


def demo_platform(settings: Settings, site: SiteConfig, port: int = DEMO_PLATFORM_PORT
                  ) -> tuple[SiteConfig, ChildProcess | None]:
    """The demo's central platform: ``hw_sim.central`` on ``port`` with its own database, and the site's sync
    pointed at it with a 0600 key in the data dir, so the change feed visibly drains. A site that names its own
    platform keeps it (and no receiver is started)."""
    if site.sync.platform_url is not None:
        return site, None
    from devices.central_platform.protocol import new_key_file

    key = settings.data_dir / "sync.key"
    if not key.exists():
        new_key_file(key)
    child = ChildProcess([sys.executable, "-m", "hw_sim.central", "--port", str(port),
                          "--db", str(settings.data_dir / "central.db"), "--key-file", str(key),
                          "--key-id", site.sync.site_key_id],
                         ready_url=f"http://127.0.0.1:{port}/healthz")
    sync = site.sync.model_copy(update={"platform_url": f"http://127.0.0.1:{port}/api/v1/sync/batches",
                                        "key_file": key})
    return site.model_copy(update={"sync": sync}), child


def uvicorn_config(app: Any, settings: Settings, site: Any = None) -> Any:
    """The server's settings; with ``tls.mode = "uvicorn"`` it serves HTTPS with the site's certificate."""
    import uvicorn

    tls: dict[str, Any] = {}
    if site is not None and site.tls.mode == "uvicorn":
        tls = {"ssl_certfile": str(site.tls.cert_file), "ssl_keyfile": str(site.tls.key_file)}
    return uvicorn.Config(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                          access_log=False, lifespan="on", log_config=None,  # uvicorn logs via our JSON handler
                          proxy_headers=False,  # X-Forwarded-For: only from HCC_TRUSTED_PROXIES (api/limits.py)
                          **tls)


def serve(settings: Settings, *, simulator: bool = False, platform: bool = False) -> None:
    from .app import create_app
    from .container import build

    site = load_site(settings.site_file)
    receiver = None
    if platform:
        site, receiver = demo_platform(settings, site)
    credentials = None
    if simulator:
        site, credentials = demo_credentials(settings, site)
    container = build(settings, site, with_devices=True)
    if credentials is not None:  # before the devicebus, so the simulated devices exist when the adapters connect
        container.lifecycle.insert(0, simulator_process(settings.site_file, credentials))
    if receiver is not None:  # before the pusher's first batch
        container.lifecycle.insert(0, receiver)
    app = create_app(container)
    config = uvicorn_config(app, settings, container.site)
    from .systemd import notifying_server

    server = notifying_server(config, f"serving on {settings.host}:{settings.port}")
    # The database runs on worker threads; a long read holding the GIL for Python's default 5 ms turns keeps the
    # event loop (every other request, the live socket) waiting. 1 ms turns let the loop in sooner.
    sys.setswitchinterval(0.001)
    # What start-up built (the app, the site, the container, imported modules) lives as long as the process: out
    # of the collector's sight, so a full collection under load walks only what requests and devices allocate.
    gc.collect()
    gc.freeze()
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
          "scripted day: python -m hw_sim.demo_day")
    if not args.no_sim:
        print(f"  模拟管控平台 Central platform: http://127.0.0.1:{DEMO_PLATFORM_PORT}/control/state   "
              "(看板“平台同步” / dashboard panel \"Platform sync\")")
    print(flush=True)
    serve(settings, simulator=not args.no_sim, platform=not args.no_sim)
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
    if site.tls.mode == "uvicorn":
        missing = [str(p) for p in (site.tls.cert_file, site.tls.key_file) if p is not None and not p.is_file()]
        if missing:
            print(f"tls: certificate or key file missing: {', '.join(missing)}", file=sys.stderr)
            return 2
    print(f"ok: {site.site.id}: {len(site.rooms)} rooms, {len(site.locker_ids())} lockers, {len(site.devices)} devices")
    return 0


def cmd_user(args: argparse.Namespace) -> int:
    import getpass

    from .auth import create_staff, set_active
    from .clock import SystemClock
    from .domain.actor import Actor
    from .store.db import Database

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
    demo.add_argument("--no-sim", action="store_true", help="do not start hw_sim nor the central platform")
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
