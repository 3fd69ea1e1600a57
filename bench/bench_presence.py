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
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

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


class RawSubscriber:
    """The baseline: bare paho, counting the same messages and their publish-to-receive latency."""

    def __init__(self, port: int) -> None:
        self.latencies: list[float] = []
        self.count = 0
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-raw")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(f"hcc/{SITE}/wristband_reader/+/event/#", qos=1)
        self.client.loop_start()

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        now = time.time()
        self.count += 1
        self.latencies.append(now - json.loads(msg.payload)["ts"])

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def publisher(port: int, seconds: float, done: threading.Event, sent: list[int]) -> None:
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
    sent.append(n)
    time.sleep(1.0)
    client.loop_stop()
    client.disconnect()
    done.set()


async def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        broker = await start_broker(free_port())
        proc = ControllerProcess(tmp / "data", site=site_file(tmp, broker.port))
        proc.cli("migrate")
        proc.cli("user", "add", "--police-no", "9001", "--name", "admin", "--sex", "male", "--roles", "admin",
                 "--staff-id", "adm-1", env={"HCC_NEW_PASSWORD": PASSWORD})
        proc.start()
        raw = RawSubscriber(broker.port)
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
                done, sent = threading.Event(), []
                t0 = time.time()
                threading.Thread(target=publisher, args=(broker.port, SECONDS, done, sent), daemon=True).start()
                last = time.time()
                while True:
                    if done.is_set() and (received >= sent[0] or time.time() - last > 10):
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
        finally:
            raw.stop()
            proc.stop()
            await broker.stop()
    published = sent[0]
    lost = published - received
    ms = 1000.0
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 100 else float("nan")
    raw_p99 = statistics.quantiles(raw.latencies, n=100)[98] if len(raw.latencies) > 100 else float("nan")
    write("presence", [
        figure("presence_events_lost", f"events lost of {published} published ({TAGS} tags x {HZ} Hz x {SECONDS:g} s)",
               "events", lost, published, target=0.0, runs=published),
        figure("presence_p99_publish_to_websocket", "p99 latency publish -> live WebSocket vs raw paho receive",
               "ms", p99 * ms, raw_p99 * ms, target=None, runs=len(latencies)),
        figure("presence_p50_publish_to_websocket", "median latency publish -> live WebSocket vs raw paho",
               "ms", statistics.median(latencies) * ms, statistics.median(raw.latencies) * ms, target=None,
               runs=len(latencies)),
        figure("presence_ingest_rate", "events/s through adapter+rules+push vs raw paho receive rate", "events/s",
               received / elapsed, raw.count / elapsed, target=None, runs=received),
    ])


if __name__ == "__main__":
    asyncio.run(main())
