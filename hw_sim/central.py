"""A central-platform receiver (管控平台) for tests, benchmarks and the demo: a real HTTP server with its own SQLite.

``python -m hw_sim.central --port N --db path --key-file path [--key-id k1] [--window 300]``

It does what a careful platform does with the centre's pushes (``devices.central_platform.protocol``):

- verifies the HMAC signature over the exact body and headers (401 ``BAD_SIGNATURE``, ``UNKNOWN_KEY``), the
  timestamp window (401 ``STALE``), and refuses a nonce it has seen (409 ``REPLAY``);
- applies each change once by ``event_id`` in one transaction per batch; a re-sent batch applies nothing twice
  and is still acknowledged: ``{acked_seq, accepted: [event ids], applied, duplicates}``;
- records arrival order, and counts a new event whose seq is below one already applied (``order_violations``);
- keeps its own occupancy view from the stay events.

Control (loopback, for tests)::

    GET  /healthz
    GET  /control/state                 counters, mode, per-site last seq, requests in flight
    POST /control/mode  {"mode": "normal|fail|stall|slow|random", "delay_s": 0.5, "p": 0.3, "seed": 1}
                        fail: 500 before applying; stall: never answer; slow: apply, then answer after delay_s;
                        random: with probability p a 500, half of them after applying (the answer is lost)
    POST /control/reset                 forget everything (events, nonces, occupancy, counters)
    GET  /control/events?after=&limit=  applied events in arrival order
    GET  /control/occupancy             who the platform believes is inside

Never imports ``controller``: it only knows the wire format.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from devices.central_platform.protocol import DEFAULT_WINDOW_S, SignatureError, load_key, verify

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    arrival INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, site_id TEXT NOT NULL,
    seq INTEGER NOT NULL, type TEXT NOT NULL, occurred_at TEXT, stay_id TEXT, payload TEXT, received_at REAL);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, seen_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sites (site_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS occupancy (site_id TEXT NOT NULL, stay_id TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (site_id, stay_id));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
COUNTERS = ("batches", "applied", "duplicates", "order_violations", "rejected_signature", "rejected_stale",
            "rejected_replay", "rejected_batch", "injected_failures")
MODES = ("normal", "fail", "stall", "slow", "random")


class BadBatch(ValueError):
    pass


class CentralStore:
    """The platform's own database. Each batch is one transaction: events, order, occupancy, counters."""

    def __init__(self, path: Path | str) -> None:
        self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def bump(self, name: str, by: int = 1) -> None:
        self.conn.execute("INSERT INTO counters(name, value) VALUES (?, ?) "
                          "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value", (name, by))

    def counters(self) -> dict[str, int]:
        got = dict(self.conn.execute("SELECT name, value FROM counters").fetchall())
        return {n: int(got.get(n, 0)) for n in COUNTERS}

    def seen_nonce(self, nonce: str, now_s: float, window_s: float) -> bool:
        """True if ``nonce`` was seen; otherwise remembers it. Nonces older than the window are forgotten (a
        request that old is refused as stale anyway)."""
        cur = self.conn.execute("INSERT OR IGNORE INTO nonces(nonce, seen_at) VALUES (?, ?)", (nonce, now_s))
        if cur.rowcount == 0:
            return True
        if random.random() < 0.01:
            self.conn.execute("DELETE FROM nonces WHERE seen_at < ?", (now_s - 2 * window_s,))
        return False

    def apply(self, site_id: str, changes: list[dict[str, Any]], now_s: float) -> dict[str, Any]:
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            row = c.execute("SELECT last_seq FROM sites WHERE site_id = ?", (site_id,)).fetchone()
            last_seq = int(row[0]) if row else 0
            applied = dups = disorder = 0
            for ch in changes:
                cur = c.execute(
                    "INSERT OR IGNORE INTO events(event_id, site_id, seq, type, occurred_at, stay_id, payload,"
                    " received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (ch["event_id"], site_id, ch["seq"], ch["type"], ch.get("occurred_at"), ch.get("stay_id"),
                     json.dumps(ch.get("payload"), ensure_ascii=False), now_s))
                if cur.rowcount == 0:
                    dups += 1
                    continue
                applied += 1
                if ch["seq"] <= last_seq:
                    disorder += 1
                last_seq = max(last_seq, ch["seq"])
                self._occupancy(site_id, ch)
            c.execute("INSERT INTO sites(site_id, last_seq) VALUES (?, ?) "
                      "ON CONFLICT(site_id) DO UPDATE SET last_seq = excluded.last_seq", (site_id, last_seq))
            for name, n in (("batches", 1), ("applied", applied), ("duplicates", dups),
                            ("order_violations", disorder)):
                if n:
                    self.bump(name, n)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return {"acked_seq": changes[-1]["seq"], "accepted": [ch["event_id"] for ch in changes],
                "applied": applied, "duplicates": dups}

    def _occupancy(self, site_id: str, ch: dict[str, Any]) -> None:
        p = ch.get("payload") or {}
        stay_id = ch.get("stay_id")
        if not stay_id or p.get("entity") != "stay":
            return
        key = (site_id, stay_id)
        if ch["type"] == "stay_registered":
            subject = p.get("subject") or {}
            data = {"stay_id": stay_id, "name": subject.get("name"), "sex": subject.get("sex"),
                    "role": p.get("role"), "state": p.get("state"), "room_id": p.get("room_id"),
                    "entered_at": p.get("entered_at") or ch.get("occurred_at"), "deadline_at": p.get("deadline_at"),
                    "in_room_since": None, "id_number_known": "id_number" in subject}
            self.conn.execute("INSERT OR REPLACE INTO occupancy(site_id, stay_id, data) VALUES (?, ?, ?)",
                              (*key, json.dumps(data, ensure_ascii=False)))
            return
        row = self.conn.execute("SELECT data FROM occupancy WHERE site_id = ? AND stay_id = ?", key).fetchone()
        if row is None:
            return
        if p.get("state") == "exited":
            self.conn.execute("DELETE FROM occupancy WHERE site_id = ? AND stay_id = ?", key)
            return
        data = json.loads(row[0])
        if "state" in p:
            data["state"] = p["state"]
        if "room_id" in p and p["room_id"] != data.get("room_id"):
            data["room_id"], data["in_room_since"] = p["room_id"], ch.get("occurred_at")
        if "deadline_at" in p:
            data["deadline_at"] = p["deadline_at"]
        self.conn.execute("UPDATE occupancy SET data = ? WHERE site_id = ? AND stay_id = ?",
                          (json.dumps(data, ensure_ascii=False), *key))

    def occupancy(self) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT site_id, data FROM occupancy ORDER BY site_id, stay_id").fetchall()
        return [{"site_id": s, **json.loads(d)} for s, d in rows]

    def events(self, after: int, limit: int) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT arrival, event_id, site_id, seq, type FROM events WHERE arrival > ? "
                                 "ORDER BY arrival LIMIT ?", (after, limit)).fetchall()
        return [dict(zip(("arrival", "event_id", "site_id", "seq", "type"), r, strict=True)) for r in rows]

    def sites(self) -> dict[str, int]:
        return {s: int(n) for s, n in self.conn.execute("SELECT site_id, last_seq FROM sites").fetchall()}

    def reset(self) -> None:
        for table in ("events", "nonces", "sites", "occupancy", "counters"):
            self.conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


def _parse_batch(body: bytes) -> tuple[str, list[dict[str, Any]]]:
    try:
        batch = json.loads(body)
    except ValueError as exc:
        raise BadBatch("body is not JSON") from exc
    if not isinstance(batch, dict) or not isinstance(batch.get("site_id"), str):
        raise BadBatch("batch must be an object with site_id")
    changes = batch.get("changes")
    if not isinstance(changes, list) or not changes:
        raise BadBatch("changes must be a non-empty list")
    for ch in changes:
        if not isinstance(ch, dict) or not isinstance(ch.get("event_id"), str) or not isinstance(ch.get("seq"), int) \
                or not isinstance(ch.get("type"), str):
            raise BadBatch("each change needs event_id, seq and type")
    return batch["site_id"], changes


def create_app(store: CentralStore, keys: dict[str, bytes], window_s: float = DEFAULT_WINDOW_S,
               path: str = "/api/v1/sync/batches") -> FastAPI:
    app = FastAPI(title="central platform simulator")
    mode: dict[str, Any] = {"mode": "normal", "delay_s": 0.5, "p": 0.0}
    rng = random.Random()
    changed = asyncio.Event()  # a stalled request waits for the mode to change
    inflight = [0]

    @app.post(path)
    async def receive(request: Request) -> JSONResponse:
        inflight[0] += 1
        try:
            return await _receive(request)
        finally:
            inflight[0] -= 1

    async def _receive(request: Request) -> JSONResponse:
        body = await request.body()
        now = time.time()
        try:
            signed = verify(request.headers, body, keys, now, window_s)
        except SignatureError as exc:
            store.bump("rejected_stale" if exc.reason == "stale" else "rejected_signature")
            code = {"stale": "STALE", "unknown_key": "UNKNOWN_KEY"}.get(exc.reason, "BAD_SIGNATURE")
            return _error(401, code, str(exc))
        if store.seen_nonce(signed.nonce, now, window_s):
            store.bump("rejected_replay")
            return _error(409, "REPLAY", "this request was seen before")
        try:
            site_id, changes = _parse_batch(body)
        except BadBatch as exc:
            store.bump("rejected_batch")
            return _error(422, "BAD_BATCH", str(exc))
        if site_id != signed.site:
            store.bump("rejected_batch")
            return _error(422, "BAD_BATCH", "site_id in the body differs from the signed site header")
        m = mode["mode"]
        lose_answer = False
        if m == "fail" or (m == "random" and rng.random() < mode["p"]):
            lose_answer = m == "random" and rng.random() < 0.5
            if not lose_answer:
                store.bump("injected_failures")
                return _error(500, "INJECTED_FAILURE", "told to fail")
        if m == "stall":
            while mode["mode"] == "stall":
                changed.clear()
                await changed.wait()
            return _error(503, "STALLED", "stalled; the answer came after the mode changed")
        ack = store.apply(site_id, changes, now)
        if lose_answer:
            store.bump("injected_failures")
            return _error(500, "INJECTED_FAILURE", "applied, then told to fail before answering")
        if m == "slow":
            await asyncio.sleep(float(mode["delay_s"]))
        return JSONResponse(ack)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"ok": True}

    @app.get("/control/state")
    async def state() -> dict[str, Any]:
        total = store.conn.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchone()
        return {"mode": dict(mode), "counters": store.counters(), "sites": store.sites(), "events": total[0],
                "distinct_events": total[1], "inflight": inflight[0]}

    @app.post("/control/mode")
    async def set_mode(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "BAD_JSON", "body is not JSON")
        if not isinstance(body, dict) or body.get("mode") not in MODES:
            return _error(400, "BAD_MODE", f"mode must be one of {', '.join(MODES)}")
        p, delay = float(body.get("p", 0.0)), float(body.get("delay_s", mode["delay_s"]))
        if not 0.0 <= p <= 1.0 or not 0.0 <= delay <= 600:
            return _error(400, "BAD_MODE", "p must be within 0..1 and delay_s within 0..600")
        mode.update(mode=body["mode"], p=p, delay_s=delay)
        if "seed" in body:
            rng.seed(body["seed"])
        changed.set()
        return JSONResponse({"mode": dict(mode)})

    @app.post("/control/reset")
    async def reset() -> dict[str, Any]:
        store.reset()
        return {"ok": True}

    @app.get("/control/events")
    async def events(after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        return store.events(after, min(limit, 100_000))

    @app.get("/control/occupancy")
    async def occupancy() -> list[dict[str, Any]]:
        return store.occupancy()

    return app


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hw_sim.central", description=__doc__.splitlines()[0] if __doc__
                                 else None)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--key-file", type=Path, required=True, help="the site's key, mode 0600")
    ap.add_argument("--key-id", default="k1")
    ap.add_argument("--extra-key", action="append", default=[], metavar="ID=PATH",
                    help="another accepted key (e.g. the previous one during a rotation); repeatable")
    ap.add_argument("--window", type=float, default=DEFAULT_WINDOW_S, help="timestamp window, seconds")
    ap.add_argument("--log-level", default="WARNING")
    args = ap.parse_args(argv)
    logging.basicConfig(level=args.log_level)
    import uvicorn

    store = CentralStore(args.db)
    keys = {args.key_id: load_key(args.key_file)}
    for item in args.extra_key:
        key_id, sep, path = item.partition("=")
        if not sep or not key_id or not path:
            ap.error(f"--extra-key wants ID=PATH, not {item!r}")
        keys[key_id] = load_key(path)
    app = create_app(store, keys, args.window)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level.lower(),
                            access_log=False, timeout_graceful_shutdown=2)
    try:
        uvicorn.Server(config).run()
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
