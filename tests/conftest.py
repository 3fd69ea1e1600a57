"""Shared fixtures: a freshly migrated database file, a container on a fake clock, an API client, staff."""

from __future__ import annotations

import itertools
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
from controller.settings import Settings, load_site
from controller.store.db import Actor
from controller.store.migrate import upgrade

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


@pytest.fixture
def container(settings: Settings) -> Any:
    upgrade(settings.db_url())
    clock = FakeClock(datetime(2026, 11, 22, 1, 0, tzinfo=UTC))
    c = build(settings, load_site(DEMO_SITE), clock)
    seed_staff(c)
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
        token = await self.login(as_)
        r = await self.client.request(method, path, json=json, headers={"Authorization": f"Bearer {token}"}, **kw)
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
