"""Property-based stateful test: random command sequences through the API; invariants checked after every step.

Invariants: a stay only moves along the machine's edges; an exited stay never changes; every open stay has a
deadline; no stay exits with an item without disposition; the audit chain verifies; every approval a step used was
granted by a supervisor who authenticated, and was used by exactly one step; a decided measure's clock runs from
its decision; a stay exits only the way its measure allows.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)
from starlette.testclient import TestClient

from controller.app import create_app
from controller.clock import FakeClock
from controller.container import build
from controller.domain.stay import EDGES, LIGHT_EDGES, StayState
from controller.settings import Settings, load_site
from tests.conftest import DEMO_SITE, PASSWORD, RoomRecorder, registration

ROOMS = ["wait-1", "wait-2", "wait-5", "wait-6", "sober-1", "int-1", "wit-1"]
TEMPLATE: dict[str, Path] = {}


class CustodyMachine(RuleBasedStateMachine):
    stays = Bundle("stays")
    approvals = Bundle("approvals")

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="hcc-stateful-"))
        settings_ = Settings(site_file=DEMO_SITE, data_dir=self.tmp, fake_clock=True)
        shutil.copyfile(TEMPLATE["db"], self.tmp / "controller.db")
        self.clock = FakeClock(datetime(2026, 11, 22, 1, 0, tzinfo=UTC))
        self.container = build(settings_, load_site(DEMO_SITE), self.clock)
        self.container.recorder = RoomRecorder()
        self.client = TestClient(create_app(self.container, start_background=False))
        self.client.__enter__()
        self.tokens = {no: self.client.post("/api/v1/auth/login", json={"police_no": no, "password": PASSWORD})
                       .json()["token"] for no in ("2001", "1001", "3001", "9001")}
        self.known: dict[str, dict[str, Any]] = {}  # stay id -> last seen view
        self.case = 0
        self.interviews: list[str] = []
        self.lockers = iter([f"{b}-{i:02d}" for b in "abc" for i in range(1, 17)])

    def teardown(self) -> None:
        self.client.__exit__(None, None, None)
        self.container.db.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def call(self, path: str, body: dict[str, Any] | None = None, as_: str = "2001", method: str = "POST") -> Any:
        r = self.client.request(method, path, json=body if method == "POST" else None,
                                headers={"Authorization": f"Bearer {self.tokens[as_]}"})
        if r.status_code == 401:  # the fake clock moved past the idle limit: sign in again
            self.tokens[as_] = self.client.post("/api/v1/auth/login", json={"police_no": as_, "password": PASSWORD}
                                                ).json()["token"]
            return self.call(path, body, as_, method)
        assert r.status_code < 500, r.text
        if r.status_code >= 400:
            err = r.json()
            assert set(err) >= {"code", "message", "message_en", "details"}, err
        return r

    def view(self, stay_id: str) -> dict[str, Any]:
        return self.call(f"/api/v1/stays/{stay_id}", method="GET").json()

    @rule(target=stays, sex=st.sampled_from(["male", "female"]), minor=st.booleans(),
          role=st.sampled_from(["suspect", "suspect", "witness"]), same_case=st.booleans(),
          intox=st.booleans())
    def register(self, sex: str, minor: bool, role: str, same_case: bool, intox: bool) -> str:
        if not same_case:
            self.case += 1
        body = registration(sex=sex, birth="2010-06-01" if minor else "1988-02-03", role=role,
                            case_no=f"S-{self.case}", basis="witness_inquiry" if role == "witness" else "criminal_summons",
                            flags={"intoxicated": intox})
        r = self.call("/api/v1/stays", body)
        if r.status_code == 201:
            self.known[r.json()["id"]] = r.json()
            return r.json()["id"]
        return "stay-none"

    @rule(stay=stays, female_checker=st.booleans(), room=st.sampled_from(ROOMS))
    def search(self, stay: str, female_checker: bool, room: str) -> None:
        self.call(f"/api/v1/stays/{stay}/search", {"checker_id": "cus-f" if female_checker else "cus-m",
                                                   "witness_id": "off-1", "gate_result": "pass", "room_id": room})

    @rule(stay=stays)
    def collect(self, stay: str) -> None:
        self.call(f"/api/v1/stays/{stay}/collection", {"fingerprints_taken": True, "dna_taken": False})

    @rule(stay=stays, items=st.integers(0, 2))
    def property(self, stay: str, items: int) -> None:
        locker = next(self.lockers, "a-01")
        self.call(f"/api/v1/stays/{stay}/property", {
            "custodian_id": "cus-f", "locker_id": locker,
            "items": [{"description": f"物品{i}", "category": "personal"} for i in range(items)]})

    @rule(target=approvals, stay=stays, kind=st.sampled_from(["placement_override", "extension", "temporary_leave"]),
          room=st.sampled_from(ROOMS), hours=st.integers(1, 30))
    def ask(self, stay: str, kind: str, room: str, hours: int) -> str:
        terms: dict[str, Any] = {"placement_override": {"room_id": room}, "temporary_leave": {"leave_reason": "hospital"}
                                 }.get(kind, {})
        v = self.known.get(stay)
        if kind == "extension" and v:
            terms = {"until": (datetime.fromisoformat(v["entered_at"]) + timedelta(hours=hours)).isoformat()}
        r = self.call("/api/v1/approvals", {"kind": kind, "stay_id": stay, "reason": "测试", **terms})
        return r.json()["id"] if r.status_code == 201 else "apr-none"

    @rule(approval=approvals, action=st.sampled_from(["grant", "grant", "refuse", "withdraw"]),
          who=st.sampled_from(["3001", "3001", "1001"]))
    def decide(self, approval: str, action: str, who: str) -> None:
        r = self.call(f"/api/v1/approvals/{approval}/{action}", {"note": "决定"}, as_=who)
        if who == "1001" and action != "withdraw":
            assert r.status_code == 403 and r.json()["code"] == "NEEDS_SUPERVISOR", r.text

    @rule(stay=stays, room=st.sampled_from(ROOMS), approval=st.none() | approvals)
    def place(self, stay: str, room: str, approval: str | None) -> None:
        body: dict[str, Any] = {"room_id": room}
        if approval:
            body["approval_id"] = approval
        self.call(f"/api/v1/stays/{stay}/placement", body)

    @rule(stay=stays, officers=st.sampled_from([["off-1", "off-2"], ["off-1"]]), adult=st.booleans(),
          room=st.sampled_from(["int-1", "int-2", "inq-1"]))
    def interview(self, stay: str, officers: list[str], adult: bool, room: str) -> None:
        body: dict[str, Any] = {"room_id": room, "officer_ids": officers}
        if adult:
            body["appropriate_adult"] = {"name": "监护人", "relation": "parent", "id_number": "110101197501011234", "contact": "13800000001"}
        r = self.call(f"/api/v1/stays/{stay}/interviews", body, as_="1001")
        if r.status_code == 201:
            self.interviews.append(r.json()["interview_id"])

    @rule(action=st.sampled_from(["pause", "resume", "end", "end"]), pick=st.integers(0, 5))
    def interview_action(self, action: str, pick: int) -> None:
        if self.interviews:
            iv = self.interviews[pick % len(self.interviews)]
            self.call(f"/api/v1/interviews/{iv}/{action}", {}, as_="1001")

    @rule(stay=stays, kind=st.sampled_from(["drug_test", "medical_check"]), female=st.booleans())
    def activity(self, stay: str, kind: str, female: bool) -> None:
        r = self.call(f"/api/v1/stays/{stay}/activities", {"kind": kind,
                                                           "performed_by_id": "cus-f" if female else "cus-m"})
        if r.status_code == 201:
            self.call(f"/api/v1/activities/{r.json()['activity_id']}/end", {"result": "正常"})

    @rule(stay=stays, approval=st.none() | approvals)
    def leave_and_return(self, stay: str, approval: str | None) -> None:
        self.call(f"/api/v1/stays/{stay}/leave", {"reason": "hospital", "approval_id": approval,
                                                  "escort_ids": ["off-1"]})
        self.call(f"/api/v1/stays/{stay}/return", {})

    @rule(stay=stays, hours=st.integers(1, 30), approval=st.none() | approvals)
    def extend(self, stay: str, hours: int, approval: str | None) -> None:
        v = self.known.get(stay)
        if v:
            until = (datetime.fromisoformat(v["entered_at"]) + timedelta(hours=hours)).isoformat()
            self.call(f"/api/v1/stays/{stay}/extension", {"approval_id": approval, "until": until, "reason": "延长"},
                      as_="1001")

    @rule(stay=stays, measure=st.sampled_from(["criminal_detention", "arrest", "bail", "released"]),
          ask=st.booleans())
    def change_measure(self, stay: str, measure: str, ask: bool) -> None:
        body: dict[str, Any] = {"measure": measure, "decided_at": self.clock.now().isoformat(), "reason": "决定",
                                "decision_no": "决定书-1"}
        if ask:
            r = self.call("/api/v1/approvals", {"kind": "measure_change", "stay_id": stay, "reason": "测试",
                                                "measure": measure}, as_="1001")
            if r.status_code == 201:
                self.call(f"/api/v1/approvals/{r.json()['id']}/grant", {}, as_="3001")
                body["approval_id"] = r.json()["id"]
        self.call(f"/api/v1/stays/{stay}/measure", body, as_="1001")

    @rule(stay=consumes(stays), resolve_all=st.booleans(),
          disposition=st.sampled_from(["released", "to_detention_centre", "bail"]))
    def exit(self, stay: str, resolve_all: bool, disposition: str) -> None:
        self.call(f"/api/v1/stays/{stay}/exit", {"disposition": disposition})
        v = self.view(stay) if stay in self.known else None
        if not v:
            return
        items = v["property"]["items"][: None if resolve_all else -1]
        self.call(f"/api/v1/stays/{stay}/exit/complete", {
            "exit_search": {"checker_id": "cus-f" if v["subject"]["sex"] == "female" else "cus-m"},
            "items": [{"item_id": i["id"], "disposition": "returned"} for i in items]})

    @rule(minutes=st.integers(1, 400))
    def time_passes(self, minutes: int) -> None:
        self.client.portal.call(self.clock.advance_async, minutes * 60)  # type: ignore[union-attr]

    @invariant()
    def only_lawful_moves_and_closed_is_closed(self) -> None:
        for stay_id, before in list(self.known.items()):
            now = self.view(stay_id)
            a, b = StayState(before["state"]), StayState(now["state"])
            if a is StayState.EXITED:
                assert now["version"] == before["version"] and b is a, "an exited stay changed"
            elif a is not b:
                # one command per step, but a step may chain (e.g. exit + exit_complete): follow the path
                # a witness or victim takes the light path (domain/stay.py), a suspect the full one
                edges = LIGHT_EDGES if now["role"] in ("witness", "victim") else EDGES
                assert (a, b) in edges or any((a, m) in edges and (m, b) in edges for m in StayState), (a, b)
            if b is not StayState.EXITED:
                assert now["deadline_at"], "an open stay without a deadline"
            else:
                assert all(i["disposition"] for i in now["property"]["items"]), "exited with unresolved property"
            self.known[stay_id] = now

    @invariant()
    def measures_keep_their_clock_and_their_exits(self) -> None:
        from controller.domain.measures import DECIDED, exits_for

        for stay_id, v in self.known.items():
            m = DECIDED.get(v["legal_basis"])
            if m is not None and m.hours is not None:
                assert (datetime.fromisoformat(v["deadline_at"]) - datetime.fromisoformat(v["basis_started_at"])
                        == timedelta(hours=m.hours)), v
            if v["state"] in ("exiting", "exited"):
                assert v["disposition"] in exits_for(v["legal_basis"]), (stay_id, v["legal_basis"], v["disposition"])

    @invariant()
    def approvals_are_proven_and_used_once(self) -> None:
        for a in self.call("/api/v1/approvals", method="GET").json():
            if a["state"] in ("granted", "used", "refused"):
                assert a["decided_by"] == "sup-1" and a["method"] == "session", a
            if a["state"] == "used":
                timeline = self.view(a["stay_id"])["timeline"]
                naming = [e for e in timeline if (e["after"] or {}).get("approval", {}).get("approval_id") == a["id"]]
                assert len(naming) == 1, (a, naming)
                assert naming[0]["after"]["approval"]["granted_by"] == "sup-1"

    @invariant()
    def audit_chain_verifies(self) -> None:
        r = self.call("/api/v1/audit/verify", as_="9001", method="GET")
        assert r.json()["ok"] is True


@pytest.mark.slow
def test_custody_state_machine(template_db: Path) -> None:
    TEMPLATE["db"] = template_db
    run_state_machine_as_test(CustodyMachine, settings=settings(
        max_examples=4, stateful_step_count=15, deadline=None, suppress_health_check=list(HealthCheck),
        database=None, derandomize=True))
