"""JSON codecs of the MQTT devices (both roles): round trips, the payload policy, and fuzzing that shows decoders
raise nothing but CodecError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import mqtt_proto as proto
from devices.alarm_beacon import protocol as beacon
from devices.base import CodecError
from devices.door_lock import protocol as door
from devices.panic_button import protocol as panic
from devices.recorder import protocol as recorder
from devices.wristband_reader import protocol as band

EV = {"event_id": "0b7c2f0e-1d7a-4c55-9f0e-3f5d2b9d1a11", "ts": 1767225600.5}
CMD = {"request_id": "5f1c9e0a-2b3c-4d5e-8f90-a1b2c3d4e5f6", "reply_to": "hcc/demo-centre/controller/reply/5f1c",
       "expires_at": 1767225605.0}

MESSAGES: list[proto.Message] = [
    band.PresenceMsg(tag_id="T100", reader_id="band-wait-2", zone="wait-2", rssi=-51.5, **EV),
    band.AbsentMsg(tag_id="T100", reader_id="band-wait-2", zone="wait-2", **EV),
    band.TagRemovedMsg(tag_id="T100", reader_id="band-int-1", zone="int-1", reason="cut", **EV),
    door.DoorStateMsg(ts=1.0, door="closed", lock="locked"),
    door.ForcedOpenMsg(**EV),
    door.LockCmd(**CMD),
    door.UnlockCmd(hold_s=5.0, **CMD),
    panic.PressedMsg(**EV),
    beacon.BeaconStateMsg(ts=2.0, on=True, pattern="strobe", severity="critical"),
    beacon.OnCmd(pattern="flash", severity="warning", **CMD),
    beacon.OffCmd(**CMD),
    recorder.RecorderStateMsg(ts=3.0, seq=7, recording=True, recording_id="r-1", room_id="int-1", stay_id="s-1",
                              since=2.5),
    recorder.FailureMsg(recording_id="r-1", code="DISK_FULL", detail="disk full", **EV),
    recorder.StartCmd(room_id="int-1", stay_id="s-1", **CMD),
    recorder.StopCmd(recording_id="r-1", **CMD),
    proto.Reply(request_id="5f1c9e0a", ok=False, code="BUSY", detail="already recording", data={"x": 1}),
]


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips(msg: proto.Message) -> None:
    decoded = proto.decode(type(msg), proto.encode(msg))
    assert decoded.msg == msg and decoded.unknown == ()


def test_presence_fixture_decodes_to_fields() -> None:
    wire = (b'{"v":1,"event_id":"e-1","ts":1767225600,"tag_id":"T100","reader_id":"band-wait-2",'
            b'"zone":"wait-2","rssi":-51}')
    msg = proto.decode(band.PresenceMsg, wire).msg
    assert (msg.tag_id, msg.zone, msg.rssi, msg.ts) == ("T100", "wait-2", -51.0, 1767225600.0)


def test_unknown_fields_are_reported_and_stripped() -> None:
    decoded = proto.decode(panic.PressedMsg, json.dumps({"v": 1, **EV, "battery": 3, "fw": "2.1"}).encode())
    assert decoded.unknown == ("battery", "fw") and decoded.msg == panic.PressedMsg(**EV)


@pytest.mark.parametrize(("payload", "reason"), [
    (b"", "malformed"),
    (b"\xff\xfe", "malformed"),
    (b"{", "malformed"),
    (b'{"v":1,"ts":NaN}', "malformed"),
    (b'{"v":1,"event_id":"e","ts":1e999}', "bad_field"),
    (b"[]", "not_object"),
    (b'"online"', "not_object"),
    (b"{}", "missing_v"),
    (b'{"v":true}', "bad_v"),
    (b'{"v":"1"}', "bad_v"),
    (b'{"v":2}', "unsupported_v"),
    (b" " * (proto.MAX_PAYLOAD_BYTES + 1), "oversized"),
])
def test_payload_policy(payload: bytes, reason: str) -> None:
    with pytest.raises(proto.MessageError) as err:
        proto.decode(panic.PressedMsg, payload)
    assert err.value.reason == reason


@pytest.mark.parametrize(("obj", "reason"), [
    ({"v": 1, "ts": 1.0}, "missing_field"),
    ({"v": 1, "event_id": "", "ts": 1.0}, "bad_field"),
    ({"v": 1, "event_id": "e", "ts": True}, "bad_field"),
    ({"v": 1, "event_id": "e", "ts": "now"}, "bad_field"),
    ({"v": 1, "event_id": "e" * 600, "ts": 1.0}, "bad_field"),
    ({"v": 1, "event_id": "e", "ts": 10**400}, "bad_field"),
])
def test_field_checks(obj: dict[str, Any], reason: str) -> None:
    with pytest.raises(proto.MessageError) as err:
        proto.decode(panic.PressedMsg, json.dumps(obj).encode())
    assert err.value.reason == reason


def test_command_checks_request_id_and_reply_to() -> None:
    bad_reply_to = {**CMD, "reply_to": "hcc/demo-centre/controller/reply/#"}
    with pytest.raises(CodecError):
        proto.decode(door.LockCmd, json.dumps({"v": 1, **bad_reply_to}).encode())
    with pytest.raises(CodecError):
        proto.decode(door.LockCmd, json.dumps({"v": 1, **CMD, "request_id": "Not Valid"}).encode())
    with pytest.raises(CodecError):
        proto.decode(door.UnlockCmd, json.dumps({"v": 1, **CMD, "hold_s": -1}).encode())
    with pytest.raises(CodecError):
        proto.decode(beacon.OnCmd, json.dumps({"v": 1, **CMD, "pattern": "disco"}).encode())


def test_availability_payloads() -> None:
    assert proto.decode_availability(b"online") is True
    assert proto.decode_availability(b"offline") is False
    with pytest.raises(CodecError):
        proto.decode_availability(b"maybe")


def test_topics_refuse_ids_that_could_widen_a_subscription() -> None:
    assert proto.device_topic("demo-centre", "door_lock", "door-int-1", "cmd", "lock") == \
        "hcc/demo-centre/door_lock/door-int-1/cmd/lock"
    for bad in ("+", "#", "Door", "a/b", ""):
        with pytest.raises(ValueError):
            proto.device_topic("demo-centre", "door_lock", bad)


CLASSES = sorted({type(m) for m in MESSAGES}, key=lambda c: c.__name__)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=2**60) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(cls=st.sampled_from(CLASSES), payload=st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_codec_error(cls: type[proto.Message], payload: bytes) -> None:
    try:
        proto.decode(cls, payload)
    except CodecError:
        pass


@settings(max_examples=300, deadline=None)
@given(cls=st.sampled_from(CLASSES), msg_index=st.integers(0, len(MESSAGES) - 1),
       mutations=st.dictionaries(st.text(max_size=12), json_values, max_size=4), drop=st.sets(st.text(max_size=12)))
def test_mutated_json_raises_only_codec_error(
    cls: type[proto.Message], msg_index: int, mutations: dict[str, Any], drop: set[str]
) -> None:
    obj = {k: v for k, v in json.loads(proto.encode(MESSAGES[msg_index])).items() if k not in drop}
    obj.update(mutations)
    try:
        decoded = proto.decode(cls, json.dumps(obj).encode())
    except CodecError:
        return
    assert isinstance(decoded.msg, cls)
