"""The live WebSocket: what each role receives, and that a socket ends with its session (code 4401)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from controller.app import create_app
from tests.conftest import PASSWORD, registration

CARD_NUMBER = "110105199003070013"


def sign_in(client: TestClient, police_no: str, **extra: Any) -> str:
    r = client.post("/api/v1/auth/login", json={"police_no": police_no, "password": PASSWORD, **extra})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def read_until(ws: Any, kind: str) -> list[str]:
    """Every text frame up to and including the first event of type ``kind``."""
    seen = []
    while True:
        text = ws.receive_text()
        seen.append(text)
        if json.loads(text).get("type") == kind:
            return seen


def closed_with(ws: Any) -> int:
    """Reads until the server closes the socket; its close code."""
    with pytest.raises(WebSocketDisconnect) as info:
        for _ in range(1000):
            ws.receive_text()
    return info.value.code


@pytest.fixture
def client(container: Any) -> Any:
    with TestClient(create_app(container, start_background=False)) as c:
        yield c


def card_read(client: TestClient) -> None:
    """A card read as the devicebus publishes it (name, address and the full number), on the app's loop."""
    hub = client.app.state.container.hub  # type: ignore[attr-defined]
    ev = {"type": "device_event", "device_id": "idr-1", "kind": "id_reader", "event": "card_read",
          "room_id": "reg-1", "data": {"name": "测试人员", "id_number": CARD_NUMBER, "address": "北京市"}}
    client.portal.call(hub.publish, [ev])  # type: ignore[union-attr]


def test_platform_socket_never_receives_an_identity_number(client: TestClient) -> None:
    body = registration()
    number = body["subject"]["id_number"]
    staff, platform, admin = sign_in(client, "2001"), sign_in(client, "9101"), sign_in(client, "9001")
    with client.websocket_connect(f"/api/v1/live?token={staff}") as s_ws, \
            client.websocket_connect(f"/api/v1/live?token={platform}") as p_ws, \
            client.websocket_connect(f"/api/v1/live?token={admin}") as a_ws:
        for ws in (s_ws, p_ws, a_ws):
            assert ws.receive_json()["type"] == "hello"
        card_read(client)
        r = client.post("/api/v1/stays", json=body, headers=auth(staff))
        assert r.status_code == 201, r.text
        staff_seen = "".join(read_until(s_ws, "stay_registered"))
        platform_frames = read_until(p_ws, "stay_registered")
        admin_seen = "".join(read_until(a_ws, "stay_registered"))
    # custody staff work with the subject: the card read and the registration, in full
    assert CARD_NUMBER in staff_seen and number in staff_seen
    # the platform: only the state change, as the sync feed gives it (no number, no card read at all)
    platform_seen = "".join(platform_frames)
    assert number not in platform_seen and CARD_NUMBER not in platform_seen and "card_read" not in platform_seen
    registered = json.loads(platform_frames[-1])
    assert registered["data"]["subject"]["id_number_redacted"] is True
    assert "北京市" not in platform_seen
    # an admin sees everything with the numbers masked
    assert number not in admin_seen and CARD_NUMBER not in admin_seen
    assert "card_read" in admin_seen and number[:6] + "*" * 12 in admin_seen


def test_socket_closes_on_sign_out(client: TestClient) -> None:
    token = sign_in(client, "2001")
    with client.websocket_connect(f"/api/v1/live?token={token}") as ws:
        assert ws.receive_json()["type"] == "hello"
        assert client.post("/api/v1/auth/logout", headers=auth(token)).status_code == 200
        assert closed_with(ws) == 4401


def test_socket_closes_when_the_account_is_disabled(client: TestClient) -> None:
    token, admin = sign_in(client, "1001"), sign_in(client, "9001")
    with client.websocket_connect(f"/api/v1/live?token={token}") as ws:
        assert ws.receive_json()["type"] == "hello"
        r = client.post("/api/v1/staff/off-1/disable", json={}, headers=auth(admin))
        assert r.status_code == 200, r.text
        assert closed_with(ws) == 4401


def test_socket_closes_when_the_kiosk_is_revoked(client: TestClient, container: Any) -> None:
    from controller.auth import enrol_kiosk, revoke_kiosk
    from controller.store.db import Actor

    kiosk_token = container.db.write_sync(Actor.system("test"), lambda uow: enrol_kiosk(uow, "kiosk-9"))
    token = sign_in(client, "2001", kiosk_id="kiosk-9", kiosk_token=kiosk_token)
    other = sign_in(client, "2002")
    with client.websocket_connect(f"/api/v1/live?token={token}") as ws, \
            client.websocket_connect(f"/api/v1/live?token={other}") as ws2:
        assert ws.receive_json()["type"] == "hello" and ws2.receive_json()["type"] == "hello"
        client.portal.call(container.db.write, Actor.system("test"),  # type: ignore[union-attr]
                           lambda uow: revoke_kiosk(uow, "kiosk-9"))
        assert closed_with(ws) == 4401
        # another session's socket stays open: it still gets the next event
        assert json.loads(read_until(ws2, "kiosk_revoked")[-1])["entity_id"] == "kiosk-9"


def test_socket_closes_when_the_session_expires(client: TestClient, container: Any) -> None:
    token = sign_in(client, "2001")
    with client.websocket_connect(f"/api/v1/live?token={token}") as ws:
        assert ws.receive_json()["type"] == "hello"
        hours = container.site.timing.session_absolute_hours
        client.portal.call(container.fake_clock.advance_async, hours * 3600 + 1)  # type: ignore[union-attr]
        assert closed_with(ws) == 4401


def test_socket_from_another_origin_is_refused(client: TestClient) -> None:
    token = sign_in(client, "2001")
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect(
            f"/api/v1/live?token={token}", headers={"Origin": "http://evil.example"}):
        pass
    assert info.value.code == 4403
    with client.websocket_connect(f"/api/v1/live?token={token}", headers={"Origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "hello"


def test_socket_with_a_bad_token_is_refused(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/api/v1/live?token=nope"):
        pass
    assert info.value.code == 4401
