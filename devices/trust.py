"""Who may speak on the site's MQTT tree: the controller's check of message sources (issue 16).

The broker's ACL already stops a client from writing under another device's topics; what is left for the controller
is traffic it cannot place: topics naming a device id the site does not list, or not following the topic grammar
(``hcc/<site>/<kind>/<id>/{availability,state,event/<name>,reply/<request id>,cmd/<name>}``). :class:`SourceWatch`
counts such messages per source, logs the first one of each source, and reports a source (an
:class:`~devices.base.UnknownSource` event) when its count reaches ``threshold`` and again at every ``threshold``
more, so the alarm's counter follows without one event per message.

It also turns a link's refused replies (:meth:`MqttLink.add_forgery_listener`) into
:class:`~devices.base.ReplyForged` events.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from devices.base import EventSink, ReplyForged, UnknownSource

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 10
MAX_SOURCES = 1024  # a flood of ever-new ids is folded into one source rather than growing memory
TOPIC_LEAVES = frozenset({"availability", "state", "event", "reply", "cmd"})


class SourceWatch:
    """Counts messages from sources the site does not know; ``known`` is ``(kind, device id)`` pairs."""

    def __init__(self, site: str, known: Iterable[tuple[str, str]], sink: EventSink, *,
                 threshold: int = DEFAULT_THRESHOLD, clock: Callable[[], float] = time.time) -> None:
        self.root = f"hcc/{site}/"
        self.known: set[tuple[str, str]] = set(known)
        self.threshold = max(1, threshold)
        self.counts: dict[str, int] = {}
        self._sink = sink
        self._clock = clock

    def source_of(self, topic: str) -> str | None:
        """None for a known device or the controller's own topics; else the source to count it against."""
        if not topic.startswith(self.root):
            return "malformed:" + topic.split("/", 2)[-1][:40]
        parts = topic[len(self.root):].split("/")
        if parts[0] in ("controller", "bridge"):  # the controller's own, and its device bridge's (one account)
            return None
        if len(parts) >= 3 and (parts[0], parts[1]) in self.known and parts[2] in TOPIC_LEAVES:
            leaf_ok = len(parts) == 3 if parts[2] in ("availability", "state") else len(parts) == 4
            if leaf_ok:
                return None
            return f"malformed:{parts[0]}/{parts[1]}"[:80]
        if len(parts) >= 2 and (parts[0], parts[1]) in self.known:
            return f"malformed:{parts[0]}/{parts[1]}"[:80]
        return f"{parts[0]}/{parts[1]}"[:80] if len(parts) >= 2 else f"malformed:{parts[0]}"[:80]

    def on_message(self, topic: str, payload: bytes) -> None:
        source = self.source_of(topic)
        if source is None:
            return
        if source not in self.counts and len(self.counts) >= MAX_SOURCES:
            source = "overflow"
        n = self.counts[source] = self.counts.get(source, 0) + 1
        if n == 1:
            log.warning("MQTT message from a source the site does not list (%s, topic %s); further ones are "
                        "only counted", source, topic[:120])
        if n % self.threshold == 0:
            self._sink(UnknownSource(source, "unknown", self._clock(), topic=topic[:160], count=n))

    def on_forged_reply(self, device_prefix: str, request_id: str, reason: str) -> None:
        """A link refused a reply: report the client whose topic carried it."""
        parts = device_prefix[len(self.root):].split("/") if device_prefix.startswith(self.root) else []
        kind, device_id = (parts[0], parts[1]) if len(parts) >= 2 else ("unknown", device_prefix[-40:])
        self._sink(ReplyForged(device_id, kind, self._clock(), reason=reason, request_id=request_id))


def parse_key(text: str) -> bytes:
    """A device key file's text (hex, as `devices credentials` writes it) -> bytes; ValueError if not a key."""
    key = bytes.fromhex(text.strip())
    if len(key) < 16:
        raise ValueError("a device key has at least 16 bytes")
    return key
