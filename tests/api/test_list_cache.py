"""The ledger and alarm lists are read once per committed change (api/listcache.py): the same answer until a commit,
a new one after it, never a stale one; a refusal (rolled back) or a case officer's filtered ledger changes nothing
about that, and a masked answer is never served to a role that reads identity numbers (nor the reverse)."""

from __future__ import annotations

from typing import Any

from tests.conftest import registration, walk


def cache_of(api: Any) -> Any:
    return api.client._transport.app.state.list_cache


async def test_the_ledger_is_kept_between_commits_and_read_again_after_one(api, container):
    first = await walk(api, "registered")
    cache = cache_of(api)
    status, a = await api.get("/api/v1/stays?state=open")
    assert status == 200 and [s["id"] for s in a] == [first["id"]]
    hits = cache.hits
    status, b = await api.get("/api/v1/stays?state=open")
    assert b == a and cache.hits == hits + 1  # the same commit count: the kept answer
    second = await walk(api, "registered", registration(case_no="A-2026-002"))
    status, c = await api.get("/api/v1/stays?state=open")
    assert {s["id"] for s in c} == {first["id"], second["id"]}  # the commit made it stale: read again
    # a write outside the request path (write_sync, as the CLI does) is a commit too
    from controller.domain.actor import Actor
    from controller.store.tables import Stay

    def rename(uow: Any) -> None:
        stay = uow.session.get(Stay, first["id"])
        stay.subject_name = "改名测试"
        uow.session.add(stay)

    container.db.write_sync(Actor.system("test"), rename)
    status, d = await api.get("/api/v1/stays?state=open")
    assert next(s for s in d if s["id"] == first["id"])["subject"]["name"] == "改名测试"


async def test_masked_and_full_answers_are_kept_apart(api):
    await walk(api, "registered")
    _, full = await api.get("/api/v1/stays?state=open")  # custody staff: the number in full
    _, masked = await api.get("/api/v1/stays?state=open", as_="9001")  # admin: masked
    _, full_again = await api.get("/api/v1/stays?state=open")
    assert full[0]["subject"]["id_number"] == full_again[0]["subject"]["id_number"]
    assert masked[0]["subject"]["id_number"] != full[0]["subject"]["id_number"]
    assert "*" in masked[0]["subject"]["id_number"]


async def test_a_case_officers_ledger_is_his_own_and_follows_each_commit(api):
    mine = await walk(api, "registered", registration(officers=("off-1", "off-2")))
    other = await walk(api, "registered", registration(case_no="B-2026-009", officers=("off-2", "off-3")))
    _, centre = await api.get("/api/v1/stays?state=open")  # kept for the centre view
    assert {s["id"] for s in centre} == {mine["id"], other["id"]}
    _, his = await api.get("/api/v1/stays?state=open", as_="1001")  # off-1: his case only, never the centre's
    assert [s["id"] for s in his] == [mine["id"]]


async def test_alarm_list_follows_each_commit(api, container):
    from controller.domain.actor import Actor
    from controller.services import alarms

    _, before = await api.get("/api/v1/alarms?state=open")
    await container.db.write(Actor.system("test"), lambda uow: alarms.raise_alarm(uow, "panic", "panic:test",
                                                                                 room_id="wait-1"))
    _, raised = await api.get("/api/v1/alarms?state=open")
    new = [x for x in raised if x["kind"] == "panic"]
    assert len(raised) == len(before) + 1 and new and new[0]["state"] == "raised"
    status, _ = await api.post(f"/api/v1/alarms/{new[0]['id']}/ack", {})
    assert status == 200
    _, acked = await api.get("/api/v1/alarms?state=open")
    assert next(x for x in acked if x["id"] == new[0]["id"])["state"] == "acknowledged"
