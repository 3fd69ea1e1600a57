"""Sign-in rate limit per client address (a sliding window), on top of the per-account lockout."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from ..domain.errors import RuleViolation


class LoginLimiter:
    """Failed sign-ins per client address in a sliding window (a spray across many accounts from one place).
    Only failures count: a busy kiosk where staff sign in and out all day is never slowed by its own success."""

    def __init__(self, attempts: int = 10, window: timedelta = timedelta(minutes=1)) -> None:
        self.attempts, self.window = attempts, window
        self._seen: dict[str, deque[datetime]] = {}

    def check(self, client: str, now: datetime) -> None:
        q = self._seen.setdefault(client, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        if len(q) >= self.attempts:
            raise RuleViolation("TOO_MANY_ATTEMPTS", "登录尝试过于频繁，请稍后再试", "too many sign-in attempts; wait a minute",
                                status=429)

    def failed(self, client: str, now: datetime) -> None:
        self._seen.setdefault(client, deque()).append(now)
        if len(self._seen) > 10000:  # bounded memory under a spray of addresses
            self._seen = {k: v for k, v in self._seen.items() if v and now - v[-1] <= self.window}


class SignInBackoff:
    """Back-off per account and source, instead of a lock anyone could trigger: after FREE failures of one
    account from one address, that pair waits BASE, then twice as long after each further failure (up to CAP)
    before its next try. The account stays open from every other address, so a colleague's mistyping (or an
    attacker's spraying) never shuts the real user out; a known and an unknown account are slowed alike."""

    FREE = 3
    BASE = timedelta(seconds=2)
    CAP = timedelta(minutes=15)

    def __init__(self) -> None:
        self._state: dict[tuple[str, str], tuple[int, datetime]] = {}  # (account, source) -> (failures, last)

    def wait(self, account: str, source: str, now: datetime) -> timedelta:
        failures, last = self._state.get((account, source), (0, now))
        if failures < self.FREE:
            return timedelta(0)
        delay = min(self.BASE * 2 ** (failures - self.FREE), self.CAP)
        return max(last + delay - now, timedelta(0))

    def check(self, account: str, source: str, now: datetime) -> None:
        left = self.wait(account, source, now)
        if left > timedelta(0):
            seconds = int(left.total_seconds() + 0.999)
            raise RuleViolation("TOO_MANY_ATTEMPTS", f"登录失败次数过多，请{seconds}秒后再试",
                                f"too many failed sign-ins; try again in {seconds} s", status=429,
                                retry_after_s=seconds)

    def failed(self, account: str, source: str, now: datetime) -> None:
        failures, _ = self._state.get((account, source), (0, now))
        self._state[(account, source)] = (failures + 1, now)
        if len(self._state) > 50000:  # bounded memory: forget pairs idle for longer than the cap
            self._state = {k: v for k, v in self._state.items() if now - v[1] <= self.CAP}

    def succeeded(self, account: str, source: str) -> None:
        self._state.pop((account, source), None)
