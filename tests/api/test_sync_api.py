"""Sync endpoints and the pieces behind them: the paged change feed, occupancy, the published schema, status,
metrics and the live event; identity-number redaction; the key file's mode; the backoff curve."""

from __future__ import annotations

import asyncio
import json
import os
import random
from typing import Any

import httpx
import jsonschema
import pytest

from controller.settings import SyncConfig
from controller.sync import feed
from controller.sync.pusher import Pusher, backoff_delay
from controller.sync.redact import may_hold_identity, redact
from controller.sync.schema import PAYLOADS, schema_for
from devices.central_platform.protocol import KeyFileError, load_key, new_key_file
from hw_sim.central import CentralStore, create_app
from tests.conftest import registration, walk

PLATFORM, ADMIN, SUPERVISOR, CUSTODY, OFFICER = "9101", "9001", "3001", "2001", "1001"


async def all_changes(api: Any, limit: int = 3) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = 0
    while True:
        status, page = await api.get(f"/api/v1/sync/changes?after={after}&limit={limit}", as_=PLATFORM)
        assert status == 200, page
        if not page["changes"]:
            assert page["next_after"] == after
            return out
        assert len(page["changes"]) <= limit
        out += page["changes"]
        after = page["next_after"]
        assert after == page["changes"][-1]["seq"]


def _entitle(container: Any, on: bool) -> None:
    container.site = container.site.model_copy(update={"sync": SyncConfig(include_identity_numbers=on)})


async def test_change_feed_pages_in_order_and_withholds_identity_numbers(api, container):
    bodies = [registration(), registration(sex="female", case_no="B-1")]
    await walk(api, body=bodies[0])
    await walk(api, body=bodies[1], room="wait-2")
    changes = await all_changes(api)
    seqs = [c["seq"] for c in changes]
    assert seqs == sorted(set(seqs)) and len(seqs) > 8
    assert {c["event_id"] for c in changes} == {c["event_id"] for c in changes} and len(set(seqs)) == len(changes)
    registered = [c for c in changes if c["type"] == "stay_registered"]
    assert len(registered) == 2
    for c in registered:
        assert "id_number" not in c["payload"]["subject"] and c["payload"]["subject"]["id_number_redacted"] is True
        assert c["occurred_at"].endswith("+00:00") and c["stay_id"] == c["payload"]["entity_id"]
    text = json.dumps(changes)
    assert not any(b["subject"]["id_number"] in text for b in bodies)


async def test_change_feed_carries_identity_numbers_where_the_platform_is_entitled(api, container):
    body = registration()
    await walk(api, body=body, to="registered")
    _entitle(container, True)
    changes = await all_changes(api, limit=500)
    reg = next(c for c in changes if c["type"] == "stay_registered")
    assert reg["payload"]["subject"]["id_number"] == body["subject"]["id_number"]


ROLES = {"/api/v1/sync/changes": {PLATFORM, ADMIN}, "/api/v1/sync/occupancy": {PLATFORM, ADMIN, SUPERVISOR},
         "/api/v1/sync/schema": {PLATFORM, ADMIN}, "/api/v1/sync/status": {ADMIN, SUPERVISOR}}


async def test_sync_endpoints_admit_only_their_roles(api):
    for path, allowed in ROLES.items():
        for who in (PLATFORM, ADMIN, SUPERVISOR, CUSTODY, OFFICER):
            status, body = await api.get(path, as_=who)
            assert status == (200 if who in allowed else 403), (path, who, body)
            if status == 403:
                assert body["code"] == "FORBIDDEN_ROLE"
        r = await api.client.get(path)
        assert r.status_code == 401


async def test_occupancy_shows_who_is_inside_where_since_when_and_deadline(api, container):
    placed = await walk(api)
    registered = await walk(api, body=registration(sex="female", case_no="B-2"), to="registered")
    status, occ = await api.get("/api/v1/sync/occupancy", as_=PLATFORM)
    assert status == 200 and occ["count"] == 2 and occ["site_id"] == container.site.site.id
    by_id = {o["stay_id"]: o for o in occ["occupants"]}
    a, b = by_id[placed["id"]], by_id[registered["id"]]
    assert a["room_id"] == "wait-1" and a["state"] == "waiting" and a["in_room_since"] is not None
    assert a["deadline_at"] == placed["deadline_at"] and a["entered_at"] == placed["entered_at"]
    assert b["state"] == "registered" and b["subject"]["sex"] == "female" and a["overdue"] is False
    assert all("id_number" not in o["subject"] and o["subject"]["id_number_redacted"] for o in occ["occupants"])
    _entitle(container, True)
    status, occ = await api.get("/api/v1/sync/occupancy", as_=SUPERVISOR)
    assert all(len(o["subject"]["id_number"]) == 18 for o in occ["occupants"])


async def test_published_schema_validates_real_changes_batches_and_occupancy(api, container):
    await walk(api)
    await walk(api, body=registration(sex="female", case_no="B-3"), room="wait-2", to="collected")
    status, doc = await api.get("/api/v1/sync/schema", as_=PLATFORM)
    assert status == 200 and doc["payload_version"] == 1 and "stay_registered" in doc["payload_types"]
    changes = await all_changes(api, limit=500)
    validators = {name: jsonschema.Draft202012Validator(schema_for(doc, name)) for name in doc["$defs"]}
    for c in changes:
        validators["change"].validate(c)
        if c["type"] in PAYLOADS:
            validators[f"payload_{c['type']}"].validate(c["payload"])
    assert {"stay_registered", "stay_searched", "stay_placed"} <= {c["type"] for c in changes}
    batch = await container.db.read(lambda s: feed.next_batch(s, "demo-centre", 0, 500, False))
    validators["batch"].validate(json.loads(batch.body))
    _, occ = await api.get("/api/v1/sync/occupancy", as_=PLATFORM)
    validators["occupancy"].validate(occ)
    with pytest.raises(jsonschema.ValidationError):  # the schema does say something
        validators["change"].validate({**changes[0], "seq": "one"})


async def test_status_without_a_platform_reports_the_backlog(api, container):
    await walk(api, to="registered")
    status, st = await api.get("/api/v1/sync/status", as_=ADMIN)
    assert status == 200 and st["configured"] is False
    assert st["acked_seq"] == 0 and st["lag_rows"] == st["head_seq"] > 0 and st["lag_seconds"] >= 0


async def test_pusher_status_metrics_live_event_and_platform_occupancy(api, container, tmp_path):
    """The pusher against the receiver in-process (ASGI): status, /metrics and the dashboard event follow it,
    and the platform's own occupancy view matches the centre's snapshot."""
    key_file = new_key_file(tmp_path / "site.key")
    store = CentralStore(tmp_path / "central.db")
    platform = create_app(store, {"k1": load_key(key_file)})
    cfg = SyncConfig(platform_url="http://127.0.0.1/api/v1/sync/batches", key_file=key_file, poll_seconds=0.05,
                     retry_base_seconds=0.01, retry_cap_seconds=0.05)
    pusher = Pusher(container.db, container.site.site.id, cfg, clock=container.clock, hub=container.hub,
                    transport=httpx.ASGITransport(app=platform))
    container.sync_pusher = pusher
    live = container.hub.subscribe()
    stay = await walk(api)
    await walk(api, body=registration(sex="female", case_no="B-4"), to="searched")
    await pusher.start()
    try:
        for _ in range(500):  # bounded: each round lets the pusher do real (in-process) I/O
            st = (await api.get("/api/v1/sync/status", as_=SUPERVISOR))[1]
            if st["lag_rows"] == 0 and st["acked_seq"] > 0:
                break
            await asyncio.sleep(0.01)
        assert st["configured"] is True and st["role"] == "active" and st["lag_rows"] == 0
        assert st["last_success_at"] and st["last_error"] is None and st["changes_acked"] == st["acked_seq"]
        r = await api.client.get("/metrics")
        assert "hcc_sync_lag_rows 0" in r.text and f"hcc_sync_acked_seq {st['acked_seq']}" in r.text
        assert "hcc_sync_active 1" in r.text
        events = []
        while not live.empty():
            events.append(live.get_nowait())
        sync_events = [e for e in events if e["type"] == "sync_status"]
        assert sync_events and sync_events[-1]["lag_rows"] == 0
        _, occ = await api.get("/api/v1/sync/occupancy", as_=PLATFORM)
        theirs = {o["stay_id"]: o for o in store.occupancy()}
        assert set(theirs) == {o["stay_id"] for o in occ["occupants"]}
        for o in occ["occupants"]:
            assert theirs[o["stay_id"]]["room_id"] == o["room_id"]
            assert theirs[o["stay_id"]]["deadline_at"] == o["deadline_at"]
            assert theirs[o["stay_id"]]["id_number_known"] is False
        assert theirs[stay["id"]]["state"] == "waiting"
    finally:
        await pusher.stop()
        container.hub.unsubscribe(live)
        store.close()


async def test_pusher_refuses_a_key_file_others_can_read(container, tmp_path):
    key_file = new_key_file(tmp_path / "site.key")
    os.chmod(key_file, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_key(key_file)
    cfg = SyncConfig(platform_url="http://127.0.0.1:9/x", key_file=key_file)
    pusher = Pusher(container.db, "demo-centre", cfg, clock=container.clock)
    await pusher.start()
    st = await pusher.status()
    assert st["role"] == "disabled" and "0644" in st["last_error"] and pusher._task is None
    await pusher.stop()
    short = tmp_path / "short.key"
    short.write_text("abc")
    os.chmod(short, 0o600)
    with pytest.raises(KeyFileError, match="shorter"):
        load_key(short)
    with pytest.raises(KeyFileError, match="not found"):
        load_key(tmp_path / "missing.key")


def test_sync_config_refuses_plain_http_off_the_machine_and_a_missing_key():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="https"):
        SyncConfig(platform_url="http://platform.example/api", key_file="/k")
    with pytest.raises(ValidationError, match="key_file"):
        SyncConfig(platform_url="https://platform.example/api")
    assert SyncConfig(platform_url="https://platform.example/api", key_file="/k").include_identity_numbers is False


def test_redaction_removes_every_identity_number_and_leaves_the_input_alone():
    payload = {"v": 1, "subject": {"name": "张三", "id_number": "110105199003070012"},
               "items": [{"id": "i1", "receiver": {"name": "李四", "id_number": "110105199003070039"}},
                         {"id": "i2", "receiver_id_number": "X1"}], "note": "ok"}
    out = redact(payload, entitled=False)
    assert "1101051990" not in str(out) and "X1" not in str(out)
    assert out["subject"] == {"name": "张三", "id_number_redacted": True}
    assert out["items"][0]["receiver"]["id_number_redacted"] is True and out["note"] == "ok"
    assert payload["subject"]["id_number"] == "110105199003070012"  # unchanged
    assert redact(payload, entitled=True) == payload
    assert may_hold_identity('{"id_number": "1"}') and not may_hold_identity('{"name": "x"}')


def test_backoff_doubles_to_a_cap_with_jitter():
    rng = random.Random(1)
    for attempt in range(40):
        d = min(300.0, 1.0 * 2 ** attempt)
        for _ in range(20):
            assert d / 2 <= backoff_delay(attempt, 1.0, 300.0, rng) <= d
    assert len({round(backoff_delay(3, 1.0, 300.0, rng), 6) for _ in range(20)}) > 1  # jittered


async def test_pusher_picks_up_a_rotated_key_after_the_platform_refuses_the_old_one(container, tmp_path):
    from tests.reliability.sync_harness import FastSleep, bulk_outbox, until

    key_file = new_key_file(tmp_path / "site.key")
    rotated = new_key_file(tmp_path / "rotated.key")
    store = CentralStore(tmp_path / "central.db")
    platform = create_app(store, {"k1": load_key(rotated)})  # the platform already has the new key
    cfg = SyncConfig(platform_url="http://127.0.0.1/api/v1/sync/batches", key_file=key_file, poll_seconds=0.05)
    pusher = Pusher(container.db, "demo-centre", cfg, clock=container.clock, sleep=FastSleep(),
                    transport=httpx.ASGITransport(app=platform))
    bulk_outbox(container.db, 1200, container.clock.now())
    await pusher.start()
    try:
        async def refused() -> bool:
            return pusher.state.last_error_status == 401

        await until(refused, what="the old key to be refused")
        assert (await pusher.status())["acked_seq"] == 0
        key_file.write_text(rotated.read_text())  # the rotation lands in the key file (mode stays 0600)

        async def drained() -> bool:
            return (await pusher.status())["lag_rows"] == 0

        await until(drained, what="the drain with the rotated key")
        head = (await container.db.read(lambda s: feed.lag(s, container.clock.now())))["head_seq"]
        assert store.sites()["demo-centre"] == head and store.counters()["duplicates"] == 0
    finally:
        await pusher.stop()
        store.close()
