"""A simulated GA 467 ID card reader on a pty: a card can be placed and removed; find/select/read answered.

Speaks devices/id_reader/protocol.py in the device role. Faults: silent, delayed, garbled, bad_checksum,
read_failed (find and select succeed, read answers 0x41), offline.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

from devices.base import CodecError
from devices.id_reader import protocol as p
from hw_sim.base import BAD_CHECKSUM, DELAYED, GARBLED, OFFLINE, SILENT
from hw_sim.serial_sim import SerialSim

READ_FAILED = "read_failed"

# A made-up resident with a valid number (check digit and birth date): the demo's default card.
DEMO_CARD = p.IdentityText(
    name="张三", sex_code="1", nation_code="01", birth="19900307", address="北京市东城区景山前街4号",
    id_number="110101199003070038", authority="北京市公安局东城分局", valid_from="20200101", valid_to="20400101",
)
PHOTO = b"WLT\x00" + bytes(i % 251 for i in range(p.PHOTO_LEN - 4))  # stands in for the compressed photo


class IdReaderSim(SerialSim):
    kind = "id_reader"
    FAULTS: ClassVar[tuple[str, ...]] = (SILENT, DELAYED, GARBLED, BAD_CHECKSUM, READ_FAILED, OFFLINE)
    ACTIONS: ClassVar[tuple[str, ...]] = ("place_card", "remove_card")

    def __init__(self, device_id: str, link_path: Path, *, baud: int = 115200) -> None:
        super().__init__(device_id, link_path, baud=baud)
        self.framer = p.SamFramer()
        self.card: p.IdentityText | None = None
        self.reads = 0

    def place_card(self, card: p.IdentityText | None = None, **fields: str) -> dict[str, str]:
        """Put a card on the reader: ``card`` or the demo card with ``fields`` replaced (IdentityText names)."""
        self.card = dataclasses.replace(card or DEMO_CARD, **fields)
        return {"name": self.card.name}  # not the number: this answer may be shown or logged

    def remove_card(self) -> None:
        self.card = None

    def state(self) -> dict[str, Any]:
        # the card's name only: the simulator's info is shown on screens and in logs
        return {"card": None if self.card is None else self.card.name, "reads": self.reads}

    def _on_bytes(self, data: bytes) -> None:
        for frame in self.framer.feed(data):
            try:
                cmd, _ = p.decode_request(frame)
            except CodecError:
                continue
            self.requests_seen += 1
            self.send(self._answer(cmd).encode())

    def _answer(self, cmd: tuple[int, int]) -> p.Response:
        # the SAM's own commands answer for the module, with or without a card on the reader
        if cmd in (p.CMD_SAM_RESET, p.CMD_SAM_STATUS):
            return p.Response(p.SW_OK)
        if cmd == p.CMD_SAM_ID:
            return p.Response(p.SW_OK, bytes(range(1, p.SAM_ID_LEN + 1)))
        if cmd not in (p.CMD_FIND, p.CMD_SELECT, p.CMD_READ):
            return p.Response(p.SW_BAD_COMMAND)
        if self.card is None:
            return p.Response(p.SW_NO_CARD)
        if cmd == p.CMD_FIND:
            return p.Response(p.SW_FOUND, bytes(4))
        if cmd == p.CMD_SELECT:
            return p.Response(p.SW_OK, bytes(8))
        # what is left is CMD_READ
        if self.fault_active(READ_FAILED):
            self._use(READ_FAILED)
            return p.Response(p.SW_READ_FAILED)
        self.reads += 1
        return p.Response(p.SW_OK, p.read_data(p.encode_text(self.card), PHOTO))
