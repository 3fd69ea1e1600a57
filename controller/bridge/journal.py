"""The bridge's memory of executed commands, so a command runs at most once across a bridge restart.

Before a command drives a device its request id is written ``started`` (flushed and fsynced); after, its result.
After a restart (a crash, a SIGKILL) the same request id, redelivered by the broker or sent again by the
controller, gets the stored result (``replayed``), or -- when the bridge died between ``started`` and the result --
``BRIDGE_INDETERMINATE``: the device may have acted, so it is not driven a second time; the use case records
the failure and the person retries with a new request. Entries older than ``KEEP_S`` are dropped at load: the
controller's commands expire long before (``Command.expires_at``).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import IO

from .messages import CommandResult

KEEP_S = 24 * 3600.0


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.started: dict[str, float] = {}
        self.results: dict[str, CommandResult] = {}
        self._load()
        self._file: IO[str] = self._compact()

    def _load(self) -> None:
        if not self.path.exists():
            return
        horizon = time.time() - KEEP_S
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by the crash: its command was not confirmed 'started', so never executed
            if row.get("at", 0) < horizon:
                continue
            rid = row["id"]
            if row["state"] == "started":
                self.started[rid] = row["at"]
            elif row["state"] == "done":
                self.results[rid] = CommandResult.model_validate(row["result"])

    def _compact(self) -> IO[str]:
        tmp = self.path.with_suffix(".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            for rid, at in self.started.items():
                f.write(json.dumps({"id": rid, "state": "started", "at": at}) + "\n")
            for rid, res in self.results.items():
                f.write(json.dumps({"id": rid, "state": "done", "at": self.started.get(rid, time.time()),
                                    "result": res.model_dump(mode="json")}) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        return open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (kept open for appends, closed in close())

    def _append(self, row: dict[str, object]) -> None:
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def known(self, request_id: str) -> CommandResult | None:
        """The answer to a request id seen before: its stored result, or 'indeterminate' if it never finished."""
        done = self.results.get(request_id)
        if done is not None:
            return done.model_copy(update={"replayed": True})
        if request_id in self.started:
            return CommandResult(request_id=request_id, ok=False, code="BRIDGE_INDETERMINATE", replayed=True,
                                 message="the bridge restarted while executing this command; not executed again",
                                 message_zh="设备桥接进程在执行时重启，未重复执行")
        return None

    def start(self, request_id: str) -> None:
        at = time.time()
        self.started[request_id] = at
        self._append({"id": request_id, "state": "started", "at": at})

    def finish(self, result: CommandResult) -> None:
        self.results[result.request_id] = result
        self._append({"id": result.request_id, "state": "done", "at": time.time(),
                      "result": result.model_dump(mode="json")})

    def close(self) -> None:
        self._file.close()
