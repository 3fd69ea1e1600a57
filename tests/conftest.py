"""Shared fixtures: a freshly migrated database file, a container on a fake clock, an API client, staff."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from controller.app import create_app
from controller.auth import create_staff
from controller.clock import FakeClock
from controller.container import Container, build
from controller.domain.actor import Actor
from controller.settings import Settings, load_site
from controller.store.migrate import upgrade

pytest_plugins = ["tests.logscan"]  # every log record of the suite is scanned for identity numbers


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main thread for the
    session-scoped browser, and no asyncio test may start after it."""
    def order(item: pytest.Item) -> int:
        path = str(item.path)
        return 2 if path.endswith("test_no_id_numbers_in_logs.py") else 1 if "/tests/e2e/" in path else 0

    items.sort(key=order)  # stable: the log scan last of all, after the browser tests

ROOT = Path(__file__).resolve().parent.parent
DEMO_SITE = ROOT / "site" / "demo-site.toml"
PASSWORD = "correct-horse-9"

# id, police_no, name, sex, roles
STAFF = [
    ("off-1", "1001", "王建国", "male", ["case_officer"]),
    ("off-2", "1002", "李明", "male", ["case_officer"]),
    ("off-3", "1003", "赵丽", "female", ["case_officer"]),
    ("cus-f", "2001", "陈静", "female", ["custody_staff"]),
    ("cus-m", "2002", "刘强", "male", ["custody_staff"]),
    ("sup-1", "3001", "张伟", "male", ["supervisor"]),
    ("adm-1", "9001", "管理员", "male", ["admin"]),
    ("plat-1", "9101", "平台", "male", ["platform"]),
]


def seed_staff(container: Container) -> None:
    for sid, no, name, sex, roles in STAFF:
        container.db.write_sync(Actor.system("test"), lambda uow, sid=sid, no=no, name=name, sex=sex, roles=roles:
                                create_staff(uow, police_no=no, name=name, sex=sex, roles=roles, password=PASSWORD,
                                             staff_id=sid))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(site_file=DEMO_SITE, data_dir=tmp_path / "data", fake_clock=True)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated and seeded with staff for the whole run; each test gets a copy of the file."""
    d = tmp_path_factory.mktemp("template")
    settings = Settings(site_file=DEMO_SITE, data_dir=d, fake_clock=True)
    upgrade(settings.db_url())
    c = build(settings, load_site(DEMO_SITE), FakeClock(datetime(2026, 11, 22, 1, 0, tzinfo=UTC)))
    seed_staff(c)
    c.db.close()
    return d / "controller.db"


@pytest.fixture
def container(settings: Settings, template_db: Path) -> Any:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template_db, settings.data_dir / "controller.db")
    clock = FakeClock(datetime(2026, 11, 22, 1, 0, tzinfo=UTC))
    c = build(settings, load_site(DEMO_SITE), clock)
    yield c
    c.db.close()


class Api:
    """A thin client that signs in as a given staff member and returns (status, json)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    async def login(self, police_no: str) -> str:
        if police_no not in self.tokens:
            r = await self.client.post("/api/v1/auth/login", json={"police_no": police_no, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self.tokens[police_no] = r.json()["token"]
        return self.tokens[police_no]

    async def call(self, method: str, path: str, as_: str = "2001", json: Any = None,
                   **kw: Any) -> tuple[int, Any]:
        for _attempt in range(2):
            token = await self.login(as_)
            r = await self.client.request(method, path, json=json, headers={"Authorization": f"Bearer {token}"},
                                          **kw)
            if r.status_code == 401 and r.json().get("code") == "SESSION_EXPIRED":
                self.tokens.pop(as_)  # time moved past the idle limit: sign in again, as a person would
                continue
            break
        return r.status_code, (r.json() if r.content else None)

    async def post(self, path: str, json: Any = None, as_: str = "2001") -> tuple[int, Any]:
        return await self.call("POST", path, as_, json if json is not None else {})

    async def get(self, path: str, as_: str = "2001", **kw: Any) -> tuple[int, Any]:
        return await self.call("GET", path, as_, **kw)


@pytest.fixture
async def api(container: Container) -> AsyncIterator[Api]:
    app = create_app(container, start_background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Api(client)


_ids = itertools.count(1)


def resident_id(birth: str = "19900307", area: str = "110105", seq: int | None = None, sex: str = "male") -> str:
    """A valid GB 11643 number: sequence digit parity follows sex (odd male, even female)."""
    from controller.domain.rules import gb11643_check_char

    n = seq if seq is not None else next(_ids)
    s3 = (n * 2 + (1 if sex == "male" else 0)) % 1000
    first = f"{area}{birth}{s3:03d}"
    return first + gb11643_check_char(first)


def registration(sex: str = "male", birth: str = "1990-03-07", role: str = "suspect", case_no: str = "A-2026-001",
                 basis: str = "criminal_summons", officers: tuple[str, ...] = ("off-1", "off-2"),
                 **extra: Any) -> dict[str, Any]:
    body = {
        "subject": {"name": "测试人员", "id_type": "resident_id", "sex": sex, "birth_date": birth,
                    "id_number": resident_id(birth.replace("-", ""), sex=sex), "nationality": "CHN"},
        "role": role, "case": {"case_no": case_no, "case_kind": "criminal"}, "legal_basis": basis,
        "case_officer_ids": list(officers), "identity_source": "id_card",
    }
    body.update(extra)
    return body


class RoomRecorder:
    """Stands in for the interview rooms' recorders (hardware we do not own) in API tests; the real recorder
    adapter is tested against its simulator in tests/contract and end to end in tests/e2e."""

    def __init__(self) -> None:
        self.confirm = True
        self.recording: dict[str, str] = {}
        self.started = 0

    async def start(self, room_id: str, stay_id: str) -> str:
        from controller.services.ports import RecordingNotConfirmed

        if not self.confirm:
            raise RecordingNotConfirmed("录像机未响应 / recorder did not answer", room_id=room_id)
        self.started += 1
        rid = f"rec-{room_id}-{self.started}"
        self.recording[rid] = room_id
        return rid

    async def stop(self, room_id: str, recording_id: str) -> dict[str, Any]:
        self.recording.pop(recording_id, None)
        return {"recording_id": recording_id, "stopped": True}


@pytest.fixture
def recorder(container: Container) -> RoomRecorder:
    rec = RoomRecorder()
    container.recorder = rec
    return rec


ORDER = ["registered", "searched", "collected", "property_stored", "waiting"]
_lockers = itertools.count(0)


async def walk(api: Api, to: str = "waiting", body: dict[str, Any] | None = None, room: str = "wait-1",
               locker: str | None = None) -> dict[str, Any]:
    """Registers a subject and takes the stay through the intake steps up to state ``to``."""
    reg = body or registration()
    status, stay = await api.post("/api/v1/stays", reg, as_="2001")
    assert status == 201, stay
    female = reg["subject"]["sex"] == "female"
    steps = [
        ("search", {"checker_id": "cus-f" if female else "cus-m", "witness_id": "off-1", "gate_result": "pass"}),
        ("collection", {"fingerprints_taken": True, "dna_taken": False}),
        ("property", {"custodian_id": "cus-f", "locker_id": locker or f"a-{next(_lockers) % 16 + 1:02d}",
                      "items": [{"description": "手机", "quantity": 1, "category": "phone"},
                                {"description": "现金", "quantity": 1, "category": "cash"}]}),
        ("placement", {"room_id": room}),
    ]
    for (step, data), state in zip(steps, ORDER[1:], strict=True):
        if ORDER.index(stay["state"]) >= ORDER.index(to):
            break
        status, stay = await api.post(f"/api/v1/stays/{stay['id']}/{step}", data, as_="2001")
        assert status == 200, (step, stay)
        assert stay["state"] == state
    return stay


async def audit_count(api: Api) -> int:
    status, body = await api.get("/api/v1/audit/verify", as_="9001")
    assert status == 200 and body["ok"], body
    return body["entries"]


async def approved(api: Api, kind: str, stay_id: str, as_: str = "2001", reason: str = "测试审批",
                   **terms: Any) -> str:
    """Asks for an approval as ``as_`` and has the supervisor (3001, signed in) grant it; returns its id."""
    status, a = await api.post("/api/v1/approvals", {"kind": kind, "stay_id": stay_id, "reason": reason, **terms},
                               as_=as_)
    assert status == 201, a
    status, g = await api.post(f"/api/v1/approvals/{a['id']}/grant", {}, as_="3001")
    assert status == 200 and g["state"] == "granted", g
    return str(a["id"])
