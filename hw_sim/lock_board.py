"""A simulated RS-485 lock bus: several Kerong KR-CU16 boards behind one pty, speaking the published frames of
devices/lock_board/protocol.py (every request is answered with the board's 9-byte 0x35 status frame).

Each board has its channels' doors and items. An unlock pulses the latch and the door springs open; the simulated
person closes it again with :meth:`LockBusSim.close_door`. :meth:`LockBusSim.open_by_hand` forces a door open with no
command. Faults: silent, delayed, garbled, bad_checksum (each optionally scoped with ``board=``), stuck_latch (the
unlock is acknowledged but the latch does not move; ``board=``/``channel=`` scope it), offline (pty closed).
Latch levels follow each board's polarity, exactly as the sensor would read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from devices.base import CodecError
from devices.lock_board import protocol as p
from hw_sim.base import BAD_CHECKSUM, DELAYED, GARBLED, OFFLINE, SILENT
from hw_sim.serial_sim import SerialSim

STUCK_LATCH = "stuck_latch"


@dataclass
class SimBoard:
    spec: p.BoardSpec
    doors_open: list[bool] = field(default_factory=list)
    items: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.doors_open = [False] * self.spec.channels
        self.items = [False] * self.spec.channels

    def levels(self) -> p.BoardLevels:
        """What the board's sensors read; an unwired channel reads as a closed, empty compartment."""
        unwired = p.MAX_CHANNELS - self.spec.channels
        return p.BoardLevels(
            tuple(self.spec.level(o) for o in self.doors_open) + (self.spec.level(False),) * unwired,
            tuple(self.items) + (False,) * unwired,
        )


class LockBusSim(SerialSim):
    kind = "lock_board"
    FAULTS: ClassVar[tuple[str, ...]] = (SILENT, DELAYED, GARBLED, BAD_CHECKSUM, STUCK_LATCH, OFFLINE)
    ACTIONS: ClassVar[tuple[str, ...]] = ("close_door", "open_by_hand", "put_item", "remove_item")

    def __init__(
        self, device_id: str, link_path: Path, boards: list[p.BoardSpec], *, baud: int = 19200, seed: int = 0
    ) -> None:
        super().__init__(device_id, link_path, baud=baud, seed=seed)
        self.boards = {b.address: SimBoard(b) for b in boards}
        self.framer = p.RequestFramer()
        self.actuations: list[tuple[int, int]] = []  # every (board, channel) whose latch actually released
        self.forced: list[tuple[int, int]] = []

    # the simulated person -------------------------------------------------------------------------------------

    def close_door(self, board: int, channel: int) -> None:
        self.boards[board].doors_open[channel] = False

    def open_by_hand(self, board: int, channel: int) -> None:
        """Force a compartment open without any command (a pried door, a key used on the cylinder)."""
        self.boards[board].doors_open[channel] = True
        self.forced.append((board, channel))

    def put_item(self, board: int, channel: int) -> None:
        self.boards[board].items[channel] = True

    def remove_item(self, board: int, channel: int) -> None:
        self.boards[board].items[channel] = False

    def is_open(self, board: int, channel: int) -> bool:
        return self.boards[board].doors_open[channel]

    def state(self) -> dict[str, Any]:
        return {
            "boards": {
                str(a): {"open": [c for c, o in enumerate(b.doors_open) if o],
                         "items": [c for c, i in enumerate(b.items) if i],
                         "latch_polarity": b.spec.latch_polarity}
                for a, b in self.boards.items()
            }
        }

    # the boards ----------------------------------------------------------------------------------------------

    def _on_bytes(self, data: bytes) -> None:
        for frame in self.framer.feed(data):
            try:
                req = p.decode_request(frame)
            except CodecError:
                continue
            board = self.boards.get(req.board)
            if board is None:
                continue  # nobody at that address: the bus stays quiet
            self.requests_seen += 1
            self._answer(board, req)
            self.send(p.Reply(req.addr_byte, board.levels()).encode(), board=req.board)

    def _answer(self, board: SimBoard, req: p.Request) -> None:
        """Act on an unlock; the reply (the status frame) is read afterwards, as the real board reports it."""
        if req.base != p.CMD_UNLOCK or req.lock >= board.spec.channels:
            return
        if self.fault_active(STUCK_LATCH, board=req.board, channel=req.lock):
            self._use(STUCK_LATCH)
        else:
            board.doors_open[req.lock] = True
            self.actuations.append((req.board, req.lock))
