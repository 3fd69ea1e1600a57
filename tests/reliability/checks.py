"""What must hold after any fault, checked against a workload's :class:`Ledger`: the database file opens and
passes ``PRAGMA integrity_check``; the outbox is gap-free; every acknowledged change is in it; nothing is in it that
was never asked for; the audit chain verifies through the API."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tests.reliability.workload import Ledger


def check_database(db: Path, ledger: Ledger) -> dict[str, Any]:
    """Reads the file directly while the controller is down (it opens the WAL exactly as a restart would)."""
    con = sqlite3.connect(db, timeout=30)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity_check failed"
        seqs = [r[0] for r in con.execute("SELECT seq FROM outbox ORDER BY seq")]
        assert seqs == list(range(1, len(seqs) + 1)), f"outbox has a gap near {_first_gap(seqs)}"
        audit_n = con.execute("SELECT count(*) FROM audit_entry").fetchone()[0]
        assert audit_n == len(seqs), f"{audit_n} audit entries but {len(seqs)} outbox rows: one each per change"
        per_type = Counter(dict(con.execute("SELECT type, count(*) FROM outbox GROUP BY type").fetchall()))
        for kind, attempted in ledger.attempted.items():
            # acknowledged <= written <= attempted: a change answered 2xx is there; nothing unasked-for is there
            assert ledger.acked[kind] <= per_type[kind] <= attempted, (kind, ledger.acked[kind], per_type[kind],
                                                                       attempted)
        written = Counter(con.execute("SELECT type, stay_id FROM outbox WHERE stay_id IS NOT NULL").fetchall())
        acked = Counter((c["type"], c["stay_id"]) for c in ledger.changes)
        missing = [k for k, n in acked.items() if written[k] < n]
        assert not missing, f"acknowledged changes missing after the crash: {missing[:5]}"
        opened = Counter(dict(con.execute("SELECT entity_id, count(*) FROM audit_entry "
                                          "WHERE action = 'locker_opened' GROUP BY entity_id").fetchall()))
        for locker, n in ledger.opens_acked.items():
            assert n <= opened[locker] <= ledger.opens_attempted[locker], ("locker opened twice?", locker, n,
                                                                          opened[locker])
        return {"outbox": len(seqs), "audit": audit_n}
    finally:
        con.close()


def _first_gap(seqs: list[int]) -> int | None:
    return next((i + 1 for i, s in enumerate(seqs) if s != i + 1), None)


async def check_audit(url: str, admin_token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        r = await c.get("/api/v1/audit/verify", headers={"Authorization": f"Bearer {admin_token}"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True, body
    return dict(body)


async def check_stays(url: str, token: str, ledger: Ledger) -> None:
    """Every stay that got a 2xx is served by the restarted controller, in a state at least as far along."""
    from tests.reliability.workload import STATE_ORDER

    async with httpx.AsyncClient(base_url=url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as c:
        for stay_id, state in ledger.stays.items():
            r = await c.get(f"/api/v1/stays/{stay_id}")
            assert r.status_code == 200, (stay_id, r.text)
            now = r.json()["state"]
            if {state, now} <= {"waiting", "in_activity"}:
                continue  # an activity may have started or ended unacknowledged: both are legal successors
            assert STATE_ORDER.index(now) >= STATE_ORDER.index(state), (stay_id, state, now)


STAFF = [("1001", "off-1", "male", "case_officer"), ("1002", "off-2", "male", "case_officer"),
         ("2001", "cus-f", "female", "custody_staff"), ("2002", "cus-m", "male", "custody_staff"),
         ("3001", "sup-1", "male", "supervisor"), ("9001", "adm-1", "male", "admin")]


def add_staff(proc: Any, password: str) -> None:
    """The staff the workload acts as, added through the CLI as on site."""
    for no, sid, sex, role in STAFF:
        proc.cli("user", "add", "--police-no", no, "--name", sid, "--sex", sex, "--roles", role, "--staff-id", sid,
                 env={"HCC_NEW_PASSWORD": password})
