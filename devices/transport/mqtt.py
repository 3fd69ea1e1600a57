"""One paho-mqtt client driven by the asyncio loop: last will, reconnect with capped backoff, QoS 1, handlers that
survive reconnects, event deduplication, and commands as request/response.

No thread: paho's socket callbacks (``on_socket_open``/``close``/``register_write``/``unregister_write``) put the
socket on the loop with ``add_reader``/``add_writer``, and a task calls ``loop_misc()`` once a second for keepalive.
This is the asyncio pattern documented by paho (``examples/loop_asyncio.py``).

paho's ``connect()`` opens its TCP socket synchronously. To keep a dead or black-holed broker from stalling the loop,
each attempt first probes the address with a non-blocking ``asyncio.open_connection`` under a timeout; only when the
probe succeeds does paho connect, which then returns at once.

The controller uses one :class:`MqttLink` per broker URL, shared by every MQTT adapter; each simulated device in
``hw_sim`` has its own (a real client with its own last will).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from devices import mqtt_proto as proto
from devices.base import CodecError, DeviceRejected, DeviceTimeout, DeviceUnavailable

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]
READ_BATCH = 64
ConnectionListener = Callable[[bool], None]
ForgeryListener = Callable[[str, str, str], None]  # (device prefix that answered, request id, reason)


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """``mqtt://host:port`` (default 1883) or ``mqtts://host:port`` (default 8883)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp") or not parts.hostname:
            raise ValueError(f"not an MQTT broker URL: {url!r} (expected mqtt://host:port)")
        tls = parts.scheme == "mqtts"
        return cls(parts.hostname, parts.port or (8883 if tls else 1883), tls)


class CommandRejected(DeviceRejected):
    """The device answered ``ok: false``. ``device_code`` is its stable code (``BUSY``, ``JAMMED``...)."""

    def __init__(self, reply: proto.Reply, *, device_id: str | None = None) -> None:
        super().__init__(f"{reply.code}: {reply.detail}" if reply.detail else reply.code, device_id=device_id)
        self.reply = reply
        self.device_code = reply.code


class EventDeduplicator:
    """Remembers the last ``size`` event ids; ``first_time(id)`` is True only the first time an id is seen."""

    def __init__(self, size: int = 4096) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self.duplicates = 0

    def first_time(self, event_id: str) -> bool:
        if event_id in self._seen:
            self._seen.move_to_end(event_id)
            self.duplicates += 1
            return False
        self._seen[event_id] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


class MqttLink:
    """A paho client on the running asyncio loop.

    - ``availability_topic``: the client's last will there ("offline", retained), "online" (retained) on every
      connect, "offline" on a clean :meth:`stop`.
    - :meth:`subscribe` registers a handler ``(topic, payload)``; subscriptions are renewed on every reconnect.
    - :meth:`request` publishes a command and awaits the device's reply (``DeviceTimeout``/``DeviceRejected``).
    - :meth:`start` never fails because the broker is absent: the link keeps retrying with capped backoff.
    - ``clean_session=False`` (with a fixed ``client_id``) lets the broker keep QoS 1 messages while the link is
      down and deliver them on reconnect; deduplication by event_id absorbs the redeliveries.
    """

    def __init__(
        self,
        url: str,
        *,
        site: str,
        client_id: str | None = None,
        availability_topic: str | None = None,
        username: str | None = None,
        password: str | None = None,
        keepalive: int = 30,
        backoff_min: float = 0.1,
        backoff_max: float = 5.0,
        connect_timeout: float = 3.0,
        dedup_size: int = 4096,
        clean_session: bool = True,
    ) -> None:
        self.address = BrokerAddress.parse(url)
        self.url = url
        self.site = proto.check_id(site, "site")
        self.client_id = client_id or f"hcc-{site}-{proto.new_id()[:8]}"
        self.availability_topic = availability_topic
        self._keepalive = keepalive
        self._backoff = (backoff_min, backoff_max)
        self._connect_timeout = connect_timeout
        self.dedup = EventDeduplicator(dedup_size)

        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=paho.MQTTv311,
            clean_session=clean_session
        )
        self._client.suppress_exceptions = True
        self._client.connect_timeout = connect_timeout
        if username is not None:
            self._client.username_pw_set(username, password)
        if self.address.tls:
            self._client.tls_set()
        if availability_topic:
            self._client.will_set(availability_topic, proto.AVAILABILITY_OFFLINE, qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_socket_open = self._on_socket_open
        self._client.on_socket_close = self._on_socket_close
        self._client.on_socket_register_write = self._on_socket_register_write
        self._client.on_socket_unregister_write = self._on_socket_unregister_write
        self._client.on_message = self._on_unmatched

        self._loop: asyncio.AbstractEventLoop | None = None
        self._handlers: dict[str, list[MessageHandler]] = {}
        self._listeners: list[ConnectionListener] = []
        self._pending: dict[str, tuple[asyncio.Future[proto.Reply], str]] = {}  # request id -> (future, topic)
        self._forgery_listeners: list[ForgeryListener] = []
        self.forged_replies = 0
        self._reply_filter: str | None = None
        self._connected = False
        self._connected_evt = asyncio.Event()
        self._sock_closed = asyncio.Event()
        self._sock_closed.set()
        self._wake = asyncio.Event()
        self._suspended = False
        self._closing = False
        self._supervisor: asyncio.Task[None] | None = None
        self._misc: asyncio.Task[None] | None = None
        self._sock: Any = None
        self._cut_read = False  # a handler asked the drain to stop after the message it is handling
        self._logged_unreachable = False
        self._connected_once_this_attempt = False
        self.connects = 0

    # --- lifecycle -----------------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    async def start(self) -> None:
        """Begin connecting in the background; returns at once."""
        if self._supervisor is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._closing = False
        self._supervisor = self._loop.create_task(self._supervise(), name=f"mqtt-link-{self.client_id}")

    async def wait_connected(self, timeout_s: float | None = None) -> None:
        await asyncio.wait_for(self._connected_evt.wait(), timeout_s)

    async def stop(self) -> None:
        """Clean shutdown: "offline" retained, DISCONNECT (so no will fires), cancel every task."""
        self._closing = True
        self._wake.set()
        if self._connected:
            if self.availability_topic:
                self._client.publish(self.availability_topic, proto.AVAILABILITY_OFFLINE, qos=1, retain=True)
            self._client.disconnect()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sock_closed.wait(), 2.0)
        self._force_close()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        for fut, _ in self._pending.values():
            if not fut.done():
                fut.set_exception(DeviceUnavailable("MQTT link stopped"))
        self._pending.clear()

    async def drop(self) -> None:
        """Lose the connection the way a power cut does: close the socket without DISCONNECT, so the broker
        publishes the last will, and stay away until :meth:`resume`. Used by simulators and tests."""
        self._suspended = True
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            # paho notices the closed socket on its next read; drive it now rather than wait.
            self._client.loop_read()
        self._force_close()
        await asyncio.sleep(0)

    def resume(self) -> None:
        """Reconnect after :meth:`drop`."""
        self._suspended = False
        self._wake.set()

    def _force_close(self) -> None:
        if self._sock is not None:
            self._client._sock_close()  # runs _on_socket_close
        if self._connected:
            self._set_connected(False)

    async def _supervise(self) -> None:
        delay = self._backoff[0]
        while not self._closing:
            if self._suspended:
                self._wake.clear()
                await self._wake.wait()
                continue
            ok = await self._attempt()
            if ok:
                try:  # a broker that accepts TCP but never answers CONNECT must not hold the link forever
                    await asyncio.wait_for(self._connected_evt.wait(), self._connect_timeout)
                except TimeoutError:
                    if not self._sock_closed.is_set():
                        log.warning("MQTT broker %s did not answer CONNECT within %ss", self.url,
                                    self._connect_timeout)
                        self._force_close()
                await self._sock_closed.wait()
                if self._connected_once_this_attempt:
                    delay = self._backoff[0]
            if self._closing:
                break
            if not self._suspended:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                delay = min(delay * 2, self._backoff[1])

    async def _attempt(self) -> bool:
        self._connected_once_this_attempt = False
        host, port = self.address.host, self.address.port
        try:
            _, w = await asyncio.wait_for(asyncio.open_connection(host, port), self._connect_timeout)
            w.close()
            with contextlib.suppress(OSError):
                await w.wait_closed()
            self._sock_closed.clear()
            self._client.connect(host, port, self._keepalive)
        except (OSError, TimeoutError, ValueError) as exc:
            self._sock_closed.set()
            if not self._logged_unreachable:
                log.warning("MQTT broker %s unreachable (%s); retrying with backoff", self.url, exc)
                self._logged_unreachable = True
            return False
        return True

    # --- paho socket callbacks (the asyncio glue) ----------------------------------------------------------

    def _on_socket_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        self._sock = sock
        self._sock_closed.clear()
        self._loop.add_reader(sock, self._readable)
        self._misc = self._loop.create_task(self._misc_loop())

    def _readable(self) -> None:
        self._drain()
        if self._sock is not None:
            # the acknowledgements of what was just read leave now, not on a later turn of the loop: the broker
            # sends a QoS 1 subscriber only so many messages ahead of its PUBACKs (mosquitto: 20), so acks held
            # back for a turn would hold back the next reports in the broker
            self._client.loop_write()

    def _drain(self) -> None:
        # paho reads one packet per loop_read(); drain what is already buffered (bounded) so a burst of events
        # costs one wake-up of the loop, not one per message.
        self._cut_read = False
        for _ in range(READ_BATCH):
            if self._client.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return
            if self._cut_read:
                return  # the rest is read on the next turn of the loop, after what the handler scheduled
            sock = self._sock
            if sock is None:
                return
            try:
                if not sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                    return  # EOF: the next wake-up lets paho see it
            except (BlockingIOError, InterruptedError):
                return
            except (OSError, ValueError):  # e.g. a TLS socket, which takes no flags: one packet per wake-up
                return

    def _on_socket_close(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        with contextlib.suppress(Exception):
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)
        self._sock = None
        if self._misc is not None:
            self._misc.cancel()
            self._misc = None
        self._sock_closed.set()

    def _on_socket_register_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        self._loop.add_writer(sock, client.loop_write)

    def _on_socket_unregister_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        self._loop.remove_writer(sock)

    async def _misc_loop(self) -> None:
        # A periodic timer (keepalive PINGREQ, lost-broker detection), not a wait for a condition.
        while self._client.loop_misc() == MQTTErrorCode.MQTT_ERR_SUCCESS:  # noqa: ASYNC110
            await asyncio.sleep(1.0)

    # --- paho protocol callbacks ---------------------------------------------------------------------------

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any = None) -> None:
        if reason.is_failure:
            log.error("MQTT broker %s refused the connection: %s", self.url, reason)
            return
        self.connects += 1
        self._connected_once_this_attempt = True
        self._logged_unreachable = False
        log.info("MQTT connected to %s as %s", self.url, self.client_id)
        if self.availability_topic:
            client.publish(self.availability_topic, proto.AVAILABILITY_ONLINE, qos=1, retain=True)
        filters = list(self._handlers)
        if self._reply_filter:
            filters.append(self._reply_filter)
        if filters:
            client.subscribe([(f, 1) for f in filters])
        self._set_connected(True)

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any = None) -> None:
        if self._connected and not self._closing:
            log.warning("MQTT link to %s lost (%s)", self.url, reason)
        self._set_connected(False)

    def _set_connected(self, up: bool) -> None:
        if up == self._connected:
            return
        self._connected = up
        if up:
            self._connected_evt.set()
        else:
            self._connected_evt.clear()
        for listener in list(self._listeners):
            try:
                listener(up)
            except Exception:
                log.exception("MQTT connection listener failed")

    def _on_unmatched(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        pass  # e.g. a message of a filter that was just removed

    # --- pub/sub -------------------------------------------------------------------------------------------

    def add_connection_listener(self, listener: ConnectionListener) -> Callable[[], None]:
        """``listener(True/False)`` on every connect/disconnect; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def subscribe(self, topic_filter: str, handler: MessageHandler) -> Callable[[], None]:
        """Call ``handler(topic, payload)`` for every message matching ``topic_filter`` (QoS 1), across reconnects.
        Returns a function that removes the handler."""
        handlers = self._handlers.get(topic_filter)
        if handlers is None:
            handlers = self._handlers[topic_filter] = []

            def dispatch(client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
                for h in list(self._handlers.get(topic_filter, ())):
                    try:
                        h(msg.topic, bytes(msg.payload))
                    except Exception:
                        log.exception("MQTT handler for %s failed", topic_filter)

            self._client.message_callback_add(topic_filter, dispatch)
            if self._connected:
                self._client.subscribe(topic_filter, qos=1)
        handlers.append(handler)

        def remove() -> None:
            hs = self._handlers.get(topic_filter)
            if hs is None or handler not in hs:
                return
            hs.remove(handler)
            if not hs:
                del self._handlers[topic_filter]
                self._client.message_callback_remove(topic_filter)
                if self._connected:
                    self._client.unsubscribe(topic_filter)

        return remove

    def publish(self, topic: str, payload: bytes | str, *, qos: int = 1, retain: bool = False,
                now: bool = False) -> bool:
        """Queue a message; returns False (and drops it) when the link is down. ``now``: write it to the socket
        before returning rather than on the loop's next turn (never from inside a message handler: paho's
        callbacks hold a lock its writes may take)."""
        if not self._connected:
            return False
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if now and self._sock is not None:
            self._client.loop_write()
        return info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS

    def cut_read(self) -> None:
        """From a message handler: stop reading after this message, so that what the handler scheduled with
        ``call_soon`` (a time-critical reply) runs before the rest of the burst is read."""
        self._cut_read = True

    # --- request/response ----------------------------------------------------------------------------------

    async def request(
        self,
        command_topic: str,
        build: Callable[[str, str, float], bytes],
        *,
        timeout_s: float = 5.0,
        device_id: str | None = None,
    ) -> proto.Reply:
        """Publish the command ``build(request_id, reply_to, expires_at)`` and await its reply.

        ``expires_at`` is now + ``timeout_s`` (epoch seconds), so a device never executes a command after the caller
        gave up on it. Raises ``DeviceUnavailable`` when the link is down, ``DeviceTimeout`` without a reply in
        time, ``DeviceRejected`` for ``ok: false`` (the device's ``code`` and ``detail`` are in the message)."""
        if not self._connected:
            raise DeviceUnavailable(f"MQTT broker {self.url} not connected", device_id=device_id)
        if self._reply_filter is None:
            self._reply_filter = proto.reply_filter(self.site)
            self._client.message_callback_add(self._reply_filter, self._on_reply)
            self._client.subscribe(self._reply_filter, qos=1)
        assert self._loop is not None
        request_id = proto.new_id()
        fut: asyncio.Future[proto.Reply] = self._loop.create_future()
        # The reply is expected under the asked device's own prefix, which the broker lets that device alone write.
        reply_to = proto.device_reply_topic(command_topic.rsplit("/cmd/", 1)[0], request_id)
        self._pending[request_id] = (fut, reply_to)
        try:
            payload = build(request_id, reply_to, time.time() + timeout_s)
            self._client.publish(command_topic, payload, qos=1, retain=False)
            try:
                reply = await asyncio.wait_for(fut, timeout_s)
            except TimeoutError:
                raise DeviceTimeout(f"no reply to {command_topic} within {timeout_s}s", device_id=device_id) from None
        finally:
            self._pending.pop(request_id, None)
        if not reply.ok:
            raise CommandRejected(reply, device_id=device_id)
        return reply

    def add_forgery_listener(self, listener: ForgeryListener) -> Callable[[], None]:
        """``listener(device_prefix, request_id, reason)`` for every reply refused as not from the asked device."""
        self._forgery_listeners.append(listener)
        return lambda: self._forgery_listeners.remove(listener) if listener in self._forgery_listeners else None

    def _forged(self, topic: str, request_id: str, reason: str) -> None:
        self.forged_replies += 1
        prefix = topic.rsplit("/reply/", 1)[0]
        log.warning("reply on %s refused (%s): not from the device that was asked", topic[:160], reason)
        for listener in list(self._forgery_listeners):
            try:
                listener(prefix, request_id, reason)
            except Exception:
                log.exception("MQTT forgery listener failed")

    def _on_reply(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        request_id = msg.topic.rsplit("/", 1)[-1]
        pending = self._pending.get(request_id)
        if pending is None:
            return  # a late or duplicate reply; the caller has its answer or gave up
        fut, expected = pending
        if msg.topic != expected:
            # an open request answered by another device: refused, and the request keeps waiting for its device
            self._forged(msg.topic, request_id, "wrong_device")
            return
        if fut.done():
            return
        try:
            reply = proto.decode(proto.Reply, bytes(msg.payload)).msg
        except CodecError as exc:
            log.warning("bad reply on %s: %s", msg.topic, exc)
            return
        if reply.request_id != request_id:
            self._forged(msg.topic, request_id, "wrong_request_id")
            return
        fut.set_result(reply)
