"""Admins see identity numbers masked everywhere, the sync feed included: the platform's entitlement
(``sync.include_identity_numbers``) is the platform's, not the admin's who reads the same feed (issue 16)."""

from __future__ import annotations

import json
from typing import Any

from controller.settings import SyncConfig
from tests.conftest import Api, registration, walk

PLATFORM, ADMIN, SUPERVISOR = "9101", "9001", "3001"


def _entitle(container: Any) -> None:
    container.site = container.site.model_copy(update={"sync": SyncConfig(include_identity_numbers=True)})


async def test_the_admin_reads_the_entitled_feed_with_numbers_masked(api: Api, container: Any) -> None:
    body = registration()
    number = body["subject"]["id_number"]
    await walk(api, body=body, to="registered")
    _entitle(container)
    status, page = await api.get("/api/v1/sync/changes?limit=500", as_=PLATFORM)
    reg = next(c for c in page["changes"] if c["type"] == "stay_registered")
    assert status == 200 and reg["payload"]["subject"]["id_number"] == number  # the platform is entitled
    status, page = await api.get("/api/v1/sync/changes?limit=500", as_=ADMIN)
    assert status == 200 and number not in json.dumps(page, ensure_ascii=False)
    reg = next(c for c in page["changes"] if c["type"] == "stay_registered")
    assert reg["payload"]["subject"]["id_number"] == number[:6] + "*" * 12


async def test_the_admin_reads_the_entitled_occupancy_with_numbers_masked(api: Api, container: Any) -> None:
    body = registration()
    number = body["subject"]["id_number"]
    await walk(api, body=body)
    _entitle(container)
    status, occ = await api.get("/api/v1/sync/occupancy", as_=ADMIN)
    assert status == 200 and occ["count"] == 1 and number not in json.dumps(occ, ensure_ascii=False)
    assert occ["occupants"][0]["subject"]["id_number"] == number[:6] + "*" * 12
    for who in (PLATFORM, SUPERVISOR):  # entitled readers, and a supervisor who works the case, read it whole
        status, occ = await api.get("/api/v1/sync/occupancy", as_=who)
        assert status == 200 and occ["occupants"][0]["subject"]["id_number"] == number, who
