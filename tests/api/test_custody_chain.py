"""Property: whatever handovers anyone attempts, in any order, the chain of custody the service keeps has no gap.

Long random sequences of movements (into store, out for examination / court / interview / check-out, back in, return
to the owner, destruction, transfer to the property centre), most of them plausible and many not (the wrong giver,
a party who never authenticated, no or a past return time, a location of the wrong kind, a case officer as the
store's side, a return without the receiver's identity, anything after a final disposition), go through the real
service against a real migrated database. An independent model of the rules says which must be refused. Then:
- each attempt is accepted exactly when the model allows it, and a refusal names a rule the model saw broken;
- a refused attempt wrote nothing: no audit entry, no outbox entry, no movement, the item unchanged;
- the trail query returns exactly the accepted movements, in order, numbered 1..n;
- every out is followed by its in or a final disposition (an item still out at the end is brought back first),
  every giver was the holder, and the item's status and holder are what its last movement says."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st
from sqlmodel import func, select

from controller.domain.custody import PURPOSES, Movement, chain_gaps
from controller.domain.errors import RuleViolation
from controller.services import case_property as svc
from controller.store.db import Actor
from controller.store.tables import AuditEntry, CustodyItem, CustodyMovement, OutboxEntry
from tests.conftest import resident_id

OFFICERS = ["off-1", "off-2", "off-3"]
CUSTODIANS = ["cus-f", "cus-m"]
PEOPLE = OFFICERS + CUSTODIANS
ROLES = {**{p: "case_officer" for p in OFFICERS}, **{p: "custody_staff" for p in CUSTODIANS}}
# where property may go in (evidence-1/-2 are single compartments, the store room is not); files-1 holds case files
LOCATIONS = ["evidence-1", "evidence-2", "evidence-room", "files-1"]
PROPERTY_PLACES = {"evidence-1", "evidence-2", "evidence-room"}
COMPARTMENTS = {"evidence-1", "evidence-2"}
# in and out purposes weighted above the final ones, so most chains run long before they end
PURPOSE_POOL = [p for p, k in PURPOSES.items() for _ in range(2 if k is Movement.FINAL else 5)]

step = st.fixed_dictionaries({
    "purpose": st.sampled_from(PURPOSE_POOL),
    "giver": st.sampled_from(["HOLDER"] * 6 + PEOPLE),  # mostly whoever holds it now
    "receiver": st.sampled_from(["FIT"] * 6 + PEOPLE),  # mostly a plausible receiver for the purpose
    "location": st.sampled_from(["FIT"] * 4 + LOCATIONS + [None]),
    "hours": st.sampled_from([2, 2, 48, None, -1]),
    "giver_proven": st.sampled_from([True] * 9 + [False]),
    "receiver_proven": st.sampled_from([True] * 9 + [False]),
    "owner": st.booleans(),
})


@dataclass
class Model:
    """What the rules say the item is after the accepted movements (the test's own account, not the service's)."""

    status: str = "registered"
    holder: str | None = "off-1"
    location: str | None = None
    moves: list[tuple[str, str, str, str | None]] = field(default_factory=list)

    def violations(self, cmd: svc.HandoverIn, proven: set[str], occupied: bool) -> set[str]:
        """Every rule this attempt breaks (empty: it must be accepted)."""
        out: set[str] = set()
        kind = PURPOSES[cmd.purpose]
        if proven != {"giver", "receiver"}:
            out.add("HANDOVER_NOT_AUTHENTICATED")
        allowed = {"registered": {Movement.IN, Movement.FINAL}, "in_store": {Movement.OUT, Movement.FINAL},
                   "out": {Movement.IN, Movement.FINAL}, "closed": set()}[self.status]
        if kind not in allowed:
            out.add("CUSTODY_OUT_OF_ORDER")
        if cmd.giver_id == cmd.receiver_id:
            out.add("GIVER_IS_RECEIVER")
        if self.status != "in_store" and cmd.giver_id != self.holder:
            out.add("GIVER_NOT_HOLDER")  # art. 11: the one who holds it hands it on
        if kind is Movement.OUT:
            if cmd.expected_return_at is None:
                out.add("RETURN_TIME_REQUIRED")
            elif cmd.expected_return_at <= NOW[0]:
                out.add("RETURN_TIME_PAST")
        if cmd.purpose == "return_to_owner" and cmd.owner is None:
            out.add("OWNER_IDENTITY_REQUIRED")  # art. 19
        if cmd.purpose != "return_to_owner" and cmd.owner is not None:
            out.add("OWNER_ONLY_ON_RETURN")
        if kind is Movement.IN:
            if cmd.location_id is None:
                out.add("LOCATION_REQUIRED")
            elif cmd.location_id not in PROPERTY_PLACES:
                out.add("LOCATION_WRONG_KIND")
            elif occupied:
                out.add("LOCKER_OCCUPIED")
            if ROLES[cmd.receiver_id] != "custody_staff":
                out.add("CUSTODIAN_REQUIRED")  # art. 3: the store's side is custody staff
        elif self.status == "in_store" and ROLES[cmd.giver_id] != "custody_staff":
            out.add("CUSTODIAN_REQUIRED")
        return out

    def accept(self, cmd: svc.HandoverIn) -> None:
        kind = PURPOSES[cmd.purpose]
        self.moves.append((cmd.purpose, cmd.giver_id, cmd.receiver_id,
                           cmd.location_id if kind is Movement.IN else self.location))
        self.status = {Movement.IN: "in_store", Movement.OUT: "out", Movement.FINAL: "closed"}[kind]
        self.holder = None if kind is Movement.IN else cmd.receiver_id
        self.location = cmd.location_id if kind is Movement.IN else None


NOW: list[Any] = [None]  # the fake clock's now for the model (the clock does not move within an example)


def command(m: Model, a: dict[str, Any]) -> svc.HandoverIn:
    kind = PURPOSES[a["purpose"]]
    giver = a["giver"]
    if giver == "HOLDER":
        giver = m.holder or "cus-m"  # in store nobody holds it: the store's custodian hands it out
    receiver = a["receiver"]
    if receiver == "FIT":
        pool = CUSTODIANS if kind is Movement.IN else OFFICERS
        receiver = next((p for p in pool if p != giver), pool[0])
    location = a["location"]
    if location == "FIT":
        location = "evidence-room" if kind is Movement.IN else None
    body: dict[str, Any] = {"purpose": a["purpose"], "giver_id": giver, "receiver_id": receiver}
    if location is not None:
        body["location_id"] = location
    if a["hours"] is not None and (kind is Movement.OUT or a["hours"] < 0):
        body["expected_return_at"] = NOW[0] + timedelta(hours=a["hours"])
    if a["owner"] and a["purpose"] == "return_to_owner":
        body["owner"] = {"name": "孙丽", "id_type": "resident_id", "id_number": resident_id("19700101", seq=7)}
    return svc.HandoverIn(**body)


def footprint(c: Any, item_id: str) -> tuple[Any, ...]:
    """Everything a refused attempt must leave as it was."""
    def read(s: Any) -> tuple[Any, ...]:
        item = s.get(CustodyItem, item_id)
        return (s.exec(select(func.count()).select_from(AuditEntry)).one(),
                s.exec(select(func.count()).select_from(OutboxEntry)).one(),
                s.exec(select(func.count()).select_from(CustodyMovement)
                       .where(CustodyMovement.item_id == item_id)).one(),
                svc.item_view(item))
    return c.db.read_sync(read)


def occupied_by_another(c: Any, item_id: str, location: str | None) -> bool:
    if location not in COMPARTMENTS:
        return False
    return c.db.read_sync(lambda s: s.exec(select(CustodyItem.id).where(
        CustodyItem.location_id == location, CustodyItem.status == "in_store", CustodyItem.id != item_id)).first()
                          is not None)


def attempt(c: Any, m: Model, item_id: str, cmd: svc.HandoverIn, proven: set[str]) -> str | None:
    """One attempt through the service, as the route passes it on; returns the refusal code or None."""
    signed_in = cmd.receiver_id if "receiver" in proven else cmd.giver_id
    by = Actor(id=signed_in, role=ROLES[signed_in], roles=(ROLES[signed_in],))
    auth = {side: ("session" if sid == signed_in else "card_pin")
            for side, sid in (("giver", cmd.giver_id), ("receiver", cmd.receiver_id)) if side in proven}
    try:
        c.db.write_sync(by, lambda uow: svc.handover(uow, c.ctx, "case_property", item_id, cmd, auth))
    except RuleViolation as exc:
        return exc.code
    return None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=40))
def test_custody_chain_has_no_gap(container: Any, steps: list[dict[str, Any]]) -> None:
    c = container
    NOW[0] = c.clock.now()
    officer = Actor(id="off-1", role="case_officer", roles=("case_officer",))
    item_id = c.db.write_sync(officer, lambda uow: svc.register(
        uow, c.ctx, "case_property", svc.RegisterItem(case_no="A-9", description="物证", category="other")))["id"]
    m = Model()
    refused = 0
    for a in steps:
        cmd = command(m, a)
        proven = {side for side in ("giver", "receiver") if a[f"{side}_proven"]}
        if not proven:
            proven = {"giver"}  # someone is always signed in at the kiosk
        expected = m.violations(cmd, proven, occupied_by_another(c, item_id, cmd.location_id))
        before = footprint(c, item_id)
        code = attempt(c, m, item_id, cmd, proven)
        if code is None:
            assert not expected, f"accepted although {expected}: {cmd}"
            m.accept(cmd)
        else:
            assert code in expected, f"refused {code}, model saw {expected or 'nothing wrong'}: {cmd}"
            assert footprint(c, item_id) == before, f"refused {code} but wrote something"
            refused += 1
    if m.status == "out":  # still out at the end: its holder brings it back, so every out has its in
        assert m.holder is not None
        back = svc.HandoverIn(purpose="check_in", giver_id=m.holder, receiver_id="cus-m" if m.holder == "cus-f"
                              else "cus-f", location_id="evidence-room")
        assert attempt(c, m, item_id, back, {"giver", "receiver"}) is None
        m.accept(back)
    target(float(len(m.moves)))  # steer the search toward long chains
    target(float(refused), label="refused")

    trail = c.db.read_sync(lambda s: svc.trail(s, "case_property", item_id))
    moves = trail["movements"]
    assert [(mv["purpose"], mv["giver_id"], mv["receiver_id"], mv["location_id"]) for mv in moves] == m.moves
    assert [mv["seq"] for mv in moves] == list(range(1, len(m.moves) + 1))
    assert trail["gaps"] == []
    assert chain_gaps([(mv["purpose"], mv["giver_id"], mv["receiver_id"]) for mv in moves]) == []
    kinds = [PURPOSES[mv["purpose"]] for mv in moves]
    for i, kind in enumerate(kinds):
        if kind is Movement.OUT:  # every out has its in or a final disposition
            assert i + 1 < len(kinds) and kinds[i + 1] in (Movement.IN, Movement.FINAL)
        if kind is Movement.FINAL:
            assert i == len(kinds) - 1
        holder = "off-1" if i == 0 else moves[i - 1]["receiver_id"]
        if i == 0 or kinds[i - 1] is not Movement.IN:
            assert moves[i]["giver_id"] == holder  # the holder handed it on
        if mv_owner := moves[i]["owner"]:
            assert moves[i]["purpose"] == "return_to_owner" and mv_owner["name"] == "孙丽"
    assert trail["item"]["status"] == m.status and trail["item"]["holder_id"] == m.holder
    assert trail["item"]["location_id"] == m.location


def test_a_long_chain_is_gap_free_and_a_broken_one_is_caught() -> None:
    """The gap check itself: a real sequence passes; an out followed by another out, a giver who was not the holder,
    and a movement after destruction are each reported."""
    good = [("storage", "off-1", "cus-f"), ("examination", "cus-f", "off-2"), ("storage", "off-2", "cus-m"),
            ("court", "cus-m", "off-3"), ("transfer_to_property_centre", "off-3", "cus-f")]
    assert chain_gaps(good) == []
    assert chain_gaps([("storage", "off-1", "cus-f"), ("court", "cus-f", "off-2"), ("court", "off-2", "off-3")])
    assert chain_gaps([("storage", "off-1", "cus-f"), ("court", "cus-f", "off-2"), ("storage", "off-3", "cus-f")])
    assert chain_gaps([("destruction", "off-1", "cus-f"), ("storage", "cus-f", "cus-m")])
