"""Adapter of one RS-485 lock bus: commands to its boards, a background poll, locker events, availability.

Speaks the published KR-CU16 frames (see ``protocol``). One request is outstanding on the bus at a time; a reply
(always the 9-byte 0x35 status frame of the whole board) is matched by the board address in its ADDR's high nibble. Each try waits
``timeout_s`` (0.1 s) plus the request's wire time; after ``retries`` (3) more tries the command fails with
``DeviceTimeout``. :meth:`LockBoardAdapter.unlock` confirms from the board's own report (the status frame that
answers the unlock) that the latch moved, and fails with ``DeviceRejected`` when it did not (a stuck latch).

The poll reads every board's status (``poll_s``, 0.5 s; 0 turns it off) and emits :class:`LockerChanged` when a door opens or
closes or an item appears or goes: ``cause`` is ``unlock`` after our command, ``forced`` when a door opened with no
command (opened by hand), ``closed``, ``item_placed``, ``item_removed``, or ``initial`` for what the first poll finds
open or occupied. Availability is kept per board (:class:`BoardAvailabilityChanged`) and for the bus: offline when
the port is gone or no board answers, degraded when some board does not answer or needed retries.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devices.base import (
    Availability,
    AvailabilityChanged,
    DeviceError,
    DeviceEvent,
    DeviceRejected,
    EventSink,
)
from devices.lock_board import protocol as p
from devices.serial_device import Health, SerialAdapter

log = logging.getLogger(__name__)

UNLOCK_CAUSE_WINDOW_S = 10.0  # a door opening this soon after our unlock was opened by that unlock


@dataclass(frozen=True, slots=True)
class LockerChanged(DeviceEvent):
    board: int = 0
    channel: int = 0
    open: bool = False
    item_present: bool = False
    cause: str = ""


@dataclass(frozen=True, slots=True)
class BoardAvailabilityChanged(AvailabilityChanged):
    board: int = 0


@dataclass(frozen=True, slots=True)
class LockerState:
    open: bool
    item_present: bool


def boards_from_options(options: Mapping[str, Any]) -> list[p.BoardSpec]:
    """Boards given in the options as ``boards = [{address, channels, latch_polarity}, ...]``."""
    return [p.BoardSpec.from_mapping(b) for b in options.get("boards", [])]


class LockBoardAdapter(SerialAdapter):
    kind = "lock_board"

    def __init__(
        self,
        device_id: str,
        url: str,
        options: Mapping[str, Any] | None = None,
        *,
        boards: Sequence[p.BoardSpec] | None = None,
        on_event: EventSink | None = None,
    ) -> None:
        super().__init__(device_id, url, options, p.ReplyFramer(), on_event=on_event)
        specs = list(boards) if boards is not None else boards_from_options(self.options)
        if not specs:
            raise ValueError(f"{device_id}: a lock bus needs at least one board")
        self.boards = {b.address: b for b in specs}
        if len(self.boards) != len(specs):
            raise ValueError(f"{device_id}: two boards share an address")
        self.poll_s = float(self.options.get("poll_s", 0.5))
        self._states: dict[int, list[LockerState]] = {}
        self._board_health = {b: Health() for b in self.boards}
        self._board_av: dict[int, Availability] = dict.fromkeys(self.boards, Availability.UNKNOWN)
        self._unlock_requested: dict[tuple[int, int], float] = {}
        self._retried = False
        self._settle = False  # the last request needed a retry or went unanswered: a late reply may still come

    # commands ------------------------------------------------------------------------------------------------

    async def unlock(self, board: int, channel: int) -> None:
        """Open one compartment; returns when the board reports the latch open."""
        spec = self._spec(board, channel)
        # kept while the outcome is unknown (a timeout: the board may have opened it), so the poll credits the unlock
        self._unlock_requested[(board, channel)] = time.monotonic()
        reply = await self._request(p.Request(board, p.CMD_UNLOCK, channel))
        level = reply.lock(channel)
        state = LockerState(spec.is_open(level.level), level.item)
        if not state.open:
            # the latch may lag the board's report by a moment; ask once more before calling it stuck
            state = await self.status(board, channel)
        if not state.open:
            # a door found open later was not opened by this command: the poll must report it as forced
            self._unlock_requested.pop((board, channel), None)
            raise DeviceRejected(f"{self.device_id}: board {board} channel {channel}: latch did not open",
                                 device_id=self.device_id)
        self._update(board, channel, state, "unlock")

    async def status(self, board: int, channel: int) -> LockerState:
        spec = self._spec(board, channel)
        reply = await self._request(p.Request(board, p.CMD_STATUS, channel))
        level = reply.lock(channel)
        return LockerState(spec.is_open(level.level), level.item)

    async def status_all(self, board: int) -> list[LockerState]:
        """Every wired channel of a board: one 0x30 request, whose reply carries all sixteen locks."""
        spec = self._spec(board, 0)
        reply = await self._request(p.Request(board, p.CMD_STATUS))
        return [LockerState(spec.is_open(reply.state.levels[c]), reply.state.items[c]) for c in range(spec.channels)]

    async def poll_once(self) -> None:
        """Read every board once and emit what changed since the last read."""
        for board in self.boards:
            try:
                states = await self.status_all(board)
            except DeviceError as exc:
                log.debug("%s: poll of board %d failed: %s", self.device_id, board, exc)
                continue
            old = self._states.get(board)
            for ch, new in enumerate(states):
                if old is None:
                    if new.open or new.item_present:
                        self._update(board, ch, new, "initial")
                elif new != old[ch]:
                    self._update(board, ch, new, self._cause(board, ch, old[ch], new))
            self._states[board] = list(states)

    def snapshot(self, board: int) -> list[LockerState] | None:
        states = self._states.get(board)
        return list(states) if states is not None else None

    def board_availability(self, board: int) -> Availability:
        return self._board_av[board]

    # internals -----------------------------------------------------------------------------------------------

    def _spec(self, board: int, channel: int) -> p.BoardSpec:
        spec = self.boards.get(board)
        if spec is None or not 0 <= channel < spec.channels:
            raise ValueError(f"{self.device_id}: no compartment {channel} on board {board}")
        return spec

    async def _request(self, req: p.Request) -> p.Reply:
        board, lock = req.board, req.lock
        health = self._board_health[board]

        def answers(m: p.Reply) -> bool:
            # The public drivers do not say whether the board echoes the lock nibble of ADDR. Accept the board's
            # address with the request's lock nibble or with none; a late reply to another lock's request is stale.
            return m.board == board and (m.addr_byte & 0x0F) in (0, lock)

        if self._settle:
            # The published frames carry no sequence number and every reply is the same 0x35 frame: after a try went
            # unanswered, its late reply could be taken for the answer to this request. Let it land first (with no
            # request waiting it is dropped as unmatched).
            await asyncio.sleep(self.timeout_s + self.link.byte_time * p.REPLY_LEN)
        try:
            reply: p.Reply = await self.transact(req.encode(), answers)
        except DeviceError:
            self._settle = True
            self._set_board(req.board, health.unanswered())
            raise
        self._settle = self._retried
        self._set_board(req.board, health.answered(retried=self._retried))
        return reply

    def _decode(self, frame: bytes) -> p.Reply:
        reply = p.decode_reply(frame)
        if reply.board not in self.boards:
            self._note_bad("unknown_board")
        return reply

    def _answered(self, *, retried: bool) -> None:
        self._retried = retried  # read by _request, which keeps availability per board

    def _unanswered(self) -> None:
        self._retried = False

    def _on_link_down(self) -> None:
        for board, health in self._board_health.items():
            if self._board_av[board] != Availability.UNKNOWN:
                self._set_board(board, health.unanswered())

    def _set_board(self, board: int, value: Availability) -> None:
        if self._board_av.get(board) != value:
            self._board_av[board] = value
            self.emit(BoardAvailabilityChanged(self.device_id, self.kind, availability=value, board=board))
        self._set_bus()

    def _set_bus(self) -> None:
        if not self.link.connected:
            return  # the link callback already said offline
        values = list(self._board_av.values())
        if all(v == Availability.OFFLINE for v in values):
            self._set_availability(Availability.OFFLINE, "no board answers")
        elif any(v in (Availability.OFFLINE, Availability.DEGRADED) for v in values):
            down = [b for b, v in self._board_av.items() if v == Availability.OFFLINE]
            self._set_availability(Availability.DEGRADED, f"boards not answering: {down}" if down else "retries")
        elif all(v == Availability.ONLINE for v in values):
            self._set_availability(Availability.ONLINE)

    def _cause(self, board: int, ch: int, old: LockerState, new: LockerState) -> str:
        if new.open and not old.open:
            asked = self._unlock_requested.pop((board, ch), None)
            return "unlock" if asked is not None and time.monotonic() - asked < UNLOCK_CAUSE_WINDOW_S else "forced"
        if old.open and not new.open:
            return "closed"
        return "item_placed" if new.item_present else "item_removed"

    def _update(self, board: int, ch: int, state: LockerState, cause: str) -> None:
        states = self._states.get(board)
        if states is not None:
            states[ch] = state
        if cause == "unlock":
            self._unlock_requested.pop((board, ch), None)
        self.emit(LockerChanged(self.device_id, self.kind, board=board, channel=ch, open=state.open,
                                item_present=state.item_present, cause=cause))

    def _background(self) -> list[Coroutine[Any, Any, None]]:
        return [self._poll_loop()] if self.poll_s > 0 else []

    async def _poll_loop(self) -> None:
        while True:
            await self.link.wait_connected()
            await self.poll_once()
            await asyncio.sleep(self.poll_s)
