"""The bridge benchmark's own parts: the readers' lines are what a reader sends (the adapter decodes them with no
unknown field), and a lost move is found move by move, so an extra message cannot hide it."""

from __future__ import annotations

from bench.bench_bridge import presence_line, unseen_moves
from devices import mqtt_proto as proto
from devices.wristband_reader import protocol as wp


def test_a_reader_line_decodes_as_the_readers_presence_message() -> None:
    line = presence_line("tag-7", "band-wait-1", "wait-1")
    assert line.endswith("\n") and line.count("\n") == 1  # one message per line for mosquitto_pub -l
    decoded = proto.decode(wp.PresenceMsg, line.encode())
    assert not decoded.unknown
    assert (decoded.msg.tag_id, decoded.msg.reader_id, decoded.msg.zone) == ("tag-7", "band-wait-1", "wait-1")


def test_a_lost_move_is_found_though_another_message_came_in_its_place() -> None:
    moves = [(10.0, "a", "r1"), (20.0, "a", "r2"), (30.0, "b", "r1")]
    arrived = [(10.01, "a", "r1"),
               (19.0, "a", "r2"),  # before the move: a late report, not the move
               (21.0, "a", "r1"),  # an extra message (a reader's late report of the old room)
               (30.2, "b", "r1"),
               (40.0, "a", "r2")]  # too late to be the move at 20 s
    assert unseen_moves(moves, arrived) == [(20.0, "a", "r2")]
    assert unseen_moves(moves[:1] + moves[2:], arrived) == []
