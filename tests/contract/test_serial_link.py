"""The serial link over ``socket://`` (an RS-485-over-TCP converter): a lock board answers through TCP, and the
adapter reconnects after the converter drops the connection."""

from __future__ import annotations

import asyncio
from typing import Any

from devices.base import Availability, AvailabilityChanged
from devices.lock_board import protocol as p
from devices.lock_board.adapter import LockBoardAdapter


class Converter:
    """A TCP server with one board (address 3, door 5 open) behind it, speaking the board role of the codec."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self, port: int = 0) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", port)
        return int(self.server.sockets[0].getsockname()[1])

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        framer = p.RequestFramer()
        levels = p.BoardLevels(tuple(c != 5 for c in range(16)), (False,) * 16)  # hook bit set = locked
        while data := await reader.read(256):
            for frame in framer.feed(data):
                req = p.decode_request(frame)
                if req.board == 3 and req.base == p.CMD_STATUS:
                    writer.write(p.Reply(req.addr_byte, levels).encode())
        writer.close()

    async def drop_clients(self) -> None:
        for w in self.writers:
            w.close()
        self.writers.clear()

    async def stop(self) -> None:
        await self.drop_clients()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def test_lock_board_over_socket_url_reconnects(collector: Any) -> None:
    conv = Converter()
    port = await conv.start()
    adapter = LockBoardAdapter("bus-tcp", f"socket://127.0.0.1:{port}",
                               {"poll_s": 0, "reopen_max_s": 0.1, "boards": [{"address": 3}]}, on_event=collector)
    try:
        await adapter.start()
        await adapter.link.wait_connected(2.0)
        assert [c for c, s in enumerate(await adapter.status_all(3)) if s.open] == [5]
        await conv.drop_clients()
        await collector.wait_for(lambda e: type(e) is AvailabilityChanged and e.availability == Availability.OFFLINE)
        await adapter.link.wait_connected(2.0)
        assert (await adapter.status_all(3))[5].open
        assert adapter.link.opens == 2
    finally:
        await adapter.stop()
        await conv.stop()
