"""The production ID reader adapter against the simulated reader over a real pty, at 115200 baud."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import serial

from devices.base import Availability, DeviceTimeout
from devices.id_reader import protocol as p
from devices.id_reader.adapter import CardRead, CardReadFailed, CardRemoved, IdReaderAdapter
from hw_sim.base import BAD_CHECKSUM, DELAYED, GARBLED, SILENT
from hw_sim.id_reader import DEMO_CARD, READ_FAILED, IdReaderSim
from tests.contract.serial_harness import pull_and_replug_cable, running

TODAY = dt.date(2026, 11, 22)


@asynccontextmanager
async def reader(run_dir: Path, sink: Any, **options: Any) -> AsyncIterator[tuple[IdReaderSim, IdReaderAdapter]]:
    sim = IdReaderSim("idr-reg", run_dir / "idr-reg")
    opts = {"baud": 115200, "poll_s": 0, "reopen_max_s": 0.1} | options
    adapter = IdReaderAdapter("idr-reg", str(sim.link_path), opts, on_event=sink, today=lambda: TODAY)
    async with running(sim, adapter):
        yield sim, adapter


async def test_card_placed_is_read_once_and_removal_reported(
    tmp_path: Path, collector: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with reader(tmp_path, collector) as (sim, adapter):
        await adapter.poll_once()
        assert not collector.of(CardRead)
        sim.place_card()
        await adapter.poll_once()
        await adapter.poll_once()
        (read,) = collector.of(CardRead)
        assert read.valid and read.problems == ()
        card = read.identity
        assert (card.name, card.sex, card.nation, card.id_number) == ("张三", "male", "汉", DEMO_CARD.id_number)
        assert card.birth_date == dt.date(1990, 3, 7) and card.valid_to == dt.date(2040, 1, 1)
        assert card.photo_wlt.startswith(b"WLT")
        assert sim.reads == 1
        sim.remove_card()
        await adapter.poll_once()
        assert len(collector.of(CardRemoved)) == 1
        sim.place_card(name="李四", sex_code="2", id_number="11010519491231002X", birth="19491231",
                       valid_to="长期")
        await adapter.poll_once()
        second = collector.of(CardRead)[1]
        assert second.valid and second.identity.no_expiry and second.identity.sex == "female"
    assert DEMO_CARD.id_number not in caplog.text and "11010519491231002X" not in caplog.text
    assert "110101************" in caplog.text


async def test_card_with_a_bad_number_is_read_but_not_valid(tmp_path: Path, collector: Any) -> None:
    async with reader(tmp_path, collector) as (sim, adapter):
        sim.place_card(id_number="110101199003070039")
        await adapter.poll_once()
        (read,) = collector.of(CardRead)
        assert not read.valid and read.problems == ("id_number_invalid",)


async def test_read_failures_are_retried_then_reported_once(tmp_path: Path, collector: Any) -> None:
    async with reader(tmp_path, collector) as (sim, adapter):
        sim.place_card()
        sim.set_fault(READ_FAILED, count=2)
        await adapter.poll_once()
        await adapter.poll_once()
        assert not collector.items or not collector.of(CardRead)
        await adapter.poll_once()
        assert len(collector.of(CardRead)) == 1
        sim.remove_card()
        await adapter.poll_once()
        sim.place_card()
        sim.set_fault(READ_FAILED)
        for _ in range(5):
            await adapter.poll_once()
        assert len(collector.of(CardReadFailed)) == 1 and len(collector.of(CardRead)) == 1


async def test_silent_reader_times_out_after_three_retries(tmp_path: Path, collector: Any) -> None:
    async with reader(tmp_path, collector) as (sim, adapter):
        sim.set_fault(SILENT)
        with pytest.raises(DeviceTimeout):
            await adapter.poll_once()
        assert sim.requests_seen == 4
        assert adapter.availability == Availability.OFFLINE


@pytest.mark.parametrize("fault", [GARBLED, BAD_CHECKSUM, DELAYED])
async def test_spoiled_answer_is_dropped_and_the_card_still_read(tmp_path: Path, collector: Any, fault: str) -> None:
    async with reader(tmp_path, collector) as (sim, adapter):
        sim.place_card()
        await adapter.poll_once()  # find, select, read: clean
        sim.remove_card()
        await adapter.poll_once()
        sim.place_card()
        sim.set_fault(fault, count=1, delay_s=0.5)
        await adapter.poll_once()
        assert len(collector.of(CardRead)) == 2
        assert adapter.availability == Availability.DEGRADED
        if fault != DELAYED:
            assert adapter.bad.counts


async def test_pulled_cable_goes_offline_and_recovers(tmp_path: Path, collector: Any) -> None:
    async with reader(tmp_path, collector, poll_s=0.02) as (sim, adapter):
        await pull_and_replug_cable(sim, adapter, collector)
        sim.place_card()
        await collector.wait_for(lambda e: isinstance(e, CardRead))


async def test_sam_status_words_over_the_pty(tmp_path: Path) -> None:
    """The SAM's own commands answer 0x90 (success) with or without a card; an unknown command answers 0x21."""
    sim = IdReaderSim("idr-reg", tmp_path / "idr-reg")
    await sim.start()
    ser = serial.Serial(str(sim.link_path), 115200, timeout=2)
    framer = p.SamFramer()

    async def ask(request: bytes) -> p.Response:
        await asyncio.to_thread(ser.write, request)
        frames: list[bytes] = []
        while not frames:
            chunk = await asyncio.to_thread(ser.read, 1)
            assert chunk, "no answer"
            frames = framer.feed(chunk)
        return p.decode_response(frames[0])

    try:
        sim.remove_card()
        # the SAM status request as the public drivers send it, byte for byte
        assert await ask(bytes.fromhex("aa aa aa 96 69 00 03 11 ff ed")) == p.Response(p.SW_OK)
        assert (await ask(p.FIND_REQUEST)).status == p.SW_NO_CARD
        sim.place_card()
        assert await ask(p.SAM_STATUS_REQUEST) == p.Response(p.SW_OK)
        sam_id = await ask(bytes.fromhex("aa aa aa 96 69 00 03 12 ff ee"))
        assert sam_id.status == p.SW_OK and len(sam_id.data) == p.SAM_ID_LEN
        assert (await ask(p.encode_request((0x55, 0x01)))).status == p.SW_BAD_COMMAND
    finally:
        ser.close()
        await sim.stop()
