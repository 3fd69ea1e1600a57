"""Password and PIN policy, changing one's own password and an admin's reset (each ends the account's sessions)."""

from __future__ import annotations

from typing import Any

import pytest

from controller import auth
from controller.passwords import check_password, check_pin, common_passwords
from controller.store.db import Actor
from tests.conftest import PASSWORD, Api, audit_count


def new_staff(police_no: str, password: str) -> dict[str, Any]:
    return {"police_no": police_no, "name": "新人", "sex": "male", "roles": ["custody_staff"], "password": password}


@pytest.mark.parametrize(("password", "reason"), [
    ("11111111", "too_short"), ("short-1", "too_short"),
    ("x4455-long-enough", "contains_police_no"),
    ("1111111111", "common"), ("password123", "common"), ("woaini1314", "common"), ("Qwertyuiop", "common"),
    ("abababababab", "common"),
])
async def test_weak_passwords_are_refused_and_nothing_written(api: Api, password: str, reason: str) -> None:
    await api.login("9001")
    before = await audit_count(api)
    status, body = await api.post("/api/v1/staff", new_staff("4455", password), as_="9001")
    assert status == 422 and body["code"] == "WEAK_PASSWORD" and body["details"]["reason"] == reason
    assert await audit_count(api) == before


async def test_a_good_password_is_accepted(api: Api) -> None:
    status, body = await api.post("/api/v1/staff", new_staff("4456", "blue-kettle-sings-7"), as_="9001")
    assert status == 201, body


def test_the_common_list_is_shipped_data_and_the_seeds_pass() -> None:
    common = common_passwords()
    assert len(common) > 200 and "123456" in common and "11111111" in common
    check_password(PASSWORD, "2001")  # the test staff's password stays valid under the policy


@pytest.mark.parametrize("pin", ["1234", "1111", "000000", "98765", "5201314", "0123", "123"])
def test_trivial_pins_are_refused(pin: str) -> None:
    with pytest.raises(Exception) as info:
        check_pin(pin)
    assert getattr(info.value, "code", None) == "WEAK_PIN"


def test_trivial_pin_cannot_be_set(container: Any) -> None:
    with pytest.raises(Exception) as info:
        container.db.write_sync(Actor.system("cli"), lambda uow: auth.set_card(uow, "cus-m", "C0FFEE42", "1234"))
    assert getattr(info.value, "code", None) == "WEAK_PIN"
    check_pin("482913")


async def test_change_password_ends_every_session(api: Api) -> None:
    first = await api.login("1001")
    r = await api.client.post("/api/v1/auth/login", json={"police_no": "1001", "password": PASSWORD})
    second = r.json()["token"]
    hdr = {"Authorization": f"Bearer {first}"}
    r = await api.client.post("/api/v1/auth/password", headers=hdr,
                              json={"current_password": "not-it-at-all", "new_password": "lamp-river-stone-4"})
    assert r.status_code == 403 and r.json()["code"] == "CURRENT_PASSWORD_WRONG"
    r = await api.client.post("/api/v1/auth/password", headers=hdr,
                              json={"current_password": PASSWORD, "new_password": "12345678901"})
    assert r.status_code == 422 and r.json()["code"] == "WEAK_PASSWORD"
    r = await api.client.post("/api/v1/auth/password", headers=hdr,
                              json={"current_password": PASSWORD, "new_password": "lamp-river-stone-4"})
    assert r.status_code == 200, r.text
    for token in (first, second):
        r = await api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
    r = await api.client.post("/api/v1/auth/login", json={"police_no": "1001", "password": PASSWORD})
    assert r.status_code == 401
    r = await api.client.post("/api/v1/auth/login", json={"police_no": "1001", "password": "lamp-river-stone-4"})
    assert r.status_code == 200


async def test_admin_reset_ends_the_accounts_sessions(api: Api) -> None:
    token = await api.login("2002")
    status, body = await api.post("/api/v1/staff/cus-m/password", {"new_password": "lamp-river-stone-4"}, as_="1001")
    assert status == 403 and body["code"] == "FORBIDDEN_ROLE"
    status, body = await api.post("/api/v1/staff/cus-m/password", {"new_password": "lamp-river-stone-4"}, as_="9001")
    assert status == 200, body
    r = await api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    r = await api.client.post("/api/v1/auth/login", json={"police_no": "2002", "password": "lamp-river-stone-4"})
    assert r.status_code == 200
    status, body = await api.post("/api/v1/staff/nobody/password", {"new_password": "lamp-river-stone-4"},
                                  as_="9001")
    assert status == 404
