"""Sign-in rate limit per client address (a sliding window), on top of the per-account lockout."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from ..domain.errors import RuleViolation


class LoginLimiter:
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
        q.append(now)
        if len(self._seen) > 10000:  # bounded memory under a spray of addresses
            self._seen = {k: v for k, v in self._seen.items() if v and now - v[-1] <= self.window}
