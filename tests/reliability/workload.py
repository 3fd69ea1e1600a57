"""A workload driver for the reliability tests and the soak: many concurrent stays through the REST API, and,
given a hw_sim control URL, through the simulated devices as the world would drive them (a card placed at the
registration reader, a walk through the gate, the locker door shut on the subject's things, a wristband moving
into the waiting room).

Every answer is recorded in a :class:`Ledger`: a request is counted as *attempted* (under the outbox type it would
write) before it is sent, and as *acknowledged* only on a 2xx. After a fault the checks compare the database with
the ledger: every acknowledged change must be there, and nothing may be there that was never attempted.

A worker resumes open stays from where they are (the ledger, after a restart, is rebuilt from ``GET /stays``), so a
crash loop never piles up abandoned stays.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import PASSWORD, registration

# the state a stay is in after each step, and the outbox type the step writes
STATE_ORDER = ["registered", "searched", "collected", "property_stored", "waiting", "in_activity", "exiting",
               "exited"]
ROOMS = ["wait-1", "wait-2", "wait-3", "wait-4", "wait-5"]
BAND_OF_ROOM = {"wait-1": "band-wait-1", "wait-2": "band-wait-2"}  # the readers the test site keeps
_tags = itertools.count(1)


class Gone(Exception):
    """The controller stopped answering (killed, or the connection broke)."""


@dataclass
class Ledger:
    attempted: Counter[str] = field(default_factory=Counter)  # outbox type -> requests sent
    acked: Counter[str] = field(default_factory=Counter)  # outbox type -> 2xx answers
    stays: dict[str, str] = field(default_factory=dict)  # stay id -> last acknowledged state
    changes: list[dict[str, Any]] = field(default_factory=list)  # every 2xx change, in order of answer
    opens_attempted: Counter[str] = field(default_factory=Counter)  # locker id -> POST /lockers/{id}/open sent
    opens_acked: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)  # stable error code -> count (4xx: expected)
    errors: Counter[str] = field(default_factory=Counter)  # 5xx code or transport error -> count
    latencies: list[float] = field(default_factory=list)  # seconds, every API call

    _waiters: list[tuple[int, asyncio.Event]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.changes)

    def record(self, change: dict[str, Any]) -> None:
        self.changes.append(change)
        for n, ev in self._waiters:
            if self.total >= n:
                ev.set()

    def reached(self, n: int) -> asyncio.Event:
        """An event set once ``n`` changes in all have been acknowledged (crash tests kill on a count)."""
        ev = asyncio.Event()
        if self.total >= n:
            ev.set()
        self._waiters = [w for w in self._waiters if not w[1].is_set()] + [(n, ev)]
        return ev

    def drain_latencies(self) -> list[float]:
        out, self.latencies = self.latencies, []
        return out


class Workload:
    """Drives stays until ``stop`` is set. ``keep_open`` stays wait in their room (the soak's 200 open stays)
    instead of exiting; ``sim_url`` adds the device side."""

    def __init__(self, url: str, token: str, ledger: Ledger, *, rng: random.Random | None = None,
                 sim_url: str | None = None, keep_open: int = 0, open_lockers: bool = True,
                 timeout: float = 10.0, max_open: int | None = None, max_lockers: int | None = None,
                 resume: bool = True) -> None:
        self.url, self.token, self.ledger = url, token, ledger
        self.rng = rng or random.Random(0)
        self.sim_url = sim_url
        self.keep_open = keep_open
        self.open_lockers = open_lockers
        self.timeout = timeout
        self.max_open, self.max_lockers, self.resume_open = max_open, max_lockers, resume
        self.stop = asyncio.Event()
        self.free_lockers: list[str] = []
        self.locker_pos: dict[str, tuple[str, int, int]] = {}
        self.resume: list[dict[str, Any]] = []
        self.parked = 0
        self._sim_client: httpx.AsyncClient | None = None

    # --- set-up ------------------------------------------------------------------------------------------------

    async def prepare(self, client: httpx.AsyncClient) -> None:
        """Free lockers and the open stays to resume, read from the controller (after a restart too)."""
        lockers = await self._get(client, "/api/v1/lockers")
        self.free_lockers = [lk["id"] for lk in lockers if lk["state"] == "free"]
        self.rng.shuffle(self.free_lockers)
        if self.max_lockers is not None:
            self.free_lockers = self.free_lockers[:self.max_lockers]
        self.locker_pos = {lk["id"]: (lk.get("bus") or "lock-bus-1", lk["board"], lk["channel"]) for lk in lockers}
        stays = await self._get(client, "/api/v1/stays?state=open")
        self.resume = [s for s in stays if s["state"] in STATE_ORDER] if self.resume_open else []
        self.parked = sum(1 for s in self.resume if s["state"] == "waiting")
        self.rng.shuffle(self.resume)

    # --- one call ----------------------------------------------------------------------------------------------

    async def _call(self, client: httpx.AsyncClient, method: str, path: str, body: Any = None) -> httpx.Response:
        t0 = time.perf_counter()
        try:
            r = await client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            self.ledger.errors[type(exc).__name__] += 1
            raise Gone(str(exc)) from None
        self.ledger.latencies.append(time.perf_counter() - t0)
        if r.status_code >= 500:
            code = r.json().get("code", str(r.status_code)) if r.content else str(r.status_code)
            self.ledger.errors[code] += 1
        elif r.status_code >= 400:
            self.ledger.refusals[r.json().get("code", str(r.status_code))] += 1
        return r

    async def _get(self, client: httpx.AsyncClient, path: str) -> Any:
        r = await self._call(client, "GET", path)
        if r.status_code != 200:
            raise AssertionError(f"GET {path}: {r.status_code} {r.text[:300]}")
        return r.json()

    async def change(self, client: httpx.AsyncClient, path: str, body: Any, outbox_type: str,
                     stay_id: str | None = None, then: str | None = None) -> httpx.Response:
        """A state-changing request, counted in the ledger before it is sent and again on a 2xx. ``then``: the
        stay's state after it, for answers that are not the stay (an activity, a locker)."""
        self.ledger.attempted[outbox_type] += 1
        r = await self._call(client, "POST", path, body)
        if 200 <= r.status_code < 300:
            self.ledger.acked[outbox_type] += 1
            data = r.json()
            sid = stay_id or (data.get("id") if isinstance(data, dict) else None)
            state = then or (data.get("state") if isinstance(data, dict) else None)
            if sid and state in STATE_ORDER:
                self.ledger.stays[sid] = state
            self.ledger.record({"type": outbox_type, "stay_id": sid, "state": state, "path": path})
        return r

    async def sim(self, device_id: str, action: str, **params: Any) -> None:
        """Acts on the simulated device as a person would (hw_sim control interface)."""
        if self.sim_url is None:
            return
        if self._sim_client is None:
            self._sim_client = httpx.AsyncClient(base_url=self.sim_url, timeout=self.timeout)
        r = await self._sim_client.post(f"/devices/{device_id}/actions/{action}", json={"params": params})
        r.raise_for_status()

    # --- a stay, from wherever it is, to exit (or parked in its waiting room) ----------------------------------

    async def drive(self, client: httpx.AsyncClient, stay: dict[str, Any]) -> None:
        sid = stay["id"]
        state = stay["state"]
        if "property" not in stay and state not in ("registered", "searched", "collected"):
            stay = await self._get(client, f"/api/v1/stays/{sid}")  # a resumed stay: its locker and activities
        activity_done = bool(stay.get("activities"))
        locker = (stay.get("property") or {}).get("locker_id")
        while state != "exited" and not self.stop.is_set():
            if state == "registered":
                await self.sim("gate-1", "walk_through")
                r = await self.change(client, f"/api/v1/stays/{sid}/search", {
                    "checker_id": "cus-m", "witness_id": "off-1", "gate_result": "pass"}, "stay_searched", sid)
            elif state == "searched":
                r = await self.change(client, f"/api/v1/stays/{sid}/collection",
                                      {"fingerprints_taken": True, "dna_taken": False}, "stay_collected", sid)
            elif state == "collected":
                if not self.free_lockers:
                    return  # every compartment is taken: leave it for a later pass
                locker = self.free_lockers.pop()
                r = await self.change(client, f"/api/v1/stays/{sid}/property", {
                    "custodian_id": "cus-f", "locker_id": locker,
                    "items": [{"description": "手机", "quantity": 1, "category": "phone"}]}, "property_stored", sid)
                if r.status_code == 200:
                    await self._shut_locker(locker, item=True)
                else:
                    self.free_lockers.insert(0, locker)
            elif state == "property_stored":
                room = self.rng.choice(ROOMS)
                body: dict[str, Any] = {"room_id": room}
                r = await self.change(client, f"/api/v1/stays/{sid}/placement", body, "stay_placed", sid)
                if r.status_code == 409 and r.json().get("code") != "LOCKER_NOT_CLOSED":
                    # the duty supervisor approves at this terminal by step-up (his own police number + password)
                    ask = await self.change(client, "/api/v1/approvals", {
                        "kind": "placement_override", "stay_id": sid, "room_id": room, "reason": "负载测试 load test"},
                        "approval_requested", sid, then=state)
                    if ask.status_code == 201:
                        await self.change(client, f"/api/v1/approvals/{ask.json()['id']}/grant",
                                          {"step_up": {"police_no": "3001", "password": PASSWORD}},
                                          "approval_granted", sid, then=state)
                        body["approval_id"] = ask.json()["id"]
                    r = await self.change(client, f"/api/v1/stays/{sid}/placement", body, "stay_placed", sid)
                if r.status_code == 200 and stay.get("wristband_id") and room in BAND_OF_ROOM:
                    await self.sim(BAND_OF_ROOM[room], "tag_move", tag_id=stay["wristband_id"])
            elif state == "waiting":
                if self.keep_open and self.parked < self.keep_open:
                    self.parked += 1
                    return  # parked: an open stay that stays in its room
                if locker and self.open_lockers and self.rng.random() < 0.5:
                    # a custodian opens the compartment (e.g. to fetch a document): one opening per request
                    self.ledger.opens_attempted[locker] += 1
                    r = await self.change(client, f"/api/v1/lockers/{locker}/open", {"reason": "取证件 fetch papers"},
                                          "locker_opened", sid, then="waiting")
                    if r.status_code == 200:
                        self.ledger.opens_acked[locker] += 1
                        await self._shut_locker(locker, item=True)
                if not activity_done:
                    r = await self.change(client, f"/api/v1/stays/{sid}/activities", {
                        "kind": "medical_check", "performed_by_id": "cus-m"}, "activity_started", sid, "in_activity")
                    if r.status_code == 201:
                        stay = {**stay, "state": "in_activity",
                                "activities": [{"id": r.json()["activity_id"], "ended_at": None}]}
                        state = "in_activity"
                        continue
                else:
                    r = await self.change(client, f"/api/v1/stays/{sid}/exit", {"disposition": "released"},
                                          "exit_started", sid)
            elif state == "in_activity":
                if not stay.get("activities"):
                    stay = await self._get(client, f"/api/v1/stays/{sid}")
                act = next(a for a in stay["activities"] if a["ended_at"] is None)
                r = await self.change(client, f"/api/v1/activities/{act['id']}/end", {"result": "正常 normal"},
                                      "activity_ended", sid, "waiting")
                activity_done = True
                if r.status_code == 200:
                    stay, state = {**stay, "state": "waiting"}, "waiting"
                    continue
            elif state == "exiting":
                if not stay.get("property", {}).get("items"):
                    stay = await self._get(client, f"/api/v1/stays/{sid}")
                    locker = stay["property"]["locker_id"]
                if locker:
                    await self._shut_locker(locker, item=False)
                items = [{"item_id": i["id"], "disposition": "travels_with_subject"}
                         for i in stay["property"]["items"] if i["disposition"] is None]
                r = await self.change(client, f"/api/v1/stays/{sid}/exit/complete", {
                    "exit_search": {"checker_id": "cus-m"}, "items": items}, "stay_exited", sid)
                if r.status_code == 200 and locker:
                    self.free_lockers.insert(0, locker)
            else:
                return
            if r.status_code >= 300:
                code = r.json().get("code") if r.content else None
                if code == "LOCKER_NOT_CLOSED":
                    await asyncio.sleep(0.05)  # the door's report is on its way over the pty; ask again
                    continue
                raise AssertionError(f"{state}: {r.status_code} {r.text[:400]}")
            new = r.json()
            if isinstance(new, dict) and new.get("state") in STATE_ORDER:
                stay = new
                state = new["state"]

    async def _shut_locker(self, locker: str, item: bool) -> None:
        if self.sim_url is None or locker not in self.locker_pos:
            return
        bus, board, channel = self.locker_pos[locker]
        await self.sim(bus, "put_item" if item else "remove_item", board=board, channel=channel)
        await self.sim(bus, "close_door", board=board, channel=channel)

    async def register(self, client: httpx.AsyncClient) -> dict[str, Any] | None:
        body = registration(case_no=f"K-{self.rng.randrange(10**9)}")
        if self.sim_url is not None:
            body["wristband_id"] = f"tag-w{next(_tags)}-{self.rng.randrange(10**6)}"
            await self.sim("idr-reg", "place_card")
        r = await self.change(client, "/api/v1/stays", body, "stay_registered")
        if r.status_code != 201:
            raise AssertionError(f"registration: {r.status_code} {r.text[:400]}")
        return dict(r.json())

    # --- workers -----------------------------------------------------------------------------------------------

    async def worker(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=self.timeout) as client:
            try:
                while not self.stop.is_set():
                    if not self.resume and self.max_open is not None and self.open_count() >= self.max_open:
                        return  # enough open stays: this worker's job is done
                    stay = self.resume.pop() if self.resume else await self.register(client)
                    if stay is not None:
                        await self.drive(client, stay)
            except Gone:
                return  # the controller is gone: the test decides what happens next

    def open_count(self) -> int:
        return sum(1 for st in self.ledger.stays.values() if st != "exited")

    async def run(self, workers: int) -> None:
        """Runs ``workers`` concurrent workers until ``stop`` is set or the controller goes away."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=self.timeout) as client:
            try:
                await self.prepare(client)
            except Gone:
                return
        try:
            await asyncio.gather(*(self.worker() for _ in range(workers)))
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        if self._sim_client is not None:
            await self._sim_client.aclose()
            self._sim_client = None


async def login(url: str, police_no: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        r = await c.post("/api/v1/auth/login", json={"police_no": police_no, "password": password})
        r.raise_for_status()
        return str(r.json()["token"])
