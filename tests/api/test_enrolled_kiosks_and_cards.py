"""Kiosks are enrolled devices, and staff card + PIN sign-in where the site has card readers (ASVS L2, V2/V3)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from controller import auth
from controller.domain.actor import Actor
from controller.settings import parse_site
from controller.store.tables import Kiosk, Staff
from tests.conftest import PASSWORD, Api


def _site(container: Any, **security: Any) -> None:
    raw = container.site.model_dump(mode="json")
    raw["security"].update(security)
    container.site = parse_site(raw)


async def test_kiosk_sign_in_needs_an_enrolled_kiosk_and_its_token(api: Api, container: Any) -> None:
    _site(container, kiosk_enrolment="required")
    body = {"police_no": "2001", "password": PASSWORD, "kiosk_id": "kiosk-reg"}
    r = await api.client.post("/api/v1/auth/login", json=body)
    assert r.status_code == 403 and r.json()["code"] == "KIOSK_NOT_ENROLLED"
    token = container.db.write_sync(Actor.system("cli"), lambda uow: auth.enrol_kiosk(uow, "kiosk-reg", "登记台"))
    stored = container.db.read_sync(lambda s: s.get(Kiosk, "kiosk-reg"))
    assert stored.token_hash != token and token not in stored.token_hash  # only its hash is kept
    r = await api.client.post("/api/v1/auth/login", json={**body, "kiosk_token": "wrong"})
    assert r.status_code == 403
    r = await api.client.post("/api/v1/auth/login", json={**body, "kiosk_token": token})
    assert r.status_code == 200 and r.json()["idle_timeout_s"] == 5 * 60
    session_token = r.json()["token"]
    container.db.write_sync(Actor.system("cli"), lambda uow: auth.revoke_kiosk(uow, "kiosk-reg"))
    r = await api.client.get("/api/v1/stays", headers={"Authorization": f"Bearer {session_token}"})
    assert r.status_code == 401  # revoking the kiosk ends its sessions
    r = await api.client.post("/api/v1/auth/login", json={**body, "kiosk_token": token})
    assert r.status_code == 403


async def test_optional_enrolment_still_checks_an_enrolled_kiosks_token(api: Api, container: Any) -> None:
    body = {"police_no": "2001", "password": PASSWORD, "kiosk_id": "kiosk-x"}
    assert (await api.client.post("/api/v1/auth/login", json=body)).status_code == 200  # demo site: optional
    container.db.write_sync(Actor.system("cli"), lambda uow: auth.enrol_kiosk(uow, "kiosk-x"))
    assert (await api.client.post("/api/v1/auth/login", json=body)).status_code == 403


def test_a_production_site_cannot_make_enrolment_optional(container: Any) -> None:
    import pytest

    from controller.settings import SiteConfigError

    raw = container.site.model_dump(mode="json")
    raw["site"]["production"] = True
    raw["tls"] = {"mode": "reverse_proxy"}  # a production site serves HTTPS
    with pytest.raises(SiteConfigError, match="kiosk_enrolment"):
        parse_site(raw)


async def test_staff_card_and_pin_sign_in_with_back_off(api: Api, container: Any) -> None:
    card = {"card_id": "C0FFEE42", "pin": "482913"}
    r = await api.client.post("/api/v1/auth/card-login", json=card)
    assert r.status_code == 404 and r.json()["code"] == "CARD_LOGIN_DISABLED"
    _site(container, staff_card_login=True)
    container.db.write_sync(Actor.system("cli"), lambda uow: auth.set_card(uow, "cus-m", "C0FFEE42", "482913"))
    person = container.db.read_sync(lambda s: s.exec(select(Staff).where(Staff.id == "cus-m")).one())
    assert "C0FFEE42" not in (person.card_id_hash or "") and "482913" not in (person.pin_hash or "")
    r = await api.client.post("/api/v1/auth/card-login", json=card)
    assert r.status_code == 200 and r.json()["staff"]["id"] == "cus-m"
    token = r.json()["token"]
    r = await api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    for _ in range(3):
        r = await api.client.post("/api/v1/auth/card-login", json={**card, "pin": "000000"})
        assert r.status_code == 401
    r = await api.client.post("/api/v1/auth/card-login", json=card)
    assert r.status_code == 429 and r.json()["code"] == "TOO_MANY_ATTEMPTS"  # this source waits; no lock
