"""The site-operation commands of the CLI (README "Operations"): init, kiosk enrolment, staff cards, device
credentials, sync key rotation, backup and restore. The work itself is in ``ops.py`` and ``auth.py``."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from .settings import Settings, load_site


def _db(settings: Settings) -> Any:
    from .clock import SystemClock
    from .store.db import Database

    return Database(settings.db_url(), SystemClock())


def _migrate(settings: Settings) -> None:
    from .store.migrate import migrate

    migrate(settings.db_url(), settings.data_dir)


def cmd_init(args: argparse.Namespace) -> int:
    """Data dir (0700), keys (0600), migrations, and the first admin (password shown once, or HCC_NEW_PASSWORD)."""
    from sqlmodel import select

    from . import ops
    from .auth import create_staff
    from .domain.actor import Actor
    from .store.tables import Staff

    settings = Settings()
    made = ops.init_keys(settings.data_dir)
    _migrate(settings)
    if settings.db_url().startswith("sqlite:///"):
        ops.sqlite_path(settings.db_url()).chmod(0o600)
    db = _db(settings)
    try:
        admins = db.read_sync(lambda s: [p.id for p in s.exec(select(Staff)).all() if "admin" in (p.roles or [])])
        if admins:
            print(f"an admin exists already ({', '.join(admins)}); no admin added")
        else:
            given = os.environ.get("HCC_NEW_PASSWORD")
            password = given or secrets.token_urlsafe(12)
            db.write_sync(Actor.system("cli"), lambda uow: create_staff(
                uow, police_no=args.admin_police_no, name=args.admin_name, sex=args.admin_sex, roles=["admin"],
                password=password, staff_id=f"staff-{args.admin_police_no}"))
            shown = "(from HCC_NEW_PASSWORD)" if given else password
            print(f"first admin: police no {args.admin_police_no}, password {shown}")
    finally:
        db.close()
    for p in made:
        print(f"created {p} (0600)")
    print(f"initialised {settings.data_dir}")
    return 0


def cmd_kiosk(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from . import ops
    from .auth import enrol_kiosk, revoke_kiosk
    from .domain.actor import Actor
    from .store.tables import Kiosk

    settings = Settings()
    _migrate(settings)
    db = _db(settings)
    try:
        if args.kiosk_cmd == "enrol":
            token = db.write_sync(Actor.system("cli"), lambda uow: enrol_kiosk(uow, args.kiosk_id, args.name,
                                                                                  args.room))
            if args.token_file:
                ops.write_secret(args.token_file, token + "\n")
                print(f"enrolled {args.kiosk_id}; token written to {args.token_file} (0600)")
            else:
                print(f"enrolled {args.kiosk_id}; kiosk token (shown once): {token}")
        elif args.kiosk_cmd == "revoke":
            db.write_sync(Actor.system("cli"), lambda uow: revoke_kiosk(uow, args.kiosk_id))
            print(f"revoked {args.kiosk_id}")
        else:
            for k in db.read_sync(lambda s: list(s.exec(select(Kiosk)).all())):
                print(f"{k.id}\t{k.name}\t{'revoked' if k.revoked else 'enrolled'}\t{k.enrolled_at.isoformat()}"
                      f"\t{k.room_id or '-'}")
    finally:
        db.close()
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    from .auth import set_card
    from .domain.actor import Actor

    settings = Settings()
    _migrate(settings)
    pin = os.environ.get("HCC_NEW_PIN") or getpass.getpass("PIN: ")
    db = _db(settings)
    try:
        db.write_sync(Actor.system("cli"), lambda uow: set_card(uow, args.staff_id, args.card_id, pin))
    finally:
        db.close()
    print(f"card bound to {args.staff_id}")
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from . import ops

    settings = Settings()
    site = load_site(args.site or settings.site_file)
    out = args.out or settings.data_dir / "mqtt"
    tls_files = (args.tls_ca, args.tls_cert, args.tls_key)
    if any(tls_files) and not all(tls_files):
        print("TLS needs --tls-ca, --tls-cert and --tls-key together", file=sys.stderr)
        return 2
    tls = {"ca": args.tls_ca, "cert": args.tls_cert, "key": args.tls_key} if all(tls_files) else None
    result = ops.issue_credentials(site, out, rotate=args.rotate, broker_dir=args.broker_dir, tls=tls)
    print(f"{result['clients']} MQTT clients -> {out}/credentials.json, mosquitto.passwd, mosquitto.acl, "
          f"controller.password, hcc.conf (all 0600)")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from . import ops

    settings = Settings()
    key_file = args.key_file or load_site(settings.site_file).sync.key_file or settings.data_dir / "sync.key"
    prev = ops.rotate_key(key_file)
    print(f"new sync key written to {key_file} (0600)" + (f"; previous kept as {prev}" if prev else ""))
    print("give the new key to the central platform, set sync.site_key_id to a new id, then restart the controller")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from . import ops

    settings = Settings()
    try:
        manifest = ops.backup(settings.db_url(), settings.data_dir, args.dest)
    except (FileExistsError, ValueError) as exc:
        print(f"backup refused: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"backup": str(args.dest), **manifest}, ensure_ascii=False))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from . import ops

    settings = Settings()
    try:
        report = ops.restore(args.src, settings.data_dir, settings.db_url())
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 2
    _migrate(settings)  # a backup from an older release is brought up to this one's schema
    print(json.dumps({"restored": str(settings.data_dir), **report}, ensure_ascii=False))
    return 0


def register(sub: Any, user_sub: Any) -> None:
    """Adds the commands to the CLI's subparsers (``user_sub``: the ``user`` command's)."""
    card = user_sub.add_parser("card", help="bind a staff card and PIN (PIN from HCC_NEW_PIN or a prompt)")
    card.add_argument("staff_id")
    card.add_argument("--card-id", required=True)
    card.set_defaults(fn=cmd_card)
    init = sub.add_parser("init", help="data dir, keys (0600), migrations, first admin")
    init.add_argument("--admin-police-no", default="admin")
    init.add_argument("--admin-name", default="系统管理员")
    init.add_argument("--admin-sex", choices=["male", "female"], default="male")
    init.set_defaults(fn=cmd_init)
    kiosk = sub.add_parser("kiosk", help="enrolled kiosks and terminals")
    ksub = kiosk.add_subparsers(dest="kiosk_cmd", required=True)
    enrol = ksub.add_parser("enrol", help="enrol (or re-enrol) a kiosk; prints or writes its token once")
    enrol.add_argument("kiosk_id")
    enrol.add_argument("--name", default="")
    enrol.add_argument("--token-file", type=Path, default=None)
    enrol.add_argument("--room", default=None, help="the room id the kiosk is mounted in (welfare checks there)")
    ksub.add_parser("revoke").add_argument("kiosk_id")
    ksub.add_parser("list")
    kiosk.set_defaults(fn=cmd_kiosk)
    devices = sub.add_parser("devices", help="device credentials")
    dsub = devices.add_subparsers(dest="devices_cmd", required=True)
    cred = dsub.add_parser("credentials", help="per-device MQTT passwords, mosquitto password file and ACL")
    cred.add_argument("--site", type=Path, default=None, help="site file (default HCC_SITE_FILE)")
    cred.add_argument("--out", type=Path, default=None, help="output folder (default <data_dir>/mqtt)")
    cred.add_argument("--rotate", action="store_true", help="new passwords for every client")
    cred.add_argument("--broker-dir", type=Path, default=None,
                      help="where the broker will read passwd/acl (for hcc.conf; default the output folder)")
    cred.add_argument("--tls-ca", type=Path, default=None)
    cred.add_argument("--tls-cert", type=Path, default=None)
    cred.add_argument("--tls-key", type=Path, default=None)
    devices.set_defaults(fn=cmd_devices)
    sync = sub.add_parser("sync", help="central platform sync")
    ssub = sync.add_subparsers(dest="sync_cmd", required=True)
    rot = ssub.add_parser("rotate-key", help="a new sync key (0600); the old one kept as .prev")
    rot.add_argument("--key-file", type=Path, default=None)
    sync.set_defaults(fn=cmd_sync)
    bk = sub.add_parser("backup", help="online backup of the database and images, verified")
    bk.add_argument("dest", type=Path)
    bk.set_defaults(fn=cmd_backup)
    rs = sub.add_parser("restore", help="restore a backup into a fresh data dir, verified")
    rs.add_argument("src", type=Path)
    rs.set_defaults(fn=cmd_restore)
