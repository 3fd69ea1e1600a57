"""End-to-end fixtures: the real controller as a subprocess (demo site, test clock) and a real headless Chromium.

One controller serves the whole e2e session (start-up and staff seeding cost seconds); each test uses its own
subjects and rooms. The site is the demo site with a longer server-side session idle limit, so moving the test
clock through a welfare interval does not also sign the dashboard out; the kiosk's own idle lock is unchanged.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from controller import ops
from controller.settings import parse_site
from tests.procs import ROOT, Child, free_port
from tests.reliability.harness import ControllerProcess

CHROMIUM = os.environ.get("HCC_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts" / "screenshots"
PASSWORD = "e2e-Passw0rd"
# --lang=zh-CN as on the centre's kiosks; the dashboard's alarm chime may play without a tap, as on the wall display
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--lang=zh-CN", "--autoplay-policy=no-user-gesture-required"]

# police_no, name, sex, roles, staff id
STAFF = [
    ("100001", "王建国", "male", "case_officer", "off-1"),
    ("100002", "李明", "male", "case_officer", "off-2"),
    ("100003", "赵丽", "female", "case_officer", "off-3"),
    ("200001", "陈静", "female", "custody_staff", "cus-f"),
    ("200002", "刘强", "male", "custody_staff", "cus-m"),
    ("300001", "张伟", "male", "supervisor", "sup-1"),
    ("900001", "管理员", "male", "admin", "adm-1"),
]

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright

    expect.set_options(timeout=10_000)  # a loaded CI machine: what a person would see, within 10 s
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None  # type: ignore[assignment]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = None
    if sync_playwright is None:
        reason = "the playwright package is not installed (pip install -e '.[dev]')"
    elif not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-wqy-microhei, or set HCC_CHROMIUM)"
    if reason:
        for item in items:
            if {"browser", "screens"} & set(getattr(item, "fixturenames", ())):
                item.add_marker(pytest.mark.skip(reason=reason))


def _site_file(dest: Path) -> Path:
    """The demo site, its devices pointed at nothing (no pty, no broker): every device is "not connected", and a
    demo running on this machine (var/sim, port 18830) is never touched."""
    text = (ROOT / "site" / "demo-site.toml").read_text(encoding="utf-8")
    assert "[timing]\n" in text
    # no device ever comes online in this run; their offline alarms are the device tests' business
    text = text.replace("[timing]\n", "[timing]\nsession_idle_minutes = 240\ndevice_offline_grace_s = 600\n", 1)
    text = text.replace('url = "var/sim/', f'url = "{dest}/no-sim/')
    text = text.replace("127.0.0.1:18830", f"127.0.0.1:{free_port()}").replace("127.0.0.1:18081", f"127.0.0.1:{free_port()}")
    # no broker here either, so no bridge to run: the devices in-process, each failing at once as "not connected"
    # (the device tests' `centre` below runs the demo site's bridge process, with hw_sim and its broker)
    assert 'mode = "process"' in text
    text = text.replace('mode = "process"', 'mode = "inprocess"', 1)
    path = dest / "e2e-site.toml"
    path.write_text(text, encoding="utf-8")
    return path


class E2EControllerProcess(ControllerProcess):
    def seed_staff(self) -> None:
        """`python -m controller user add ...` for each person, run through the CLI's main() in one interpreter."""
        calls = [["user", "add", "--police-no", no, "--name", name, "--sex", sex, "--roles", roles,
                  "--staff-id", sid] for no, name, sex, roles, sid in STAFF]
        code = ("import json, sys\nfrom controller.__main__ import main\n"
                "for argv in json.loads(sys.argv[1]):\n    assert main(argv) == 0, argv\n")
        subprocess.run([sys.executable, "-c", code, json.dumps(calls)], env={**self.env, "HCC_NEW_PASSWORD": PASSWORD},
                       cwd=ROOT, check=True, capture_output=True)


class Controller:
    """The running controller plus an admin client for set-up calls (test clock, seeding through the API)."""

    def __init__(self, proc: ControllerProcess) -> None:
        self.proc = proc
        self.url = proc.url
        self._tokens: dict[str, str] = {}

    def token(self, police_no: str) -> str:
        r = httpx.post(f"{self.url}/api/v1/auth/login", json={"police_no": police_no, "password": PASSWORD})
        r.raise_for_status()
        return str(r.json()["token"])

    def call(self, method: str, path: str, police_no: str = "900001", json: Any = None) -> Any:
        token = self._tokens.get(police_no) or self.token(police_no)
        self._tokens[police_no] = token
        r = httpx.request(method, f"{self.url}/api/v1{path}", json=json, headers={"Authorization": f"Bearer {token}"})
        if r.status_code == 401:  # the test clock moved past the idle limit: sign in again
            self._tokens[police_no] = token = self.token(police_no)
            r = httpx.request(method, f"{self.url}/api/v1{path}", json=json,
                              headers={"Authorization": f"Bearer {token}"})
        assert r.status_code < 400, r.text
        return r.json()

    def advance(self, seconds: float) -> None:
        self.call("POST", "/dev/clock/advance", json={"seconds": seconds})

    def empty_room(self) -> str:
        """A waiting room nobody holds a place in, without restrictions: the e2e tests share one controller, so a
        fixed room may be taken by an earlier test's subject (and a minor may share no room with an adult)."""
        rooms = [r for r in self.call("GET", "/rooms", "300001") if r["kind"] == "waiting" and not r["restrictions"]]
        free = next((r["id"] for r in rooms if not r["occupant_stay_ids"]), None)
        if free is not None:
            return free
        # every one is taken by subjects earlier tests left there (finished tests: nothing refers to them any
        # more): the least occupied is emptied
        room = min(rooms, key=lambda r: len(r["occupant_stay_ids"]))
        for sid in room["occupant_stay_ids"]:
            self.release(sid)
        return str(room["id"])

    def release(self, sid: str) -> None:
        """The subject leaves (released, things returned), so the room he took is free for the tests after."""
        s = self.call("GET", f"/stays/{sid}", "200002")
        if s["state"] == "exited":
            return
        if s["state"] != "exiting":
            self.call("POST", f"/stays/{sid}/exit", "200002", {"disposition": "released"})
        items = [{"item_id": i["id"], "disposition": "returned"} for i in (s.get("property") or {}).get("items", [])]
        checker = "cus-f" if s["subject"]["sex"] == "female" else "cus-m"
        self.call("POST", f"/stays/{sid}/exit/complete", "200002", {"exit_search": {"checker_id": checker},
                                                                    "items": items})

    def walk(self, name: str, sex: str = "male", room: str | None = "wait-3", case_no: str = "B-2026-001",
             officers: tuple[str, ...] = ("off-1", "off-2")) -> dict[str, Any]:
        """Set-up through the API (as custody staff 陈静): a subject registered and taken to ``room`` (or only
        to property stored when ``room`` is None)."""
        cus = "200001"
        birth = "19850612"
        stay = self.call("POST", "/stays", cus, {
            "subject": {"name": name, "id_type": "resident_id", "sex": sex, "birth_date": "1985-06-12",
                        "id_number": resident_id(birth, next(_seq), sex), "nationality": "CHN"},
            "role": "suspect", "case": {"case_no": case_no, "case_kind": "criminal"},
            "legal_basis": "criminal_summons", "case_officer_ids": list(officers),
            "identity_source": "manual", "manual_entry_reason": "未携带身份证"})
        sid = stay["id"]
        checker = "cus-f" if sex == "female" else "cus-m"
        self.call("POST", f"/stays/{sid}/search", cus, {"checker_id": checker, "witness_id": "off-1",
                                                        "gate_result": "not_used"})
        self.call("POST", f"/stays/{sid}/collection", cus, {"fingerprints_taken": True, "dna_taken": False})
        locker = next(lk["id"] for lk in self.call("GET", "/lockers", cus) if lk["state"] == "free")
        stay = self.call("POST", f"/stays/{sid}/property", cus, {
            "custodian_id": "cus-f", "locker_id": locker,
            "items": [{"description": "钥匙", "quantity": 1, "category": "personal"}]})
        if room is not None:
            stay = self.call("POST", f"/stays/{sid}/placement", cus, {"room_id": room})
        return dict(stay)


_seq = itertools.count(501)


def resident_id(birth: str, seq: int, sex: str) -> str:
    """A valid GB 11643 number whose sequence digit's parity matches the sex."""
    from controller.domain.rules import gb11643_check_char

    s3 = (seq * 2 + (1 if sex == "male" else 0)) % 1000
    first = f"110105{birth}{s3:03d}"
    return first + gb11643_check_char(first)


@pytest.fixture(scope="session")
def controller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Controller]:
    d = tmp_path_factory.mktemp("e2e")
    proc = E2EControllerProcess(d / "data", site=_site_file(d), env={"HCC_FAKE_CLOCK": "1"})
    (d / "data").mkdir()
    proc.seed_staff()
    atexit.register(proc.stop)  # belt and braces: never leave a controller behind
    proc.start()
    try:
        yield Controller(proc)
    finally:
        proc.stop()


def _sim_site_file(dest: Path, run_dir: Path) -> Path:
    """The demo site with its simulated devices on this run's ptys, broker port and camera port."""
    text = (ROOT / "site" / "demo-site.toml").read_text(encoding="utf-8")
    text = text.replace("[timing]\n", "[timing]\nsession_idle_minutes = 240\n", 1)
    text = text.replace('url = "var/sim/', f'url = "{run_dir}/')
    text = text.replace("127.0.0.1:18830", f"127.0.0.1:{free_port()}").replace("127.0.0.1:18081", f"127.0.0.1:{free_port()}")
    # The broker as production runs it: the credentials `devices credentials` issues, used by the controller (here)
    # and by every simulated device (hw_sim --credentials)
    creds = dest / "mqtt"
    ops.issue_credentials(parse_site(tomllib.loads(text)), creds)
    text = text.replace("[mqtt]\n", f'[mqtt]\nusername = "controller"\npassword_file = "{creds}/controller.password"\n'
                                    f'device_keys_dir = "{creds}/keys"\n', 1)
    path = dest / "e2e-sim-site.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Simulator:
    """``python -m hw_sim`` as a subprocess: every device of the site, driven through its control interface."""

    def __init__(self, site: Path, run_dir: Path) -> None:
        self.site, self.run_dir = site, run_dir
        self.control_port = free_port()
        self.log = run_dir.parent / "hw_sim.log"
        self.child = Child([sys.executable, "-m", "hw_sim", "--site", str(site), "--run-dir", str(run_dir),
                            "--broker", "mosquitto", "--credentials", str(site.parent / "mqtt"),
                            "--control-port", str(self.control_port), "--log-level", "WARNING"], log=self.log, what="hw_sim", ready_line="hw_sim ready", truncate_log=True)

    def spawn(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.child.spawn()

    def wait_ready(self, timeout: float = 40.0) -> None:
        self.child.wait_ready(timeout)  # hw_sim prints one "hw_sim ready" line when everything is up

    def act(self, device_id: str, action: str, **params: Any) -> Any:
        r = httpx.post(f"http://127.0.0.1:{self.control_port}/devices/{device_id}/actions/{action}",
                       json={"params": params}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def stop(self) -> None:
        self.child.stop()


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Controller, Simulator]]:
    """A second controller with every device simulated by hw_sim (ptys, MQTT, camera), for the device tests."""
    d = tmp_path_factory.mktemp("e2e-devices")
    site = _sim_site_file(d, d / "sim")
    sim = Simulator(site, d / "sim")
    proc = E2EControllerProcess(d / "data", site=site, env={"HCC_FAKE_CLOCK": "1"})
    (d / "data").mkdir()
    atexit.register(sim.stop)
    atexit.register(proc.stop)
    try:
        sim.spawn()
        proc.seed_staff()  # while the simulator starts
        for attempt in range(3):
            try:
                sim.wait_ready()
                break
            except RuntimeError as exc:
                # a port free_port() handed out was taken meanwhile (e.g. as the source port of some connection):
                # the same site with fresh ports and a fresh simulator; any other failure is the test's to report
                if "address already in use" not in str(exc) or attempt == 2:
                    raise
                sim.stop()
                site = _sim_site_file(d, d / "sim")
                sim = Simulator(site, d / "sim")
                atexit.register(sim.stop)
                sim.spawn()
        proc.start()
        ctl = Controller(proc)
        wanted = {"lock-bus-1", "idr-reg", "gate-1", "cam-collect", "rec-int-1"}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # bounded poll for real devices to connect, not a wait for time
            # degraded = answering after a retry (e.g. a line device's first status query lost while the
            # simulator's pty was still opening): connected, which is all these tests need
            online = {x["id"] for x in ctl.call("GET", "/devices") if x["availability"] in ("online", "degraded")}
            if wanted <= online:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"devices not online: {wanted - online}")
        yield ctl, sim
    finally:
        proc.stop()
        sim.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        # the browser's own widgets (date fields) follow the process locale, as on a kiosk set up in Chinese
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS,
                              env={**os.environ, "LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN:zh"})
        try:
            yield b
        finally:
            b.close()


class Screen:
    """One browser page on one screen, with its console watched for page errors and missing i18n strings."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.problems: list[str] = []
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("console", lambda m: self.problems.append(m.text)
                if "i18n: missing" in m.text or "Content Security Policy" in m.text else None)

    def open(self, path: str) -> Page:
        self.page.goto(f"{self.base}/ui/{path}")
        return self.page

    def sign_in(self, police_no: str) -> None:
        from playwright.sync_api import expect

        p = self.page
        expect(p.locator("#lock")).to_be_visible()
        p.fill("#police-no", police_no)
        p.fill("#password", PASSWORD)
        p.click("#signin-btn")
        expect(p.locator("#lock")).to_be_hidden()

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path


@pytest.fixture
def screens(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Any]:
    """screens(width=1280, height=800, base=None) -> a new Screen in its own browser context (own session
    storage), on ``base`` or else the device-less controller."""
    made: list[tuple[Any, Screen]] = []

    def make(width: int = 1280, height: int = 800, base: str | None = None) -> Screen:
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
        s = Screen(ctx.new_page(), base or request.getfixturevalue("controller").url)
        made.append((ctx, s))
        return s

    yield make
    problems = [p for _ctx, s in made for p in s.problems]
    for ctx, _s in made:
        ctx.close()
    assert not problems, problems


def sign_on(page: Any, selector: str) -> None:
    """Draws a signature stroke on a signature canvas with the mouse, as a finger would."""
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    page.mouse.move(box["x"] + 40, box["y"] + 60)
    page.mouse.down()
    for k in range(1, 12):
        page.mouse.move(box["x"] + 40 + k * 30, box["y"] + 60 + (k % 3) * 25)
    page.mouse.up()
