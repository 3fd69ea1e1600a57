"""Presence benchmark: 250 tags reporting at 10 Hz (2,500 events/s) for 60 s through the real controller: the
wristband adapter, location update, rule-8 checks and the live WebSocket push.

Every report moves its tag to the other of two rooms, so every event must come out of the WebSocket as a location
message (the worst case for the push path). A raw paho subscriber on the same broker, in the same run, is the
baseline: its receive rate and its publish-to-receive latency.

Figures: events lost (target 0), p99 latency from publish to the WebSocket message vs raw paho, ingestion rate vs
raw paho. ``BENCH_PRESENCE_SECONDS`` shortens the run.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import figure, write  # noqa: E402
from devices import mqtt_proto as proto  # noqa: E402
from devices.wristband_reader import protocol as wp  # noqa: E402
from hw_sim.broker import start_broker  # noqa: E402
from tests.conftest import PASSWORD  # noqa: E402
from tests.reliability.harness import ControllerProcess, free_port  # noqa: E402

TAGS = 250
HZ = 10
SECONDS = float(os.environ.get("BENCH_PRESENCE_SECONDS", "60"))
SITE = "bench-site"
READERS = [("band-a", "room-a"), ("band-b", "room-b")]


def site_file(tmp: Path, mqtt_port: int) -> Path:
    rooms = "".join(f'\n[[rooms]]\nid = "{r}"\nname = "{r}"\nkind = "waiting"\ncapacity = 50\n' for _, r in READERS)
    devices = "".join(f'\n[[devices]]\nid = "{d}"\nkind = "wristband_reader"\nurl = "mqtt://127.0.0.1:{mqtt_port}"\n'
                      f'room_id = "{r}"\n' for d, r in READERS)
    path = tmp / "site.toml"
    path.write_text(f'[site]\nid = "{SITE}"\nname = "presence bench"\n\n[mqtt]\nurl = "mqtt://127.0.0.1:{mqtt_port}"\n'
                    + rooms + devices, encoding="utf-8")
    return path


def raw_subscriber(port: int, ready: Any, out: Any, quiet_s: float) -> None:
    """The baseline, in a process of its own: bare paho counting the same messages and their latency. Stops
    after ``quiet_s`` with nothing received once something has been."""
    latencies: list[float] = []
    last = [time.time()]
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-raw")

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        now = time.time()
        last[0] = now
        latencies.append(now - json.loads(msg.payload)["ts"])

    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.subscribe(f"hcc/{SITE}/wristband_reader/+/event/#", qos=1)
    client.loop_start()
    ready.set()
    while not latencies or time.time() - last[0] < quiet_s:
        time.sleep(0.2)
    client.loop_stop()
    client.disconnect()
    out.put((len(latencies), latencies))


def publisher(port: int, seconds: float, out: Any) -> None:
    """The load: 250 tags at 10 Hz, QoS 1 as the readers publish, in a process of its own (no GIL shared with the
    measuring side)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-pub")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    per_tick = TAGS * HZ // 100  # every 10 ms
    start = time.monotonic()
    tick = 0
    n = 0
    while time.monotonic() - start < seconds:
        for _ in range(per_tick):
            tag = n % TAGS
            reader, zone = READERS[(n // TAGS) % 2]  # each round moves every tag to the other room
            msg = wp.PresenceMsg(tag_id=f"tag-{tag:04d}", reader_id=reader, zone=zone, rssi=-50.0,
                                 event_id=proto.new_id(), ts=time.time())
            client.publish(proto.device_topic(SITE, "wristband_reader", reader, "event", "presence"),
                           proto.encode(msg), qos=1)
            n += 1
        tick += 1
        delay = start + tick * 0.01 - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # pacing the load generator (bench process), not waiting in a test
    time.sleep(1.0)
    client.loop_stop()
    client.disconnect()
    out.put((n, time.time() - start))


async def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        broker = await start_broker(free_port())
        proc = ControllerProcess(tmp / "data", site=site_file(tmp, broker.port))
        proc.cli("migrate")
        proc.cli("user", "add", "--police-no", "9001", "--name", "admin", "--sex", "male", "--roles", "admin",
                 "--staff-id", "adm-1", env={"HCC_NEW_PASSWORD": PASSWORD})
        proc.start()
        ctx = mp.get_context("spawn")
        raw_out, pub_out, raw_ready = ctx.Queue(), ctx.Queue(), ctx.Event()
        raw = ctx.Process(target=raw_subscriber, args=(broker.port, raw_ready, raw_out, 10.0))
        raw.start()
        raw_ready.wait(30)
        try:
            async with httpx.AsyncClient(base_url=proc.url) as c:
                token = (await c.post("/api/v1/auth/login", json={"police_no": "9001", "password": PASSWORD})
                         ).json()["token"]
                for _ in range(200):  # bounded wait for the readers' retained availability
                    devs = (await c.get("/api/v1/devices", headers={"Authorization": f"Bearer {token}"})).json()
                    if all(x["availability"] == "online" for x in devs):
                        break
                    await asyncio.sleep(0.05)
            latencies: list[float] = []
            received = 0
            ws_url = proc.url.replace("http", "ws") + f"/api/v1/live?token={token}"
            async with websockets.connect(ws_url, max_size=None, max_queue=None) as ws:
                await ws.recv()  # hello
                t0 = time.time()
                pub = ctx.Process(target=publisher, args=(broker.port, SECONDS, pub_out))
                pub.start()
                sent: list[int] = []
                last = time.time()
                while True:
                    if not sent and not pub_out.empty():
                        sent.append(pub_out.get()[0])
                    if sent and (received >= sent[0] or time.time() - last > 10):
                        break  # everything arrived, or nothing more for 10 s after the load stopped
                    try:
                        raw_msg = await asyncio.wait_for(ws.recv(), timeout=0.5)
                    except TimeoutError:
                        continue
                    last = time.time()
                    ev = json.loads(raw_msg)
                    if ev.get("type") == "location" and ev.get("t_sent"):
                        received += 1
                        latencies.append(time.time() - ev["t_sent"])
                elapsed = time.time() - t0
                pub.join(30)
            raw_count, raw_latencies = raw_out.get(timeout=120)
            raw.join(30)
        finally:
            if raw.is_alive():
                raw.terminate()
            proc.stop()
            await broker.stop()
    published = sent[0]
    lost = published - received
    ms = 1000.0
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 100 else float("nan")
    raw_p99 = statistics.quantiles(raw_latencies, n=100)[98] if len(raw_latencies) > 100 else float("nan")
    write("presence", [
        figure("presence_events_lost", f"events lost of {published} published ({TAGS} tags x {HZ} Hz x {SECONDS:g} s)",
               "events", lost, published, target=0.0, runs=published),
        figure("presence_p99_publish_to_websocket", "p99 latency publish -> live WebSocket vs raw paho receive",
               "ms", p99 * ms, raw_p99 * ms, target=None, runs=len(latencies)),
        figure("presence_p50_publish_to_websocket", "median latency publish -> live WebSocket vs raw paho",
               "ms", statistics.median(latencies) * ms, statistics.median(raw_latencies) * ms, target=None,
               runs=len(latencies)),
        figure("presence_ingest_rate", "events/s through adapter+rules+push vs raw paho receive rate", "events/s",
               received / elapsed, raw_count / elapsed, target=None, runs=received),
    ])


if __name__ == "__main__":
    asyncio.run(main())
