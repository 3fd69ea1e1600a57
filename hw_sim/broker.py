"""The MQTT broker for simulations and tests: a real Mosquitto process, or a small embedded broker where it is absent.

``await start_broker(port)`` returns a :class:`BrokerHandle` once the broker accepts connections; ``await
handle.stop()`` ends it. Mosquitto runs from a generated config (listener on 127.0.0.1, persistence off, anonymous
access only in the open bench mode: with the site's generated accounts and ACL, ``auth_dir``, it runs as production). The embedded broker is a deliberately small MQTT 3.1.1 broker on the
asyncio loop (CONNECT with will, SUBSCRIBE with ``+``/``#``, PUBLISH QoS 0/1 with PUBACK, retained messages, the will
on abnormal disconnect, PINGREQ, DISCONNECT); QoS 2 is refused and subscriptions are granted at most QoS 1. It is
only for machines without Mosquitto (``make demo`` fallback) and is not meant for production.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from devices import mqtt_proto

log = logging.getLogger(__name__)

MOSQUITTO_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto")


def find_mosquitto() -> str | None:
    """Path of the mosquitto executable, or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((p for p in MOSQUITTO_CANDIDATES if os.access(p, os.X_OK)), None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (bind to port 0 and read it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BrokerError(RuntimeError):
    """The broker could not be started (missing executable, port taken, did not come up in time)."""


@dataclass
class BrokerHandle:
    """A running broker. ``url`` is ``mqtt://127.0.0.1:<port>``; ``kind`` says which implementation runs."""

    port: int
    kind: Literal["mosquitto", "embedded"]
    host: str = "127.0.0.1"
    _proc: asyncio.subprocess.Process | None = None
    _server: EmbeddedBroker | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def stop(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), 5)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        if self._server is not None:
            await self._server.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


async def start_broker(
    port: int,
    prefer: Literal["mosquitto", "embedded"] = "mosquitto",
    *,
    run_dir: Path | None = None,
    username: str | None = None,
    password: str | None = None,
    timeout_s: float = 5.0,
    auth_dir: Path | None = None,
) -> BrokerHandle:
    """Start a broker on 127.0.0.1:``port`` (0: a free port). ``prefer="mosquitto"`` falls back to the embedded
    broker when the executable is absent; ``prefer="embedded"`` always uses the embedded one.

    ``auth_dir``: the output of `devices credentials` (``mosquitto.passwd``, ``mosquitto.acl``): the broker then runs
    as production does, every client with its own account and the generated ACL. The embedded broker has neither
    accounts nor an ACL, so it serves only the open bench mode and refuses to start with ``auth_dir``."""
    if prefer == "mosquitto":
        exe = find_mosquitto()
        if exe is not None:
            return await _start_mosquitto(exe, port or free_port(), run_dir, username, password, timeout_s,
                                          auth_dir)
        log.warning("mosquitto not found; using the embedded Python MQTT broker on port %d", port)
    if username or password or auth_dir:
        raise BrokerError("the embedded broker is for the open bench mode only (no accounts, no ACL); "
                          "install mosquitto")
    server = EmbeddedBroker()
    await server.start("127.0.0.1", port)
    return BrokerHandle(port=server.port, kind="embedded", _server=server)


def write_mosquitto_config(conf_dir: Path, port: int, password_file: Path | None = None,
                           extra: tuple[str, ...] = (), acl_file: Path | None = None) -> Path:
    """A config for one listener on 127.0.0.1:``port``, persistence off, logging to stderr; ``extra`` lines
    are appended (e.g. ``max_queued_messages 0`` for a benchmark)."""
    lines = [f"listener {port} 127.0.0.1", "persistence false", "log_dest stderr",
             "log_type error", "log_type warning", "log_type notice", "max_keepalive 65535",
             *mqtt_proto.BROKER_SETTINGS]
    if os.geteuid() == 0:
        # Started as root, mosquitto drops to the "mosquitto" user; stay as who we are so files stay ours.
        lines.append("user root")
    if password_file is not None:
        lines += ["allow_anonymous false", f"password_file {password_file}"]
        if acl_file is not None:
            lines.append(f"acl_file {acl_file}")
    else:
        lines.append("allow_anonymous true")
    lines += extra
    conf = conf_dir / f"mosquitto-{port}.conf"
    conf.write_text("\n".join(lines) + "\n")
    return conf


class MosquittoProcess:
    """A mosquitto process managed synchronously: pytest fixtures, and tests that restart the broker."""

    def __init__(self, port: int = 0, conf_dir: Path | None = None, extra_config: tuple[str, ...] = (),
                 auth_dir: Path | None = None) -> None:
        exe = find_mosquitto()
        if exe is None:
            raise BrokerError("mosquitto is not installed")
        self.exe = exe
        self.port = port or free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="hcc-mosquitto-") if conf_dir is None else None
        self.conf_dir = Path(self._tmp.name) if self._tmp else Path(conf_dir or ".")
        self.conf = write_mosquitto_config(
            self.conf_dir, self.port, extra=extra_config,
            password_file=auth_dir / "mosquitto.passwd" if auth_dir else None,
            acl_file=auth_dir / "mosquitto.acl" if auth_dir else None)
        self.log_path = self.conf_dir / f"mosquitto-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 5.0) -> MosquittoProcess:
        with open(self.log_path, "ab") as log_file:
            self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                         stdout=log_file, stderr=log_file, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise BrokerError(f"mosquitto exited with {self.proc.returncode}: "
                                  f"{self.log_path.read_text(errors='replace')[-300:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise BrokerError(f"mosquitto did not listen on {self.port} within {timeout_s}s") from None
                time.sleep(0.02)  # bounded poll for the listener; mosquitto gives no readiness signal

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()


async def _start_mosquitto(
    exe: str, port: int, run_dir: Path | None, username: str | None, password: str | None, timeout_s: float,
    auth_dir: Path | None = None,
) -> BrokerHandle:
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if run_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="hcc-mosquitto-")
        conf_dir = Path(tmp.name)
    else:
        conf_dir = Path(run_dir)
        conf_dir.mkdir(parents=True, exist_ok=True)
    pw_file = None
    if username:
        pw_file = conf_dir / f"mosquitto-{port}.passwd"
        pw_file.write_text("")
        pw_file.chmod(0o600)
        pw = await asyncio.create_subprocess_exec(
            "mosquitto_passwd", "-b", str(pw_file), username, password or "",
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, err = await pw.communicate()
        if pw.returncode != 0:
            raise BrokerError(f"mosquitto_passwd failed: {err.decode(errors='replace').strip()}")
    acl_file = None
    if auth_dir is not None:
        pw_file, acl_file = auth_dir / "mosquitto.passwd", auth_dir / "mosquitto.acl"
    conf = write_mosquitto_config(conf_dir, port, pw_file, acl_file=acl_file)
    log_path = conf_dir / f"mosquitto-{port}.log"
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        proc = await asyncio.create_subprocess_exec(
            exe, "-c", str(conf), stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd,
            start_new_session=True,
        )
    finally:
        os.close(log_fd)
    handle = BrokerHandle(port=port, kind="mosquitto", _proc=proc, _tmp=tmp, log_path=log_path)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        if proc.returncode is not None:
            text = log_path.read_text(errors="replace")[-500:]
            await handle.stop()
            raise BrokerError(f"mosquitto exited with {proc.returncode} on port {port}: {text.strip()}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                await handle.stop()
                raise BrokerError(f"mosquitto did not accept connections on port {port} within {timeout_s}s") from None
            # Bounded poll for the listener to come up; mosquitto gives no readiness signal.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 0.02)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        log.info("mosquitto %s up on 127.0.0.1:%d (pid %d)", exe, port, proc.pid)
        return handle


# --- embedded MQTT 3.1.1 broker -------------------------------------------------------------------------------

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14
MAX_PACKET = 1 << 20


class ProtocolViolation(Exception):
    pass


def topic_matches(filt: str, topic: str) -> bool:
    """MQTT filter match with ``+`` (one level) and ``#`` (the rest); ``$``-topics are not matched by wildcards."""
    if topic.startswith("$") and filt[:1] in ("+", "#"):
        return False
    f_parts = filt.split("/")
    t_parts = topic.split("/")
    for i, f in enumerate(f_parts):
        if f == "#":
            return True
        if i >= len(t_parts):
            return False
        if f != "+" and f != t_parts[i]:
            return False
    return len(f_parts) == len(t_parts)


def _valid_filter(filt: str) -> bool:
    if not filt:
        return False
    parts = filt.split("/")
    for i, p in enumerate(parts):
        if "#" in p and (p != "#" or i != len(parts) - 1):
            return False
        if "+" in p and p != "+":
            return False
    return True


def _utf8(buf: bytes, pos: int) -> tuple[str, int]:
    if pos + 2 > len(buf):
        raise ProtocolViolation("truncated string")
    (n,) = struct.unpack_from("!H", buf, pos)
    pos += 2
    if pos + n > len(buf):
        raise ProtocolViolation("truncated string")
    try:
        return buf[pos:pos + n].decode("utf-8"), pos + n
    except UnicodeDecodeError as exc:
        raise ProtocolViolation("bad utf-8") from exc


def _bin(buf: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 2 > len(buf):
        raise ProtocolViolation("truncated field")
    (n,) = struct.unpack_from("!H", buf, pos)
    pos += 2
    if pos + n > len(buf):
        raise ProtocolViolation("truncated field")
    return buf[pos:pos + n], pos + n


def _enc_str(s: str) -> bytes:
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def _packet(ptype: int, flags: int, body: bytes) -> bytes:
    n = len(body)
    rl = bytearray()
    while True:
        byte, n = n % 128, n // 128
        rl.append(byte | (0x80 if n else 0))
        if not n:
            break
    return bytes([(ptype << 4) | flags]) + bytes(rl) + body


@dataclass
class _Session:
    client_id: str
    writer: asyncio.StreamWriter
    subs: dict[str, int] = field(default_factory=dict)
    will: tuple[str, bytes, int, bool] | None = None
    next_mid: int = 0

    def mid(self) -> int:
        self.next_mid = self.next_mid % 65535 + 1
        return self.next_mid


class EmbeddedBroker:
    """A minimal MQTT 3.1.1 broker on asyncio. Clean sessions only; QoS 1 out is sent once (no redelivery)."""

    def __init__(self) -> None:
        self._server: asyncio.base_events.Server | None = None
        self._sessions: dict[str, _Session] = {}
        self._retained: dict[str, tuple[bytes, int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._on_client, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("embedded MQTT broker up on %s:%d", host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for s in list(self._sessions.values()):
            s.writer.close()
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        session: _Session | None = None
        clean = False
        try:
            session = await self._handshake(reader, writer)
            if session is None:
                return
            while True:
                ptype, flags, body = await self._read_packet(reader)
                if ptype == DISCONNECT:
                    clean = True
                    return
                self._handle(session, ptype, flags, body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ProtocolViolation, asyncio.CancelledError) as exc:
            if isinstance(exc, ProtocolViolation):
                log.debug("embedded broker: dropping client: %s", exc)
        finally:
            self._tasks.discard(task)
            if session is not None and self._sessions.get(session.client_id) is session:
                del self._sessions[session.client_id]
                if not clean and session.will is not None:
                    self._route(*session.will)
            writer.close()

    async def _read_packet(self, reader: asyncio.StreamReader) -> tuple[int, int, bytes]:
        head = (await reader.readexactly(1))[0]
        mult, length = 1, 0
        for _ in range(4):
            b = (await reader.readexactly(1))[0]
            length += (b & 0x7F) * mult
            mult *= 128
            if not b & 0x80:
                break
        else:
            raise ProtocolViolation("bad remaining length")
        if length > MAX_PACKET:
            raise ProtocolViolation("packet too large")
        body = await reader.readexactly(length) if length else b""
        return head >> 4, head & 0x0F, body

    async def _handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> _Session | None:
        ptype, _, body = await asyncio.wait_for(self._read_packet(reader), 10)
        if ptype != CONNECT:
            raise ProtocolViolation("first packet is not CONNECT")
        proto, pos = _utf8(body, 0)
        if pos + 4 > len(body):
            raise ProtocolViolation("truncated CONNECT")
        level, cflags = body[pos], body[pos + 1]
        pos += 4  # level, flags, keepalive
        if proto not in ("MQTT", "MQIsdp") or level not in (3, 4):
            writer.write(_packet(CONNACK, 0, b"\x00\x01"))
            await writer.drain()
            return None
        client_id, pos = _utf8(body, pos)
        will = None
        if cflags & 0x04:
            wtopic, pos = _utf8(body, pos)
            wmsg, pos = _bin(body, pos)
            will = (wtopic, wmsg, min((cflags >> 3) & 0x03, 1), bool(cflags & 0x20))
        if not client_id:
            client_id = f"auto-{id(writer):x}"
        old = self._sessions.get(client_id)
        if old is not None:
            old.will = None  # a takeover is not an abnormal disconnect of the device
            old.writer.close()
        session = _Session(client_id, writer, will=will)
        self._sessions[client_id] = session
        writer.write(_packet(CONNACK, 0, b"\x00\x00"))
        await writer.drain()
        return session

    def _handle(self, s: _Session, ptype: int, flags: int, body: bytes) -> None:
        if ptype == PUBLISH:
            qos = (flags >> 1) & 0x03
            retain = bool(flags & 0x01)
            topic, pos = _utf8(body, 0)
            if qos > 1:
                raise ProtocolViolation("QoS 2 not supported")
            if "+" in topic or "#" in topic or not topic:
                raise ProtocolViolation("bad topic")
            if qos == 1:
                (mid,) = struct.unpack_from("!H", body, pos)
                pos += 2
                s.writer.write(_packet(PUBACK, 0, struct.pack("!H", mid)))
            self._route(topic, body[pos:], qos, retain)
        elif ptype == SUBSCRIBE:
            (mid,) = struct.unpack_from("!H", body, 0)
            pos = 2
            granted = bytearray()
            new: list[tuple[str, int]] = []
            while pos < len(body):
                filt, pos = _utf8(body, pos)
                if pos >= len(body):
                    raise ProtocolViolation("truncated SUBSCRIBE")
                qos = min(body[pos] & 0x03, 1)
                pos += 1
                if _valid_filter(filt):
                    s.subs[filt] = qos
                    granted.append(qos)
                    new.append((filt, qos))
                else:
                    granted.append(0x80)
            s.writer.write(_packet(SUBACK, 0, struct.pack("!H", mid) + bytes(granted)))
            for filt, qos in new:
                for topic, (payload, rqos) in list(self._retained.items()):
                    if topic_matches(filt, topic):
                        self._deliver(s, topic, payload, min(qos, rqos), retain=True)
        elif ptype == UNSUBSCRIBE:
            (mid,) = struct.unpack_from("!H", body, 0)
            pos = 2
            while pos < len(body):
                filt, pos = _utf8(body, pos)
                s.subs.pop(filt, None)
            s.writer.write(_packet(UNSUBACK, 0, struct.pack("!H", mid)))
        elif ptype == PINGREQ:
            s.writer.write(_packet(PINGRESP, 0, b""))
        elif ptype == PUBACK:
            pass  # outgoing QoS 1 is fire-once here
        else:
            raise ProtocolViolation(f"unsupported packet type {ptype}")

    def _route(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        if retain:
            if payload:
                self._retained[topic] = (payload, qos)
            else:
                self._retained.pop(topic, None)
        for s in list(self._sessions.values()):
            best = -1
            for filt, sq in s.subs.items():
                if sq > best and topic_matches(filt, topic):
                    best = sq
            if best >= 0:
                self._deliver(s, topic, payload, min(qos, best), retain=False)

    def _deliver(self, s: _Session, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        if s.writer.is_closing():
            return
        body = _enc_str(topic)
        if qos:
            body += struct.pack("!H", s.mid())
        s.writer.write(_packet(PUBLISH, (qos << 1) | int(retain), body + payload))
