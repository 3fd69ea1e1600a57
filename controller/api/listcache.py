"""The ledger's answer kept between commits: ``GET /stays`` for the whole centre is read and encoded once per
committed change, not once per kiosk poll.

The ledger's rows hold stored data only (no "now"-dependent figure: the screens count down themselves), so the
same rows answer every poll until the next commit. The database counts its commits (``Database.commits``, advanced
in the writer thread as each transaction commits): an answer is kept under the count read before it was made and
used only while the count is unchanged, so a commit during the read is never hidden. Presence reports and the
typed deltas are no commits and keep it. Only the centre-wide view is kept (the actor's access, checked per request
as before, admits every stay); a case officer's filtered ledger, which also depends on his duty's time window, is
read each time.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import Response

from ..store.db import Database

Key = tuple[Any, ...]


def encode(content: Any) -> bytes:
    """What FastAPI's JSONResponse sends for ``content``."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode("utf-8")


class ListCache:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._kept: dict[Key, tuple[int, bytes]] = {}
        self.hits = 0
        self.misses = 0

    @property
    def generation(self) -> int:
        return self.db.commits

    def get(self, key: Key) -> bytes | None:
        kept = self._kept.get(key)
        if kept is not None and kept[0] == self.db.commits:
            self.hits += 1
            return kept[1]
        self.misses += 1
        return None

    async def answer(self, key: Key | None, read: Callable[[], Awaitable[Any]]) -> Response:
        """The JSON answer of ``read()``: kept under ``key`` until the next commit (no key: read every time)."""
        body = self.get(key) if key is not None else None
        if body is None:
            generation = self.generation
            body = encode(await read())
            if key is not None:
                self.put(key, generation, body)
        return Response(body, media_type="application/json")

    def put(self, key: Key, generation: int, body: bytes) -> None:
        """Keeps ``body`` if no commit came between the count read before its read (``generation``) and now."""
        if generation == self.db.commits:
            self._kept = {key: (generation, body), **{k: v for k, v in self._kept.items() if v[0] == generation}}
