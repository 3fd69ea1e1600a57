"""The pusher: sends the outbox to the central platform in seq order, in signed batches, through any outage.

- One batch at a time, oldest first, each HMAC-signed (``devices.central_platform.protocol``). The next batch is
  read and encoded on the database thread while the current one is on the wire.
- The platform's acknowledged seq is written (KeyValue ``sync.acked``) only after its 2xx answer lists every event
  of the batch up to that seq as accepted. A crash between the platform applying a batch and that write means the
  batch is sent again; the platform applies by event id, so it applies nothing twice.
- Failures (network, timeout, 5xx, 401/409 refusals, a malformed answer) never advance the cursor; they are
  reported in the status and retried after a capped exponential backoff with jitter.
- One pusher at a time, even across processes: a lease row (KeyValue ``sync.lease``: owner, expiry) taken in a
  write transaction (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` elsewhere) and renewed with every
  acknowledgement; the cursor is written only by the lease holder, and never moves back.
- Time: ``clock`` is the domain clock (the lag in seconds is measured against the changes' ``occurred_at``);
  ``wall`` signs requests and times leases, which other processes must agree on. ``sleep`` waits out a backoff;
  tests inject both so nothing waits for real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from devices.central_platform.protocol import KeyFileError, load_key, sign

from ..clock import Clock, SystemClock
from ..domain.actor import Actor
from ..hub import Hub
from ..settings import SyncConfig
from ..store.db import Database, UnitOfWork
from ..store.tables import KeyValue
from . import feed

log = logging.getLogger(__name__)

LEASE_KEY = "sync.lease"
ACTOR = Actor.system("sync")
STATUS_EVENT = "sync_status"


class PushError(Exception):
    """One failed push. ``status`` is the platform's HTTP status (None: no answer); ``reason`` a stable code."""

    def __init__(self, reason: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): ``min(cap, base * 2**attempt)``, with equal
    jitter (half fixed, half random) so many centres coming back at once do not retry in step."""
    d = min(cap, base * (2 ** min(attempt, 32)))
    return d / 2 + rng.uniform(0, d / 2)


@dataclass
class LiveState:
    role: str = "stopped"  # stopped | standby | active | disabled
    last_success_at: str | None = None
    last_error: str | None = None
    last_error_reason: str | None = None
    last_error_status: int | None = None
    last_error_at: str | None = None
    consecutive_failures: int = 0
    failures_total: int = 0
    batches_acked: int = 0
    changes_acked: int = 0
    next_retry_in_s: float | None = None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _owner_is_dead(owner: str) -> bool:
    """True only when the owner was a process on this host that no longer exists (restarted after a kill or a
    power cut): its lease need not be waited out. Anything unsure counts as alive."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _lease_free(v: dict[str, Any], owner: str, now_s: float) -> bool:
    other = str(v.get("owner", ""))
    return other == owner or float(v.get("expires_at", 0)) <= now_s or _owner_is_dead(other)


def _take_lease(session: Session, owner: str, now_s: float, ttl: float) -> bool:
    row = session.get(KeyValue, LEASE_KEY, with_for_update=True)
    if row is None:
        session.add(KeyValue(key=LEASE_KEY, value={"owner": owner, "expires_at": now_s + ttl, "since": now_s}))
        session.flush()
        return True
    v = row.value or {}
    if not _lease_free(v, owner, now_s):
        return False
    since = v.get("since", now_s) if v.get("owner") == owner else now_s
    row.value = {"owner": owner, "expires_at": now_s + ttl, "since": since}  # a new dict: JSON columns track assignment
    session.add(row)
    return True


def _lease_holder(session: Session) -> dict[str, Any] | None:
    row = session.get(KeyValue, LEASE_KEY)
    return dict(row.value) if row is not None else None


def _release_lease(session: Session, owner: str) -> None:
    row = session.get(KeyValue, LEASE_KEY, with_for_update=True)
    if row is not None and (row.value or {}).get("owner") == owner:
        session.delete(row)


def _record_ack(session: Session, owner: str, seq: int, now_s: float, ttl: float) -> bool:
    """Writes the acknowledged seq and renews the lease, if this pusher still holds it. Never moves back."""
    if not _take_lease(session, owner, now_s, ttl):
        return False
    row = session.get(KeyValue, feed.ACKED_KEY, with_for_update=True)
    current = int(row.value.get("seq", 0)) if row is not None else 0
    value = {"seq": max(seq, current), "at": _iso(now_s), "by": owner}
    if row is None:
        session.add(KeyValue(key=feed.ACKED_KEY, value=value))
    else:
        row.value = value
        session.add(row)
    return True


class Pusher:
    """Started and stopped by the app lifespan (``Container.lifecycle``)."""

    def __init__(self, db: Database, site_id: str, config: SyncConfig, *, clock: Clock,
                 wall: Clock | None = None, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 rng: random.Random | None = None, hub: Hub | None = None, key: bytes | None = None,
                 owner: str | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        if config.platform_url is None:
            raise ValueError("no sync.platform_url configured")
        self.db = db
        self.site_id = site_id
        self.config = config
        self.url = config.platform_url
        self.clock = clock
        self.wall = wall or SystemClock()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.hub = hub
        self._key = key
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._transport = transport
        self.state = LiveState()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._lease_until = 0.0
        self._last_published = 0.0
        self._recording: tuple[asyncio.Task[bool], feed.Batch, int, float] | None = None
        if hub is not None:
            hub.on_event(self._on_hub_event)

    # lifecycle ---------------------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._key is None:
            try:
                assert self.config.key_file is not None  # SyncConfig requires it with a platform_url
                self._key = load_key(self.config.key_file)
            except KeyFileError as exc:
                # The centre keeps working; sync stays off and says why (status, metrics, log, dashboard).
                self.state.role = "disabled"
                self._fail(PushError("key_file", str(exc)))
                log.error("central platform sync disabled: %s", exc)
                return
        self._stopping = False
        self._client = httpx.AsyncClient(timeout=self.config.request_timeout_seconds, transport=self._transport)
        self._task = asyncio.create_task(self._run(), name="sync-pusher")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            with contextlib.suppress(Exception):  # a lease we cannot release simply expires
                await self.db.write(ACTOR, lambda uow: _release_lease(uow.session, self.owner))
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self.state.role != "disabled":
            self.state.role = "stopped"

    def _reload_key(self) -> None:
        """After a 401 the key may have been rotated (``<key>.prev`` kept for the platform's hand-over): read the
        key file again, so a rotation needs no restart. A file that fails the mode check keeps the old key."""
        if self.config.key_file is None:
            return
        try:
            key = load_key(self.config.key_file)
        except KeyFileError as exc:
            log.error("sync: key file not reloaded: %s", exc)
            return
        if key != self._key:
            log.info("sync: key file changed; signing with the new key")
            self._key = key

    def wake(self) -> None:
        """Look for new rows (or a free lease) now rather than at the next poll."""
        self._wake.set()

    def _on_hub_event(self, ev: dict[str, Any]) -> None:
        if ev.get("type") != STATUS_EVENT and not self._stopping:
            self._wake.set()

    # the loop ----------------------------------------------------------------------------------------------------

    async def _idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _hold_lease(self) -> bool:
        now = self.wall.now().timestamp()
        ttl = self.config.lease_seconds
        if now < self._lease_until - ttl / 2:
            return True
        holder = await self.db.read(_lease_holder)
        if holder and not _lease_free(holder, self.owner, now):
            self._lease_until = 0.0
            return False
        try:
            got = await self.db.write(ACTOR, lambda uow: _take_lease(uow.session, self.owner, now, ttl))
        except IntegrityError:  # another process inserted the first lease row at the same moment
            got = False
        self._lease_until = now + ttl if got else 0.0
        return got

    async def _run(self) -> None:
        while not self._stopping:
            try:
                if not await self._hold_lease():
                    if self.state.role != "standby":
                        self.state.role = "standby"
                        log.info("sync: another pusher holds the lease; standing by")
                    await self._idle(max(0.5, self.config.lease_seconds / 3))
                    continue
                if self.state.role != "active":
                    self.state.role = "active"
                    log.info("sync: lease taken, pushing to %s", self.url)
                outcome = await self._drain()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a database hiccup must not kill sync for good
                log.exception("sync: unexpected error")
                outcome = PushError("internal", f"{type(exc).__name__}: {exc}")
            if outcome is None:
                await self._idle(self.config.poll_seconds)
            elif isinstance(outcome, PushError):
                self._fail(outcome)  # the backoff grows with failures in a row; any acknowledged batch resets it
                if outcome.status == 401:
                    self._reload_key()
                delay = backoff_delay(self.state.consecutive_failures - 1, self.config.retry_base_seconds,
                                      self.config.retry_cap_seconds, self._rng)
                self.state.next_retry_in_s = round(delay, 3)
                await self._publish(force=self.state.consecutive_failures == 1)
                await self._sleep(delay)
                self.state.next_retry_in_s = None

    async def _drain(self) -> PushError | bool | None:
        """Pushes until the outbox is empty (None), a push fails (the error) or the lease is lost (False)."""
        try:
            outcome = await self._pump()
        finally:
            held = await self._settle()
        return outcome if held else False

    async def _pump(self) -> PushError | bool | None:
        # Three things overlap: batch N on the wire, batch N+1 being read and encoded, and the acknowledgement of
        # N-1 being written. The write of N-1 is settled before N's is started, so acknowledgements stay in order
        # and each is recorded only after its 2xx.
        cfg, entitled = self.config, self.config.include_identity_numbers
        acked = await self.db.read(feed.acked_seq)

        def read(after: int) -> Callable[[Session], feed.Batch | None]:
            return lambda s: feed.next_batch(s, self.site_id, after, cfg.batch_size, entitled)

        batch = await self.db.read(read(acked))
        while batch is not None and not self._stopping:
            prefetch = asyncio.create_task(self.db.read(read(batch.last_seq)))
            try:
                try:
                    acked_to = await self._send(batch)
                except PushError as exc:
                    return exc
                if not await self._settle():
                    return False
                now = self.wall.now().timestamp()
                write = asyncio.create_task(self.db.write(ACTOR, self._ack_writer(acked_to, now)))
                self._recording = (write, batch, acked_to, now)
                if acked_to < batch.last_seq:
                    return True  # a partial acknowledgement: start again from what the platform has
                batch = await prefetch
            finally:
                if not prefetch.done():
                    prefetch.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await prefetch
        if not await self._settle():
            return False
        await self._publish(force=True)
        return None

    async def _settle(self) -> bool:
        """Waits for the acknowledgement being written, if any; False if the lease turned out to be lost."""
        if self._recording is None:
            return True
        write, batch, acked_to, now = self._recording
        self._recording = None
        if not await write:
            self._lease_until = 0.0
            return False
        self._lease_until = now + self.config.lease_seconds
        self._succeed(batch, acked_to, now)
        await self._publish()
        return True

    def _ack_writer(self, seq: int, now_s: float) -> Callable[[UnitOfWork], bool]:
        return lambda uow: _record_ack(uow.session, self.owner, seq, now_s, self.config.lease_seconds)

    async def _send(self, batch: feed.Batch) -> int:
        """POSTs one batch; returns the seq the platform acknowledged, or raises ``PushError``."""
        assert self._client is not None and self._key is not None
        headers = sign(self._key, self.site_id, self.config.site_key_id, batch.body, self.wall.now().timestamp())
        try:
            r = await self._client.post(self.url, content=batch.body, headers=headers)
        except httpx.TimeoutException as exc:
            raise PushError("timeout", f"no answer within {self.config.request_timeout_seconds:g} s "
                                       f"({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise PushError("unreachable", f"{type(exc).__name__}: {exc}") from exc
        try:
            answer = r.json()
        except ValueError:
            answer = None
        if not 200 <= r.status_code < 300:
            code = answer.get("code") if isinstance(answer, dict) else None
            raise PushError(str(code or "http_error"), f"platform answered {r.status_code}"
                            + (f" {code}" if code else ""), status=r.status_code)
        return _check_ack(answer, batch, r.status_code)

    # status ------------------------------------------------------------------------------------------------------

    def _succeed(self, batch: feed.Batch, acked_to: int, now_s: float) -> None:
        st = self.state
        if st.consecutive_failures:
            log.info("sync: platform reachable again after %d failed attempt(s)", st.consecutive_failures)
        st.consecutive_failures = 0
        st.last_success_at = _iso(now_s)
        st.batches_acked += 1
        st.changes_acked += sum(1 for s in batch.seqs if s <= acked_to)

    def _fail(self, exc: PushError) -> None:
        st = self.state
        st.consecutive_failures += 1
        st.failures_total += 1
        st.last_error, st.last_error_reason, st.last_error_status = str(exc), exc.reason, exc.status
        st.last_error_at = _iso(self.wall.now().timestamp())
        if st.consecutive_failures in (1, 10, 100) or st.consecutive_failures % 1000 == 0:
            log.warning("sync: push failed (%s), attempt %d: %s", exc.reason, st.consecutive_failures, exc)

    async def status(self) -> dict[str, Any]:
        now = self.clock.now()

        def read(s: Session) -> dict[str, Any]:
            return feed.lag(s, now)

        lag = await self.db.read(read)
        return {"configured": True, "platform_url": self.url, "owner": self.owner,
                "include_identity_numbers": self.config.include_identity_numbers, **lag, **asdict(self.state)}

    async def _publish(self, force: bool = False) -> None:
        """A live ``sync_status`` event for the dashboard: at most about once a second, or when forced."""
        if self.hub is None:
            return
        now = self.wall.now().timestamp()
        if not force and now - self._last_published < 1.0:
            return
        self._last_published = now
        self.hub.publish([{"type": STATUS_EVENT, "at": self.clock.now().isoformat(), **(await self.status())}])

    async def metrics(self) -> list[str]:
        s = await self.status()
        last_ok = (datetime.fromisoformat(s["last_success_at"]).timestamp() if s["last_success_at"] else 0)
        return [
            "# HELP hcc_sync_lag_rows Outbox rows the central platform has not acknowledged",
            "# TYPE hcc_sync_lag_rows gauge", f"hcc_sync_lag_rows {s['lag_rows']}",
            "# HELP hcc_sync_lag_seconds Age of the oldest unacknowledged change",
            "# TYPE hcc_sync_lag_seconds gauge", f"hcc_sync_lag_seconds {s['lag_seconds']}",
            "# HELP hcc_sync_acked_seq Highest outbox seq the platform acknowledged",
            "# TYPE hcc_sync_acked_seq gauge", f"hcc_sync_acked_seq {s['acked_seq']}",
            "# HELP hcc_sync_active 1 if this process holds the push lease",
            "# TYPE hcc_sync_active gauge", f"hcc_sync_active {1 if s['role'] == 'active' else 0}",
            "# HELP hcc_sync_last_success_timestamp_seconds Unix time of the last acknowledged batch",
            "# TYPE hcc_sync_last_success_timestamp_seconds gauge",
            f"hcc_sync_last_success_timestamp_seconds {last_ok}",
            "# HELP hcc_sync_failures_total Failed push attempts", "# TYPE hcc_sync_failures_total counter",
            f"hcc_sync_failures_total {s['failures_total']}",
            "# HELP hcc_sync_changes_acked_total Changes acknowledged by the platform",
            "# TYPE hcc_sync_changes_acked_total counter", f"hcc_sync_changes_acked_total {s['changes_acked']}",
        ]


def _check_ack(answer: Any, batch: feed.Batch, status: int) -> int:
    """The acknowledged seq, if the answer lists every event of the batch up to it as accepted."""
    if not isinstance(answer, dict) or not isinstance(answer.get("acked_seq"), int) \
            or not isinstance(answer.get("accepted"), list):
        raise PushError("bad_ack", "platform's answer has no acked_seq/accepted list", status=status)
    acked = answer["acked_seq"]
    if acked not in batch.seqs:
        raise PushError("bad_ack", f"platform acknowledged seq {acked}, not one of this batch's", status=status)
    accepted = set(answer["accepted"])
    missing = [e for s, e in zip(batch.seqs, batch.event_ids, strict=True) if s <= acked and e not in accepted]
    if missing:
        raise PushError("bad_ack", f"platform acknowledged seq {acked} without accepting {len(missing)} event(s)",
                        status=status)
    return acked


def build_pusher(db: Database, site_id: str, config: SyncConfig, clock: Clock, hub: Hub | None) -> Pusher:
    """The production pusher: system wall clock, real sleep, key read from the 0600 key file on start."""
    return Pusher(db, site_id, config, clock=clock, hub=hub)

