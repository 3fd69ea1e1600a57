"""Property: whatever handovers anyone attempts, in any order, the chain of custody the service keeps has no gap:
every out is followed by its in or a final disposition, every giver was the holder, and the item's status and
holder are what its last movement says."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from controller.domain.custody import PURPOSES, Movement, chain_gaps
from controller.domain.errors import RuleViolation
from controller.services import case_property as svc
from controller.store.db import Actor

PEOPLE = ["off-1", "off-2", "off-3", "cus-f", "cus-m"]
ROLES = {"off-1": "case_officer", "off-2": "case_officer", "off-3": "case_officer", "cus-f": "custody_staff",
         "cus-m": "custody_staff"}
LOCATIONS = ["evidence-1", "evidence-2", "evidence-room", "files-1", None]

attempt = st.fixed_dictionaries({
    "purpose": st.sampled_from(sorted(PURPOSES)),
    "giver_id": st.sampled_from(["HOLDER", "HOLDER", *PEOPLE]),  # mostly the holder, so chains grow long
    "receiver_id": st.sampled_from(PEOPLE),
    "location_id": st.sampled_from(LOCATIONS),
    "hours": st.sampled_from([None, -1, 2, 48]),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attempts=st.lists(attempt, min_size=1, max_size=12))
def test_custody_chain_has_no_gap(container: Any, attempts: list[dict[str, Any]]) -> None:
    c = container
    officer = Actor(id="off-1", role="case_officer", roles=("case_officer",))
    item = c.db.write_sync(officer, lambda uow: svc.register(
        uow, c.ctx, "case_property", svc.RegisterItem(case_no="A-9", description="物证", category="other")))
    accepted = 0
    for a in attempts:
        now = c.clock.now()
        body = {k: v for k, v in a.items() if k != "hours" and v is not None}
        if body["giver_id"] == "HOLDER":
            now_item = c.db.read_sync(lambda s: svc.load_item(s, item["id"]))
            body["giver_id"] = now_item.holder_id or "cus-m"  # in store: the store's custodian hands out
        if a["hours"] is not None:
            body["expected_return_at"] = now + timedelta(hours=a["hours"])
        cmd = svc.HandoverIn(**body)
        by = Actor(id=cmd.receiver_id, role=ROLES[cmd.receiver_id], roles=(ROLES[cmd.receiver_id],))
        try:
            c.db.write_sync(by, lambda uow, cmd=cmd, by=by: svc.handover(
                uow, c.ctx, "case_property", item["id"], cmd, {"giver": "card_pin", "receiver": "session"}))
            accepted += 1
        except RuleViolation:
            pass  # refused attempts write nothing; the chain is checked below
    target(float(accepted))  # steer the search toward long chains
    trail = c.db.read_sync(lambda s: svc.trail(s, "case_property", item["id"]))
    moves = trail["movements"]
    assert len(moves) == accepted and [m["seq"] for m in moves] == list(range(1, accepted + 1))
    assert trail["gaps"] == []
    assert chain_gaps([(m["purpose"], m["giver_id"], m["receiver_id"]) for m in moves]) == []
    if moves:
        assert moves[0]["giver_id"] == "off-1"  # custody begins with the officer who seized it
    for i, m in enumerate(moves):
        if PURPOSES[m["purpose"]] is Movement.OUT and i + 1 < len(moves):
            assert PURPOSES[moves[i + 1]["purpose"]] in (Movement.IN, Movement.FINAL)
        if PURPOSES[m["purpose"]] is Movement.FINAL:
            assert i == len(moves) - 1
    last = PURPOSES[moves[-1]["purpose"]] if moves else None
    expected = {None: "registered", Movement.IN: "in_store", Movement.OUT: "out", Movement.FINAL: "closed"}[last]
    assert trail["item"]["status"] == expected
    if last is Movement.OUT:
        assert trail["item"]["holder_id"] == moves[-1]["receiver_id"] and trail["item"]["due_back_at"]


def test_a_long_chain_is_gap_free_and_a_broken_one_is_caught() -> None:
    """The gap check itself: a real sequence passes; an out followed by another out, a giver who was not the holder,
    and a movement after destruction are each reported."""
    good = [("storage", "off-1", "cus-f"), ("examination", "cus-f", "off-2"), ("storage", "off-2", "cus-m"),
            ("court", "cus-m", "off-3"), ("transfer_to_property_centre", "off-3", "cus-f")]
    assert chain_gaps(good) == []
    assert chain_gaps([("storage", "off-1", "cus-f"), ("court", "cus-f", "off-2"), ("court", "off-2", "off-3")])
    assert chain_gaps([("storage", "off-1", "cus-f"), ("court", "cus-f", "off-2"), ("storage", "off-3", "cus-f")])
    assert chain_gaps([("destruction", "off-1", "cus-f"), ("storage", "cus-f", "cus-m")])
