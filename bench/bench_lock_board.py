"""Lock-bus benchmark: locker open command-to-acknowledgement latency and a full status poll of 16 boards.

``python -m bench.bench_lock_board`` runs the simulated bus (16 boards of 16 channels, 19200 baud, bytes paced at the
baud rate) in a child process, as hw_sim runs beside the controller, and drives it with the production adapter over
a real pty. Each figure's baseline is the wire time computed for the bytes that must cross the bus at 19200 8N1:
what a perfect adapter and board could not beat. Writes ``bench/results/lock_board.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import report
from devices.lock_board import protocol as p
from devices.lock_board.adapter import LockBoardAdapter
from devices.transport.serial import wire_time

BAUD = 19200
BOARDS = [p.BoardSpec(a, 16) for a in range(16)]
_REPLY = p.Reply(0, p.BoardLevels((False,) * 16, (False,) * 16)).encode()  # every answer is the 9-byte 0x35 frame
UNLOCK_BYTES = len(p.encode_unlock(0, 0)) + len(_REPLY)
POLL_BYTES = len(p.encode_status(0)) + len(_REPLY)


async def serve(link: Path) -> None:
    """Child process: play the bus until stdin closes."""
    from hw_sim.lock_board import LockBusSim

    sim = LockBusSim("bench-bus", link, BOARDS, baud=BAUD)
    await sim.start()
    print("ready", flush=True)
    stdin = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    try:
        await stdin.read()  # returns when the parent closes our stdin
    finally:
        await sim.stop()


async def measure(unlocks: int, polls: int) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as run_dir:
        link = Path(run_dir) / "bench-bus"
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.bench_lock_board", "--serve", str(link),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        assert child.stdout is not None and child.stdin is not None
        try:
            async with asyncio.timeout(10):
                await child.stdout.readline()
            adapter = LockBoardAdapter("bench-bus", str(link), {"baud": BAUD, "poll_s": 0}, boards=BOARDS)
            await adapter.start()
            try:
                await adapter.link.wait_connected(5)
                await adapter.poll_once()  # warm up: first poll, code paths loaded
                open_s = []
                for i in range(unlocks):
                    board, ch = divmod(i % 256, 16)
                    t0 = time.perf_counter()
                    await adapter.unlock(board, ch)
                    open_s.append(time.perf_counter() - t0)
                poll_s = []
                for _ in range(polls):
                    t0 = time.perf_counter()
                    await adapter.poll_once()
                    poll_s.append(time.perf_counter() - t0)
            finally:
                await adapter.stop()
        finally:
            child.stdin.close()
            try:
                async with asyncio.timeout(5):
                    await child.wait()
            except TimeoutError:
                child.kill()
                await child.wait()
    unlock_wire = wire_time(UNLOCK_BYTES, BAUD)
    poll_wire = wire_time(POLL_BYTES * len(BOARDS), BAUD)
    ms = 1000.0
    return [
        report.figure("locker_open_ack", "median command-to-acknowledgement latency", "ms",
                      statistics.median(open_s) * ms, unlock_wire * ms, target=1.3, runs=unlocks),
        report.figure("locker_open_ack_p95", "95th percentile command-to-acknowledgement latency", "ms",
                      statistics.quantiles(open_s, n=20)[-1] * ms, unlock_wire * ms, target=None, runs=unlocks),
        report.figure("status_poll_16_boards", "median full status poll of 16 boards", "ms",
                      statistics.median(poll_s) * ms, poll_wire * ms, target=1.3, runs=polls),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unlocks", type=int, default=300)
    parser.add_argument("--polls", type=int, default=30)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
        return 0
    figures = asyncio.run(measure(args.unlocks, args.polls))
    report.write("lock_board", figures)
    return 0 if all(f["ok"] for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
