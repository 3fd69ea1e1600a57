"""The soak: realistic load on the real controller for ``--minutes`` (``SOAK_MINUTES``, default 60), sampled every
minute into ``bench/results/soak.json``.

Load, all at once:
- 200 open stays, made first through the API and the simulated devices (card, gate, locker door, wristband); the
  site has 48 lockers, so about 40 stays hold one and wait in their rooms and the rest wait at collection;
- 50 kiosks, each polling the ledger and the open alarms every few seconds and acting now and then (a welfare
  check, a care record), plus two intake desks running whole stays from registration to exit;
- 2,500 presence events per second (250 tags at 10 Hz): a publisher that speaks as the site's simulated wristband
  readers (their topics and codec; hw_sim's readers only move tags when told, too slowly for this rate); the stays'
  own tags and some visitors' tags, one report in twenty moving a tag to another reader's room.

Each sample: the controller's RSS, p50/p99 latency of every API call in the minute, errors (5xx and transport),
refusals (4xx), presence events sent and the controller's live events. The report adds memory growth (last sample
minus the first, and per hour). ``make soak`` then runs the long forms of the crash loop and power-cut tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt

from devices import mqtt_proto as proto
from devices.wristband_reader import protocol as wp
from tests.conftest import PASSWORD
from tests.reliability.checks import add_staff
from tests.reliability.harness import ControllerProcess
from tests.reliability.simproc import SimProcess
from tests.reliability.workload import Ledger, Workload, login

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
SITE = "demo-centre"
READERS = [("band-wait-1", "wait-1"), ("band-wait-2", "wait-2"), ("band-int-1", "int-1"), ("band-search", "search")]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def publish_presence(port: int, tags: list[str], rate: int, sent: Any, halt: Any) -> None:
    """250 tags at 10 Hz, paced in 10 ms ticks, QoS 1, as the simulated readers publish them. Runs in its own
    process so its CPU does not share a GIL with the kiosks whose latency is measured."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="soak-readers")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    rng = random.Random(5)
    zone = {t: i % len(READERS) for i, t in enumerate(tags)}
    per_tick = rate // 100
    start, tick, n = time.monotonic(), 0, 0
    try:
        while not halt.is_set():
            for _ in range(per_tick):
                tag = tags[n % len(tags)]
                if rng.random() < 0.05:
                    zone[tag] = rng.randrange(len(READERS))
                reader, room = READERS[zone[tag]]
                msg = wp.PresenceMsg(tag_id=tag, reader_id=reader, zone=room, rssi=-55.0,
                                     event_id=proto.new_id(), ts=time.time())
                client.publish(proto.device_topic(SITE, "wristband_reader", reader, "event", "presence"),
                               proto.encode(msg), qos=1)
                n += 1
            sent.value = n
            tick += 1
            delay = start + tick * 0.01 - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing the load generator
    finally:
        client.loop_stop()
        client.disconnect()


class Presence:
    def __init__(self, port: int, tags: list[str], rate: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._sent, self.halt = ctx.Value("q", 0), ctx.Event()
        self.proc = ctx.Process(target=publish_presence, args=(port, tags, rate, self._sent, self.halt),
                                daemon=True)

    @property
    def sent(self) -> int:
        return int(self._sent.value)

    def start(self) -> None:
        self.proc.start()

    def join(self, timeout: float) -> None:
        self.proc.join(timeout)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


async def kiosk(url: str, token: str, ledger: Ledger, stop: asyncio.Event, rng: random.Random, *,
                verify: bool = True) -> None:
    """A kiosk: the ledger and the alarms every few seconds; now and then a welfare check or a care record.
    ``verify=False`` (plain http only) skips loading the CA bundle, tens of milliseconds of CPU per client."""
    h = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=h, timeout=30, verify=verify) as c:
        await asyncio.sleep(rng.random() * 5)  # kiosks start spread over the poll period, as they would
        while not stop.is_set():
            for method, path, body in _kiosk_calls(rng):
                t0 = time.perf_counter()
                try:
                    r = await c.request(method, path, json=body)
                except httpx.HTTPError as exc:
                    ledger.errors[type(exc).__name__] += 1
                    continue
                ledger.latencies.append(time.perf_counter() - t0)
                if r.status_code >= 500:
                    ledger.errors[str(r.status_code)] += 1
                elif r.status_code >= 400:
                    ledger.refusals[r.json().get("code", str(r.status_code))] += 1
            try:
                await asyncio.wait_for(stop.wait(), 5.0)  # the kiosk's poll period
            except TimeoutError:
                pass


def _kiosk_calls(rng: random.Random) -> list[tuple[str, str, Any]]:
    calls: list[tuple[str, str, Any]] = [("GET", "/api/v1/stays?state=open", None),
                                         ("GET", "/api/v1/alarms?state=open", None)]
    if rng.random() < 0.1:
        calls.append(("POST", f"/api/v1/rooms/wait-{rng.randint(1, 5)}/welfare-checks", {"observation": "ok"}))
    return calls


async def soak(minutes: float, sample_s: float, presence_rate: int = 2500) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="hcc-soak-"))
    sim = SimProcess(tmp / "sim", grace_s=10, open_bench=True)  # the bench: an open broker for the load clients
    sim.start()
    proc = ControllerProcess(tmp / "data", site=sim.site)
    ledger = Ledger()
    presence: Presence | None = None
    samples: list[dict[str, Any]] = []
    try:
        proc.cli("migrate")
        add_staff(proc, PASSWORD)
        proc.start(timeout=60)
        assert proc.proc is not None
        pid = proc.proc.pid
        token = await login(proc.url, "2001", PASSWORD)
        t_setup = time.monotonic()
        park = Workload(proc.url, token, ledger, rng=random.Random(1), sim_url=sim.url, keep_open=200,
                        max_open=200, max_lockers=40, open_lockers=False, timeout=60)
        await park.run(workers=8)
        setup_s = time.monotonic() - t_setup
        async with httpx.AsyncClient(base_url=proc.url, headers={"Authorization": f"Bearer {token}"}) as c:
            stays = (await c.get("/api/v1/stays?state=open")).json()
        tags = [s["wristband_id"] for s in stays if s.get("wristband_id")]
        tags += [f"tag-visitor-{i:03d}" for i in range(250 - len(tags))]
        print(f"soak: {len(stays)} open stays in {setup_s:.0f}s; load for {minutes:g} min", flush=True)
        ledger.drain_latencies()
        presence = Presence(sim.mqtt_port, tags[:250], presence_rate)
        presence.start()
        stop = asyncio.Event()
        rng = random.Random(2)
        kiosks = [asyncio.create_task(kiosk(proc.url, token, ledger, stop, random.Random(i))) for i in range(50)]
        churn = Workload(proc.url, token, ledger, rng=rng, sim_url=sim.url, resume=False, timeout=60)
        churn_task = asyncio.create_task(churn.run(workers=2))
        started = time.monotonic()
        errors_before, refusals_before, sent_before = sum(ledger.errors.values()), sum(ledger.refusals.values()), 0
        while time.monotonic() - started < minutes * 60:
            try:
                await asyncio.wait_for(asyncio.shield(churn_task), sample_s)  # the sampling period
            except TimeoutError:
                pass
            if churn_task.done():
                churn_task.result()  # a failed intake desk is a finding: surface it
            lat = ledger.drain_latencies()
            metrics = ""
            try:
                async with httpx.AsyncClient(base_url=proc.url, timeout=60) as c:
                    metrics = (await c.get("/metrics")).text
            except httpx.HTTPError as exc:
                ledger.errors[f"metrics {type(exc).__name__}"] += 1
            live = next((float(x.split()[-1]) for x in metrics.splitlines() if x.startswith("hcc_live_events_total")),
                        0.0)
            open_now = next((int(float(x.split()[-1])) for x in metrics.splitlines()
                             if x.startswith("hcc_stays_open")), 0)
            errs, refs = sum(ledger.errors.values()), sum(ledger.refusals.values())
            sent = presence.sent
            samples.append({"t_min": round((time.monotonic() - started) / 60, 2), "rss_mib": round(rss_kib(pid) / 1024, 1),
                            "api_calls": len(lat), "p50_ms": round(pct(lat, 0.5) * 1000, 1),
                            "p99_ms": round(pct(lat, 0.99) * 1000, 1), "errors": errs - errors_before,
                            "refusals": refs - refusals_before,
                            "presence_per_s": round((sent - sent_before) / sample_s, 0),
                            "live_events_total": live, "stays_open": open_now})
            errors_before, refusals_before, sent_before = errs, refs, sent
            print(json.dumps(samples[-1]), flush=True)
        stop.set()
        churn.stop.set()
        await asyncio.gather(*kiosks)
        await churn_task
    finally:
        if presence is not None:
            presence.halt.set()
            presence.join(timeout=10)
        proc.stop()
        sim.stop()
    first, last = samples[0], samples[-1]
    hours = max(last["t_min"] - first["t_min"], 1e-9) / 60
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "minutes": minutes, "sample_s": sample_s,
        "open_stays_target": 200, "kiosks": 50, "presence_target_per_s": presence_rate,
        "rss_first_mib": first["rss_mib"], "rss_last_mib": last["rss_mib"],
        "rss_growth_mib": round(last["rss_mib"] - first["rss_mib"], 1),
        "rss_growth_mib_per_hour": round((last["rss_mib"] - first["rss_mib"]) / hours, 1) if len(samples) > 1 else 0,
        "p50_ms_median": statistics.median(s["p50_ms"] for s in samples),
        "p99_ms_max": max(s["p99_ms"] for s in samples),
        "errors_total": sum(s["errors"] for s in samples), "errors_by_kind": dict(ledger.errors),
        "refusals_total": sum(s["refusals"] for s in samples), "refusals_by_code": dict(ledger.refusals),
        "presence_per_s_median": statistics.median(s["presence_per_s"] for s in samples),
        "changes_acknowledged": ledger.total, "samples": samples,
    }
    print(json.dumps({k: v for k, v in report.items() if k != "samples"}, indent=1, ensure_ascii=False))
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.reliability.soak", description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", "60")))
    ap.add_argument("--sample-seconds", type=float, default=60.0)
    ap.add_argument("--out", type=Path, default=RESULTS / "soak.json")
    ap.add_argument("--presence-rate", type=int, default=2500, help="presence events per second (0: none)")
    args = ap.parse_args(argv)
    report = asyncio.run(soak(args.minutes, args.sample_seconds, args.presence_rate))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0 if report["errors_total"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
