"""The live socket's numbering (a lost event leaves a gap the page sees) and a case officer's narrowed view."""

from __future__ import annotations

import asyncio
from typing import Any

from controller.api.visibility import case_scope, live_filter
from controller.hub import Hub


def drain(q: asyncio.Queue[Any]) -> list[Any]:
    out = []
    while not q.empty():
        out.append(q.get_nowait())
    return out


def test_a_feed_numbers_what_passes_its_filter_without_gaps() -> None:
    async def run() -> list[tuple[int, dict[str, Any]]]:
        hub = Hub()
        feed = hub.feed(lambda ev: ev if ev["type"] != "hidden" else None)
        hub.publish([{"type": "a"}, {"type": "hidden"}, {"type": "b"}])
        hub.deliver([{"type": "stay.updated", "v": 1}])
        return drain(feed.queue)

    got = asyncio.run(run())
    assert [n for n, _ in got] == [1, 2, 3]  # the filtered event takes no number
    assert [ev["type"] for _, ev in got] == ["a", "b", "stay.updated"]


def test_a_full_feed_leaves_a_gap_and_says_overflow() -> None:
    async def run() -> tuple[list[tuple[int, dict[str, Any]]], int]:
        hub = Hub(queue_size=2)
        feed = hub.feed(lambda ev: ev)
        hub.publish([{"type": "a"}, {"type": "b"}, {"type": "c"}])
        return drain(feed.queue), feed.dropped

    got, dropped = asyncio.run(run())
    # "a" (1) was dropped for lack of room; the reader sees 2 then 3: number 1 is missing, and told why
    assert [n for n, _ in got] == [2, 3] and got[-1][1]["type"] == "overflow" and dropped == 1


def test_deliver_reaches_queues_but_not_callbacks() -> None:
    async def run() -> tuple[list[str], list[Any]]:
        hub = Hub()
        seen: list[str] = []
        hub.on_event(lambda ev: seen.append(ev["type"]))
        q = hub.subscribe()
        hub.publish([{"type": "stay_placed"}])
        hub.deliver([{"type": "stay.updated"}])
        return seen, drain(q)

    seen, queued = asyncio.run(run())
    assert seen == ["stay_placed"]
    assert [ev["type"] for ev in queued] == ["stay_placed", "stay.updated"]


def row(stay_id: str, officers: list[str]) -> dict[str, Any]:
    return {"type": "stay.updated", "v": 1, "at": "t", "stay": {"id": stay_id, "case_officer_ids": officers,
                                                                "subject": {"id_number": "110105199003070013"}}}


def test_case_scope_follows_the_officers_of_each_stay() -> None:
    mine: set[str] = {"s1"}
    view = case_scope(live_filter(("case_officer",), False), "off-1", mine)
    assert view(row("s1", ["off-1"])) is not None
    assert view(row("s2", ["off-2"])) is None  # not his case
    assert view({"type": "presence.moved", "stay_id": "s2", "room_id": "int-1"}) is None
    assert view({"type": "stay_placed", "entity": "stay", "entity_id": "s2", "stay_id": "s2", "data": {}}) is None
    # the centre's alarm and approval lists reach him whoever the stay belongs to, as GET /alarms does
    assert view({"type": "alarm_raised", "entity": "alarm", "entity_id": "a1", "stay_id": "s2", "data": {}})
    # a registration naming him makes the stay his from that event on
    reg = {"type": "stay_registered", "entity": "stay", "entity_id": "s3", "stay_id": "s3",
           "data": {"case_officer_ids": ["off-1"]}}
    assert view(reg) is not None and "s3" in mine
    # a row that no longer names him takes the stay off his page
    gone = view(row("s1", ["off-2"]))
    assert gone == {"type": "stay.removed", "v": 1, "at": "t", "stay_id": "s1"} and "s1" not in mine
    assert view(row("s1", ["off-2"])) is None
