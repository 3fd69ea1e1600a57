"""The live socket's typed deltas over a real WebSocket: each carries the REST row of what changed, numbered per
socket, and passes the same role filter as every other live event (docs/API.md "WebSocket")."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from controller.app import create_app
from controller.services import alarms
from controller.store.db import Actor
from tests.conftest import PASSWORD, registration

Frame = dict[str, Any]


def sign_in(client: TestClient, police_no: str) -> str:
    r = client.post("/api/v1/auth/login", json={"police_no": police_no, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Socket:
    """A live socket as a page holds it: every frame kept, and its numbering checked as it arrives."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: list[Frame] = []
        hello = ws.receive_json()
        assert hello["type"] == "hello" and hello["n"] == 0
        self.n = 0

    def until(self, match: Callable[[Frame], bool]) -> Frame:
        """Reads up to and including the first frame ``match`` accepts."""
        for _ in range(2000):
            frame = json.loads(self.ws.receive_text())
            assert frame["n"] == self.n + 1, (frame, self.n)  # no gap: nothing was lost on the way
            self.n = frame["n"]
            self.frames.append(frame)
            if match(frame):
                return frame
        raise AssertionError("no such frame")

    def text(self) -> str:
        return json.dumps(self.frames, ensure_ascii=False)

    def types(self) -> set[str]:
        return {f["type"] for f in self.frames}


def of_type(kind: str, **where: Any) -> Callable[[Frame], bool]:
    def match(f: Frame) -> bool:
        if f["type"] != kind:
            return False
        body = next((f[k] for k in ("stay", "room", "alarm", "approval", "device") if k in f), f)
        return all(body.get(k) == v or f.get(k) == v for k, v in where.items())
    return match


@pytest.fixture
def client(container: Any) -> Any:
    with TestClient(create_app(container, start_background=False)) as c:
        yield c


_lockers = iter(range(1, 17))


def walk(client: TestClient, token: str, body: dict[str, Any] | None = None, room: str = "wait-1") -> Frame:
    """Registration to placement in ``room`` through the API, as custody staff."""
    reg = body or registration()
    r = client.post("/api/v1/stays", json=reg, headers=auth(token))
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    female = reg["subject"]["sex"] == "female"
    for step, data in [
        ("search", {"checker_id": "cus-f" if female else "cus-m", "witness_id": "off-1", "gate_result": "pass"}),
        ("collection", {"fingerprints_taken": True, "dna_taken": False}),
        ("property", {"custodian_id": "cus-f", "locker_id": f"a-{next(_lockers):02d}",
                      "items": [{"description": "手机", "quantity": 1, "category": "phone"}]}),
        ("placement", {"room_id": room}),
    ]:
        r = client.post(f"/api/v1/stays/{sid}/{step}", json=data, headers=auth(token))
        assert r.status_code == 200, (step, r.text)
    return dict(r.json())


def publish(client: TestClient, ev: Frame) -> None:
    """An event as the devicebus publishes it, on the app's loop."""
    hub = client.app.state.container.hub  # type: ignore[attr-defined]
    client.portal.call(hub.publish, [ev])  # type: ignore[union-attr]


def moved(tag: str, stay_id: str, room: str, came_from: str | None = None) -> Frame:
    """The devicebus's event for a wristband seen in another room (DeviceBus._on_TagPresent)."""
    return {"type": "location", "tag_id": tag, "zone": room, "from": came_from, "owner": "stay", "owner_id": stay_id,
            "at": "2026-11-22T01:05:00+00:00", "t_sent": None}


def test_a_placement_sends_the_stay_and_the_rooms_as_the_rest_lists_show_them(client: TestClient) -> None:
    staff = sign_in(client, "2001")
    with client.websocket_connect(f"/api/v1/live?token={staff}") as ws:
        sock = Socket(ws)
        stay = walk(client, staff, room="wait-2")
        placed = sock.until(of_type("stay.updated", id=stay["id"], state="waiting"))
        room = sock.until(of_type("room.occupancy", id="wait-2"))
    assert placed["v"] == 1 and room["v"] == 1
    # the same rows GET /stays and GET /rooms give: the page replaces its copy and loads nothing
    rows = client.get("/api/v1/stays?state=open", headers=auth(staff)).json()
    assert placed["stay"] == next(r for r in rows if r["id"] == stay["id"])
    rooms = client.get("/api/v1/rooms", headers=auth(staff)).json()
    assert room["room"] == next(r for r in rooms if r["id"] == "wait-2")
    assert stay["id"] in room["room"]["occupant_stay_ids"]
    # the steps' rows arrive in order (a burst of commits may share one), the last one the placed stay
    versions = [f["stay"]["version"] for f in sock.frames if f["type"] == "stay.updated"]
    assert versions == sorted(versions) and versions[-1] == stay["version"]


def test_alarm_deltas_follow_raise_acknowledge_and_resolve(client: TestClient, container: Any) -> None:
    staff = sign_in(client, "2001")
    with client.websocket_connect(f"/api/v1/live?token={staff}") as ws:
        sock = Socket(ws)
        alarm = client.portal.call(  # type: ignore[union-attr]
            container.db.write, Actor.system("test"),
            lambda uow: alarms.alarm_view(alarms.raise_alarm(uow, "panic", "panic:wait-1", room_id="wait-1")))
        raised = sock.until(of_type("alarm.raised", id=alarm["id"]))
        assert raised["alarm"]["state"] == "raised" and raised["alarm"]["room_id"] == "wait-1"
        assert client.post(f"/api/v1/alarms/{alarm['id']}/ack", json={}, headers=auth(staff)).status_code == 200
        acked = sock.until(of_type("alarm.updated", id=alarm["id"]))
        assert acked["alarm"]["state"] == "acknowledged" and acked["alarm"]["acknowledged_by"] == "cus-f"
        r = client.post(f"/api/v1/alarms/{alarm['id']}/resolve", json={"note": "已处置"}, headers=auth(staff))
        assert r.status_code == 200, r.text
        resolved = sock.until(of_type("alarm.resolved", id=alarm["id"]))
    listed = client.get("/api/v1/alarms", headers=auth(staff)).json()
    assert resolved["alarm"] == next(a for a in listed if a["id"] == alarm["id"])


def test_presence_moves_are_sent_and_a_new_socket_learns_where_everyone_is(client: TestClient) -> None:
    staff = sign_in(client, "2001")
    stay = walk(client, staff, room="wait-1")
    with client.websocket_connect(f"/api/v1/live?token={staff}") as ws:
        sock = Socket(ws)
        publish(client, moved("tag-7", stay["id"], "int-1", "wait-1"))
        seen = sock.until(of_type("presence.moved", stay_id=stay["id"]))
    assert seen["room_id"] == "int-1" and seen["from_room_id"] == "wait-1" and seen["owner"] == "stay"
    # a page that opens now is told where the wristband is, right after its hello
    with client.websocket_connect(f"/api/v1/live?token={staff}") as ws:
        late = Socket(ws)
        first = late.until(lambda f: True)
    assert first["type"] == "presence.moved" and first["n"] == 1
    assert first["stay_id"] == stay["id"] and first["room_id"] == "int-1"


def test_device_availability_and_approval_deltas(client: TestClient) -> None:
    staff, supervisor = sign_in(client, "2001"), sign_in(client, "3001")
    stay = walk(client, staff, room="wait-3")
    with client.websocket_connect(f"/api/v1/live?token={supervisor}") as ws:
        sock = Socket(ws)
        publish(client, {"type": "device_availability", "device_id": "gate-1", "kind": "metal_gate",
                         "availability": "offline", "detail": "timeout", "at": "2026-11-22T01:05:00+00:00"})
        dev = sock.until(of_type("device.availability", id="gate-1"))
        assert dev["device"]["availability"] == "offline" and dev["device"]["kind"] == "metal_gate"
        r = client.post("/api/v1/approvals", headers=auth(staff), json={
            "kind": "temporary_leave", "stay_id": stay["id"], "reason": "指认现场", "leave_reason": "scene_identification"})
        assert r.status_code == 201, r.text
        asked = sock.until(of_type("approval.requested", id=r.json()["id"]))
        assert asked["approval"]["state"] == "pending"
        g = client.post(f"/api/v1/approvals/{r.json()['id']}/grant", json={}, headers=auth(supervisor))
        assert g.status_code == 200, g.text
        granted = sock.until(of_type("approval.updated", id=r.json()["id"]))
    assert granted["approval"]["state"] == "granted" and granted["approval"]["decided_by"] == "sup-1"
    listed = client.get("/api/v1/approvals", headers=auth(staff)).json()
    assert granted["approval"] == next(a for a in listed if a["id"] == r.json()["id"])


def test_the_platform_socket_gets_no_delta_and_never_an_identity_number(client: TestClient) -> None:
    body = registration(case_no="A-2026-077")
    number = body["subject"]["id_number"]
    staff, platform, admin = sign_in(client, "2001"), sign_in(client, "9101"), sign_in(client, "9001")
    with client.websocket_connect(f"/api/v1/live?token={staff}") as s_ws, \
            client.websocket_connect(f"/api/v1/live?token={platform}") as p_ws, \
            client.websocket_connect(f"/api/v1/live?token={admin}") as a_ws:
        s, p, a = Socket(s_ws), Socket(p_ws), Socket(a_ws)
        stay = walk(client, staff, body=body, room="wait-4")
        publish(client, moved("tag-8", stay["id"], "wait-4"))
        for sock in (s, a):
            sock.until(of_type("room.occupancy", id="wait-4"))
            sock.until(of_type("presence.moved", stay_id=stay["id"]))
        # a last change after every delta above was delivered: when the platform has it, it has had the rest
        r = client.post(f"/api/v1/stays/{stay['id']}/care", json={"kind": "water"}, headers=auth(staff))
        assert r.status_code in (200, 201), r.text
        p.until(of_type("care_recorded"))
    # custody staff: the stay's row in full
    assert number in s.text() and "stay.updated" in s.types()
    # the platform: the sync feed's changes only, never a delta, a location or a number
    assert not {t for t in p.types() if "." in t}, p.types()
    assert number not in p.text() and "tag-8" not in p.text()
    assert "stay_placed" in p.types()
    # an admin: the deltas, with the number masked
    assert number not in a.text() and number[:6] + "*" * 12 in a.text()
    row = next(f["stay"] for f in a.frames if f["type"] == "stay.updated")
    assert row["subject"]["id_number"] == number[:6] + "*" * 12


def test_a_case_officer_gets_only_his_stays_deltas(client: TestClient) -> None:
    staff = sign_in(client, "2001")
    mine, other = sign_in(client, "1001"), sign_in(client, "1003")  # off-1 is on the case, off-3 is not
    with client.websocket_connect(f"/api/v1/live?token={mine}") as m_ws, \
            client.websocket_connect(f"/api/v1/live?token={other}") as o_ws:
        m, o = Socket(m_ws), Socket(o_ws)
        stay = walk(client, staff, body=registration(case_no="A-2026-078", officers=("off-1", "off-2")), room="wait-5")
        publish(client, moved("tag-9", stay["id"], "wait-5"))
        alarm = client.portal.call(  # type: ignore[union-attr]
            client.app.state.container.db.write, Actor.system("test"),  # type: ignore[attr-defined]
            lambda uow: alarms.alarm_view(alarms.raise_alarm(uow, "panic", "panic:wait-5", stay_id=stay["id"],
                                                             room_id="wait-5")))
        for sock in (m, o):  # the alarm list is the centre's (GET /alarms shows it to both): it comes last
            sock.until(of_type("alarm.raised", id=alarm["id"]))
    assert any(f["type"] == "stay.updated" and f["stay"]["id"] == stay["id"] for f in m.frames)
    assert any(f["type"] == "presence.moved" and f["stay_id"] == stay["id"] for f in m.frames)
    assert any(f.get("stay_id") == stay["id"] and f["type"] == "stay_placed" for f in m.frames)
    # off-3: nothing about the stay but the alarm and the rooms (GET /rooms is the centre's floor)
    assert not any(f["type"] in ("stay.updated", "presence.moved") for f in o.frames), o.types()
    assert not any(f.get("stay_id") == stay["id"] and f.get("entity") != "alarm" for f in o.frames)
    assert stay["subject"]["id_number"] not in o.text()
    assert any(f["type"] == "room.occupancy" and f["room"]["id"] == "wait-5" for f in o.frames)
    # the REST list agrees: off-3 does not see the stay there either
    listed = client.get("/api/v1/stays?state=open", headers=auth(other)).json()
    assert stay["id"] not in {r["id"] for r in listed}
