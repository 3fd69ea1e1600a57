"""Backup of a running controller (SQLite online backup, verified), restore into a fresh data directory, and a
controller started on the restore: its audit chain verifies and its ledger is the original's, images included."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from controller import ops
from tests.conftest import PASSWORD, registration
from tests.reliability.harness import ROOT, ControllerProcess

pytestmark = pytest.mark.slow

STAFF = [("1001", "off-1", "male", "case_officer"), ("1002", "off-2", "male", "case_officer"),
         ("2002", "cus-m", "male", "custody_staff")]


def quiet_site(dest: Path) -> Path:
    """A small centre without devices (no ptys or broker to look for): this test is about the data."""
    rooms = [("reg", "登记室", "registration", 4), ("search", "安检室", "search", 2),
             ("collect", "信息采集室", "collection", 2), ("wait-1", "候问室1", "waiting", 1)]
    text = '[site]\nid = "backup-centre"\nname = "备份测试中心"\n\n' + "".join(
        f'[[rooms]]\nid = "{i}"\nname = "{n}"\nkind = "{k}"\ncapacity = {c}\n\n' for i, n, k, c in rooms)
    path = dest / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def process(tmp_path: Path, name: str) -> ControllerProcess:
    site = tmp_path / "site.toml"
    if not site.exists():
        quiet_site(tmp_path)
    return ControllerProcess(tmp_path / name, site=site, env={"HCC_NEW_PASSWORD": PASSWORD})
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


async def ledger(url: str) -> tuple[list[dict], dict, dict[str, str]]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as c:
        r = await c.post("/api/v1/auth/login", json={"police_no": "9001", "password": PASSWORD})
        h = {"Authorization": f"Bearer {r.json()['token']}"}
        stays = (await c.get("/api/v1/stays?limit=1000", headers=h)).json()
        verify = (await c.get("/api/v1/audit/verify", headers=h)).json()
    return stays, verify, {}


def run_cli(proc: ControllerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "controller", *args], env=proc.env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


async def test_backup_then_restore_gives_a_controller_with_the_same_verified_ledger(tmp_path: Path) -> None:
    original = process(tmp_path, "data")
    original.cli("init", "--admin-police-no", "9001")
    restored = process(tmp_path, "restored")
    try:
        original.start()
        async with httpx.AsyncClient(base_url=original.url, timeout=10) as c:
            r = await c.post("/api/v1/auth/login", json={"police_no": "9001", "password": PASSWORD})
            admin = {"Authorization": f"Bearer {r.json()['token']}"}
            for no, sid, sex, role in STAFF:
                r = await c.post("/api/v1/staff", headers=admin, json={
                    "police_no": no, "name": sid, "sex": sex, "roles": [role], "password": PASSWORD})
                assert r.status_code == 201, r.text
            staff = {p["police_no"]: p["id"] for p in (await c.get("/api/v1/staff", headers=admin)).json()}
            r = await c.post("/api/v1/auth/login", json={"police_no": "2002", "password": PASSWORD})
            h = {"Authorization": f"Bearer {r.json()['token']}"}
            for i in range(6):
                body = registration(case_no=f"B-{i}", officers=(staff["1001"], staff["1002"]))
                r = await c.post("/api/v1/stays", json=body, headers=h)
                assert r.status_code == 201, r.text
                if i % 2 == 0:
                    r = await c.post(f"/api/v1/stays/{r.json()['id']}/search", headers=h, json={
                        "checker_id": staff["2002"], "witness_id": staff["1001"], "gate_result": "pass"})
                    assert r.status_code == 200, r.text
            stay_id = r.json()["id"]
            r = await c.post("/api/v1/ui/signatures", headers=h, json={
                "stay_id": stay_id, "png": "data:image/png;base64," + base64.b64encode(PNG).decode()})
            assert r.status_code == 201, r.text
            signature = r.json()
        before, verify_before, _ = await ledger(original.url)
        assert verify_before["ok"] and len(before) == 6

        dest = tmp_path / "backup"
        out = run_cli(original, "backup", str(dest))  # online: the controller is still running
        assert out.returncode == 0, out.stderr
        manifest = json.loads(out.stdout)
        assert manifest["integrity"] == "ok" and manifest["audit_entries"] == verify_before["entries"]
        assert manifest["stays"] == 6 and manifest["files"] == {"signatures": 1}
        assert (dest / "controller.db").stat().st_mode & 0o077 == 0
        out = run_cli(restored, "restore", str(dest))
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["audit_entries"] == verify_before["entries"]
        sig_file = restored.data_dir / "signatures" / f"{signature['signature_id']}.png"
        assert hashlib.sha256(sig_file.read_bytes()).hexdigest() == signature["sha256"]

        original.stop()
        restored.start()
        after, verify_after, _ = await ledger(restored.url)
        assert verify_after["ok"] is True and verify_after["entries"] >= verify_before["entries"]
        assert after == before
    finally:
        original.stop()
        restored.stop()


def test_backup_and_restore_refuse_to_overwrite_and_to_restore_a_tampered_copy(tmp_path: Path,
                                                                               template_db: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(template_db, data / "controller.db")
    url = f"sqlite:///{data / 'controller.db'}"
    dest = tmp_path / "backup"
    manifest = ops.backup(url, data, dest)
    assert manifest["integrity"] == "ok" and manifest["audit_entries"] > 0
    with pytest.raises(FileExistsError):
        ops.backup(url, data, dest)
    with pytest.raises(FileExistsError):  # the live data dir is never overwritten
        ops.restore(dest, data, url)
    con = sqlite3.connect(dest / "controller.db")
    con.execute("UPDATE audit_entry SET actor_id = 'someone-else' WHERE seq = 1")
    con.commit()
    con.close()
    fresh = tmp_path / "fresh"
    with pytest.raises(ValueError, match="sha256"):
        ops.restore(dest, fresh, f"sqlite:///{fresh / 'controller.db'}")
    # a copy whose manifest was rewritten to match is still caught by the audit chain
    m = json.loads((dest / "manifest.json").read_text())
    m["sha256"] = hashlib.sha256((dest / "controller.db").read_bytes()).hexdigest()
    (dest / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ValueError, match="audit chain"):
        ops.restore(dest, fresh, f"sqlite:///{fresh / 'controller.db'}")
    assert not (fresh / "controller.db").exists()
