"""The MQTT transport against a real Mosquitto (and the embedded fallback broker): request/response, last will,
reconnect after a broker restart with subscriptions renewed, and the same transport over the embedded broker."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from devices import mqtt_proto as proto
from devices.base import DeviceRejected, DeviceTimeout, DeviceUnavailable
from devices.transport.mqtt import MqttLink
from hw_sim.broker import MosquittoProcess, start_broker
from tests.contract.conftest import Collector, needs_mosquitto


@contextlib.asynccontextmanager
async def link(url: str, site: str, availability: str | None = None, **kw: Any) -> AsyncIterator[MqttLink]:
    lk = MqttLink(url, site=site, availability_topic=availability, **kw)
    await lk.start()
    try:
        await lk.wait_connected(5)
        yield lk
    finally:
        await lk.stop()


def answer(device: MqttLink, ok: bool = True, code: str = "OK") -> Callable[[str, bytes], None]:
    """A minimal device: answers every command on its topic."""

    def on_cmd(topic: str, payload: bytes) -> None:
        cmd = proto.decode(proto.Command, payload).msg
        reply = proto.Reply(request_id=cmd.request_id, ok=ok, code=code, detail="no" if not ok else "",
                            data={"cmd": topic.rsplit("/", 1)[-1]})
        device.publish(cmd.reply_to, proto.encode(reply))

    return on_cmd


def build(rid: str, reply_to: str, expires_at: float) -> bytes:
    return proto.encode(proto.Command(request_id=rid, reply_to=reply_to, expires_at=expires_at))


async def test_request_gets_the_devices_reply(mqtt_broker: MosquittoProcess, mqtt_site: str) -> None:
    async with link(mqtt_broker.url, mqtt_site) as ctl, link(mqtt_broker.url, mqtt_site) as dev:
        dev.subscribe(f"hcc/{mqtt_site}/door_lock/d1/cmd/+", answer(dev))
        reply = await ctl.request(f"hcc/{mqtt_site}/door_lock/d1/cmd/unlock", build, timeout_s=5)
        assert reply.ok and reply.data == {"cmd": "unlock"}


async def test_rejected_command_raises_device_rejected(mqtt_broker: MosquittoProcess, mqtt_site: str) -> None:
    async with link(mqtt_broker.url, mqtt_site) as ctl, link(mqtt_broker.url, mqtt_site) as dev:
        dev.subscribe(f"hcc/{mqtt_site}/door_lock/d1/cmd/+", answer(dev, ok=False, code="JAMMED"))
        with pytest.raises(DeviceRejected, match="JAMMED") as err:
            await ctl.request(f"hcc/{mqtt_site}/door_lock/d1/cmd/lock", build, timeout_s=5, device_id="d1")
        assert err.value.device_id == "d1"


async def test_unanswered_command_times_out(mqtt_broker: MosquittoProcess, mqtt_site: str) -> None:
    async with link(mqtt_broker.url, mqtt_site) as ctl:
        with pytest.raises(DeviceTimeout):
            await ctl.request(f"hcc/{mqtt_site}/door_lock/nobody/cmd/lock", build, timeout_s=0.2)


async def test_request_without_broker_is_unavailable(mqtt_site: str) -> None:
    lk = MqttLink("mqtt://127.0.0.1:1", site=mqtt_site)
    await lk.start()
    try:
        with pytest.raises(DeviceUnavailable):
            await lk.request(f"hcc/{mqtt_site}/door_lock/d1/cmd/lock", build)
    finally:
        await lk.stop()


async def test_last_will_marks_a_dropped_client_offline(
    mqtt_broker: MosquittoProcess, mqtt_site: str, collector: Collector
) -> None:
    topic = proto.availability_topic(mqtt_site, "panic_button", "p1")
    async with link(mqtt_broker.url, mqtt_site) as watcher, link(mqtt_broker.url, mqtt_site, topic) as dev:
        watcher.subscribe(topic, lambda t, p: collector(p))
        await collector.wait_for(lambda p: p == b"online")
        await dev.drop()  # socket closed without DISCONNECT: the broker publishes the will
        await collector.wait_for(lambda p: p == b"offline")
        dev.resume()
        await dev.wait_connected(5)
        await collector.wait_count(lambda p: p == b"online", 2)
    # retained: a late subscriber learns the last state (a clean stop publishes "offline" too)
    async with link(mqtt_broker.url, mqtt_site) as late:
        late_seen = Collector()
        late.subscribe(topic, lambda t, p: late_seen(p))
        assert await late_seen.wait_for(lambda p: True) == b"offline"


async def test_link_reconnects_after_broker_restart_and_keeps_subscriptions(
    fresh_broker: MosquittoProcess, mqtt_site: str, collector: Collector
) -> None:
    topic = f"hcc/{mqtt_site}/wristband_reader/r1/event/presence"
    async with link(fresh_broker.url, mqtt_site, backoff_max=0.2) as sub:
        sub.subscribe(topic, lambda t, p: collector(p))
        connects_before = sub.connects
        fresh_broker.stop()
        await _until(sub, lambda: not sub.connected)
        fresh_broker.start()
        await _until(sub, lambda: sub.connected and sub.connects > connects_before)
        async with link(fresh_broker.url, mqtt_site) as pub:
            assert pub.publish(topic, b"after-restart")
            await collector.wait_for(lambda p: p == b"after-restart")


async def _until(lk: MqttLink, pred: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait (bounded) until a connection change of ``lk`` makes ``pred`` true."""
    changed = asyncio.Event()
    remove = lk.add_connection_listener(lambda up: changed.set())
    try:
        async with asyncio.timeout(timeout_s):
            while not pred():
                changed.clear()
                await changed.wait()
    finally:
        remove()


async def test_embedded_broker_pubsub_retained_and_will(mqtt_site: str, collector: Collector) -> None:
    broker = await start_broker(0, prefer="embedded")
    assert broker.kind == "embedded"
    try:
        avail = proto.availability_topic(mqtt_site, "door_lock", "d1")
        async with link(broker.url, mqtt_site, avail) as dev:
            dev.publish(f"hcc/{mqtt_site}/door_lock/d1/state", b'{"v":1}', retain=True)
            dev.subscribe(f"hcc/{mqtt_site}/door_lock/d1/cmd/+", answer(dev))
            async with link(broker.url, mqtt_site) as ctl:
                ctl.subscribe(f"hcc/{mqtt_site}/door_lock/+/#", lambda t, p: collector((t, p)))
                # retained messages reach a subscriber that arrives later
                await collector.wait_for(lambda i: i == (f"hcc/{mqtt_site}/door_lock/d1/state", b'{"v":1}'))
                await collector.wait_for(lambda i: i == (avail, b"online"))
                reply = await ctl.request(f"hcc/{mqtt_site}/door_lock/d1/cmd/lock", build, timeout_s=5)
                assert reply.ok
                await dev.drop()
                await collector.wait_for(lambda i: i == (avail, b"offline"))
    finally:
        await broker.stop()


@needs_mosquitto
async def test_mosquitto_with_credentials_admits_the_right_client(mqtt_site: str, tmp_path: Any) -> None:
    broker = await start_broker(0, prefer="mosquitto", run_dir=tmp_path, username="controller", password="s3cret")
    try:
        assert broker.kind == "mosquitto"
        async with link(broker.url, mqtt_site, username="controller", password="s3cret") as lk:
            assert lk.connected
    finally:
        await broker.stop()


async def test_a_handler_cuts_a_burst_short_so_what_it_schedules_runs_before_the_rest(
        mqtt_broker: MosquittoProcess, mqtt_site: str) -> None:
    """The link reads a burst of messages per wake-up; a handler that calls ``cut_read`` (the device bridge, on a
    wristband that moved) gets what it scheduled with ``call_soon`` run before the next message of the burst is
    handled, and nothing of the burst is lost. The burst: 20 QoS 1 messages published while the subscriber's
    loop is held (no await), all in its socket before it reads the first."""
    topic = f"hcc/{mqtt_site}/wristband_reader/r1/event/presence"
    order: list[Any] = []
    async with link(mqtt_broker.url, mqtt_site) as sub, link(mqtt_broker.url, mqtt_site) as pub:

        def on_msg(_t: str, payload: bytes) -> None:
            order.append(int(payload))
            if payload == b"0":
                sub.cut_read()
                asyncio.get_running_loop().call_soon(order.append, "soon")

        sub.subscribe(topic, on_msg)
        for _ in range(100):  # the subscription is in place once one of these is heard (bounded)
            if order:
                break
            assert pub.publish(topic, b"-1", now=True)
            await asyncio.sleep(0.05)
        assert order and set(order) == {-1}
        for i in range(20):  # written at once (``now``), while this coroutine holds the loop
            assert pub.publish(topic, str(i).encode(), now=True)
        whole = 20 * (2 + 2 + len(topic) + 2 + 1)  # 20 PUBLISH packets, each at least this long
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the broker forwards them to the subscriber's socket meanwhile
            with contextlib.suppress(BlockingIOError):
                if len(sub._sock.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT)) >= whole:
                    break
        for _ in range(500):
            if 19 in order:
                break
            await asyncio.sleep(0.01)  # bounded wait for the burst to be read
        burst = [x for x in order if x != -1]  # (a probe published just before the burst may come after the first)
        assert burst[:3] == [0, "soon", 1]
        assert [x for x in burst if x != "soon"] == list(range(20))  # in order, none lost
