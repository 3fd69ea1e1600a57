"""MQTT benchmark: event ingestion through the wristband adapter against raw paho receive, same messages, same run.

``python -m bench.bench_mqtt`` writes bench/results/mqtt.json.

Method: a real Mosquitto (unbounded queues) holds N presence events (QoS 1, unique event_ids) for a persistent
session whose subscription was registered beforehand; the receiver then connects and drains them, timed from its
connect to the N-th message. Because the broker has everything queued, the receiver's own speed is what is measured,
not the publisher's.

- baseline: a bare paho client, its ``loop()`` called in a tight loop, counting in ``on_message`` (nothing decoded);
- value: ``MqttLink`` on the asyncio loop + ``WristbandReaderAdapter`` (JSON decode, field checks, dedup by
  event_id, event dataclass, sink), counting at the event sink.

The two alternate for ``runs`` rounds so other load on the machine hits both alike; the medians are reported.
``ratio`` = adapter rate / raw rate; the target is a minimum: ratio >= 0.5.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench.report import figure, write
from devices.base import DeviceEvent
from devices.transport.mqtt import MqttLink
from devices.wristband_reader.adapter import TagPresent, WristbandReaderAdapter
from hw_sim.broker import MosquittoProcess

SITE = "bench"
READER = "band-bench"
TOPIC = f"hcc/{SITE}/wristband_reader/{READER}/event/presence"
TARGET_MIN_RATIO = 0.5


def _client(client_id: str, clean: bool) -> paho.Client:
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv311, clean_session=clean)
    c.max_inflight_messages_set(1000)
    return c


def _loop_until(c: paho.Client, done: list[bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done[0]:
        c.loop(0.05)
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step did not finish")


def register_session(port: int, client_id: str) -> None:
    """Create a persistent session subscribed to the reader's events, then leave it offline."""
    c = _client(client_id, clean=False)
    done = [False]
    c.on_subscribe = lambda *a: done.__setitem__(0, True)
    c.connect("127.0.0.1", port)
    c.subscribe(f"hcc/{SITE}/wristband_reader/{READER}/event/+", qos=1)
    _loop_until(c, done)
    c.disconnect()
    c.loop(0.05)


def preload(port: int, n: int) -> None:
    c = _client(f"bench-pub-{uuid.uuid4().hex[:6]}", clean=True)
    acked = [0]
    done = [False]

    def on_publish(*a: object) -> None:
        acked[0] += 1
        if acked[0] == n:
            done[0] = True

    c.on_publish = on_publish
    c.connect("127.0.0.1", port)
    base = {"v": 1, "ts": time.time(), "tag_id": "T100", "reader_id": READER, "zone": "wait-2", "rssi": -50.0}
    for _ in range(n):
        c.publish(TOPIC, json.dumps({**base, "event_id": str(uuid.uuid4())}), qos=1)
    _loop_until(c, done)
    c.disconnect()
    c.loop(0.05)


def raw_receive(port: int, client_id: str, n: int) -> float:
    c = _client(client_id, clean=False)
    got = [0]
    done = [False]

    def on_message(*a: object) -> None:
        got[0] += 1
        if got[0] == n:
            done[0] = True

    c.on_message = on_message
    t0 = time.perf_counter()
    c.connect("127.0.0.1", port)
    _loop_until(c, done)
    elapsed = time.perf_counter() - t0
    c.disconnect()
    c.loop(0.05)
    return n / elapsed


async def adapter_receive(port: int, client_id: str, n: int) -> float:
    link = MqttLink(f"mqtt://127.0.0.1:{port}", site=SITE, client_id=client_id, clean_session=False,
                    dedup_size=max(4096, n))
    got = [0]
    done = asyncio.Event()

    def sink(ev: DeviceEvent) -> None:
        if isinstance(ev, TagPresent):
            got[0] += 1
            if got[0] == n:
                done.set()

    adapter = WristbandReaderAdapter(READER, link, sink, room_id="wait-2")
    await adapter.start()
    t0 = time.perf_counter()
    await link.start()
    await asyncio.wait_for(done.wait(), 60)
    elapsed = time.perf_counter() - t0
    await adapter.stop()
    await link.stop()
    assert sum(adapter.bad_input.counts.values()) == 0
    return n / elapsed


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    broker = MosquittoProcess(extra_config=("max_queued_messages 0", "max_queued_bytes 0",
                                            "max_inflight_messages 0")).start()
    raw_rates: list[float] = []
    adapter_rates: list[float] = []
    try:
        for i in range(args.runs):
            raw_id, adapter_id = f"bench-raw-{i}", f"bench-adapter-{i}"
            register_session(broker.port, raw_id)
            register_session(broker.port, adapter_id)
            preload(broker.port, args.messages)  # both sessions get the same N messages
            raw_rates.append(raw_receive(broker.port, raw_id, args.messages))
            adapter_rates.append(asyncio.run(adapter_receive(broker.port, adapter_id, args.messages)))
    finally:
        broker.close()
    value, baseline = statistics.median(adapter_rates), statistics.median(raw_rates)
    fig = figure("mqtt_event_ingestion", "wristband presence events through the adapter vs raw paho receive",
                 "msg/s", value, baseline, target=TARGET_MIN_RATIO, runs=args.runs, direction=">=")
    write("mqtt", [fig])


if __name__ == "__main__":
    main()
