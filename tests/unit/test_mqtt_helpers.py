"""Pure helpers of the MQTT stack: the bounded event deduplicator, broker URLs and the embedded broker's topic
matching."""

from __future__ import annotations

import pytest

from devices.transport.mqtt import BrokerAddress, EventDeduplicator
from hw_sim.broker import _valid_filter, topic_matches


def test_dedup_remembers_a_bounded_number_of_ids() -> None:
    d = EventDeduplicator(size=3)
    assert [d.first_time(x) for x in "abca"] == [True, True, True, False]
    d.first_time("d")  # evicts the least recently seen ("b"; "a" was just seen again)
    assert d.first_time("b") is True
    assert d.first_time("a") is False
    assert d.duplicates == 2


@pytest.mark.parametrize(("url", "address"), [
    ("mqtt://127.0.0.1:18830", BrokerAddress("127.0.0.1", 18830)),
    ("mqtt://broker", BrokerAddress("broker", 1883)),
    ("mqtts://broker", BrokerAddress("broker", 8883, tls=True)),
])
def test_broker_urls(url: str, address: BrokerAddress) -> None:
    assert BrokerAddress.parse(url) == address


@pytest.mark.parametrize("url", ["http://x:1", "/dev/ttyUSB0", "mqtt://"])
def test_bad_broker_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        BrokerAddress.parse(url)


@pytest.mark.parametrize(("filt", "topic", "match"), [
    ("hcc/+/door_lock/+/state", "hcc/s/door_lock/d1/state", True),
    ("hcc/+/door_lock/+/state", "hcc/s/door_lock/d1/event/x", False),
    ("hcc/s/#", "hcc/s", True),
    ("hcc/s/#", "hcc/s/a/b/c", True),
    ("hcc/s/+", "hcc/s/a/b", False),
    ("#", "$SYS/broker/uptime", False),
    ("+/x", "/x", True),
])
def test_embedded_broker_topic_matching(filt: str, topic: str, match: bool) -> None:
    assert topic_matches(filt, topic) is match


@pytest.mark.parametrize(("filt", "ok"), [("a/#", True), ("a/#/b", False), ("a+/b", False), ("+", True), ("", False)])
def test_embedded_broker_filter_validation(filt: str, ok: bool) -> None:
    assert _valid_filter(filt) is ok
