"""A device's intake (devices/intake.py): the rate limit, the bounded queue and what it sheds when full.

The clock is a test clock that never moves unless told, so the bucket refills only when a test says time passed;
nothing here sleeps to let time pass. Queued events reach the sink at ``stop()`` (the adapter's stop does the same).
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.base import DeviceEvent
from devices.door_lock.adapter import DoorForcedOpen
from devices.intake import Intake
from devices.panic_button.adapter import PanicPressed
from devices.wristband_reader.adapter import TagPresent


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading(DeviceEvent):
    value: int


def press(i: int) -> PanicPressed:
    return PanicPressed("panic-1", "panic_button", float(i), room_id="wait-1", event_id=f"e{i}")


def seen(tag: str, zone: str, i: int) -> TagPresent:
    return TagPresent("band-r1", "wristband_reader", float(i), tag_id=tag, zone=zone, rssi=-50.0 - i % 7,
                      event_id=f"t{i}")


def intake(out: list[DeviceEvent], clock: Clock, *, rate: float = 10.0, burst: int = 3, queue: int = 4) -> Intake:
    return Intake(out.append, rate_per_s=rate, burst=burst, queue_max=queue, clock=clock, name="test")


def test_duplicates_are_events_equal_but_for_time_ids_and_signal() -> None:
    assert press(1).condition() == press(2).condition()
    assert seen("t1", "wait-1", 1).condition() == seen("t1", "wait-1", 2).condition()
    assert seen("t1", "wait-1", 1).condition() != seen("t1", "wait-2", 1).condition()
    assert Reading("d", "k", value=1).condition() != Reading("d", "k", value=2).condition()
    assert PanicPressed.critical and DoorForcedOpen.critical and not TagPresent.critical


async def test_within_its_rate_a_device_is_delivered_at_once() -> None:
    out: list[DeviceEvent] = []
    clock = Clock()
    i = intake(out, clock, rate=10, burst=3)
    for n in range(3):
        i.put(press(n))
    assert [e.event_id for e in out] == ["e0", "e1", "e2"]  # type: ignore[attr-defined]
    i.put(press(3))
    assert len(out) == 3 and i.queued == 1  # the bucket is empty: it waits for its turn
    clock.t += 0.1  # one token's worth of time
    await i.stop()
    assert len(out) == 4 and i.shed == {"folded": 0, "dropped": 0}


async def test_a_flood_of_one_condition_is_folded_and_every_press_counted() -> None:
    out: list[DeviceEvent] = []
    i = intake(out, Clock(), burst=3, queue=4)
    for n in range(5000):
        i.put(press(n))
    assert i.queued == 4  # bounded: the queue never grows past its size
    await i.stop()
    assert sum(e.repeats for e in out) == 5000  # nothing lost: "5,000 presses" are still 5,000
    assert len(out) == 7 and out[-1].event_id == "e4999"  # type: ignore[attr-defined]
    assert i.shed == {"folded": 4993, "dropped": 0} and i.received == 5000


async def test_a_full_queue_folds_the_oldest_duplicate_and_keeps_the_order_of_the_rest() -> None:
    out: list[DeviceEvent] = []
    i = intake(out, Clock(), burst=1, queue=4)
    i.put(Reading("d", "k", value=0))  # delivered
    for v in (1, 2, 1, 3):  # queued: 1 2 1 3 (full)
        i.put(Reading("d", "k", value=v))
    i.put(Reading("d", "k", value=4))  # no 4 queued: the oldest 1 (which has a newer 1) is folded into it
    await i.stop()
    assert [(e.value, e.repeats) for e in out] == [(0, 1), (2, 1), (1, 2), (3, 1), (4, 1)]  # type: ignore[attr-defined]
    assert i.shed == {"folded": 1, "dropped": 0}


async def test_distinct_events_drop_the_oldest_and_never_the_newest_critical_one() -> None:
    out: list[DeviceEvent] = []
    i = intake(out, Clock(), burst=1, queue=4)
    i.put(seen("t0", "z0", 0))  # delivered
    for n in range(1, 5):  # four distinct locations fill the queue
        i.put(seen(f"t{n}", "z", n))
    i.put(DoorForcedOpen("door-1", "door_lock", 9.0, room_id="int-1", event_id="forced"))
    i.put(seen("t9", "z", 9))  # distinct again: the oldest location goes, not the forced door
    await i.stop()
    kinds = [type(e).__name__ for e in out]
    assert kinds.count("DoorForcedOpen") == 1
    assert [getattr(e, "tag_id", None) for e in out] == ["t0", "t3", "t4", None, "t9"]
    assert i.shed == {"folded": 0, "dropped": 2} and i.delivered == 5 and i.received == 7


async def test_a_queue_full_of_distinct_critical_events_keeps_the_newest() -> None:
    out: list[DeviceEvent] = []
    i = intake(out, Clock(), burst=1, queue=2)
    i.put(DoorForcedOpen("door-1", "door_lock", 0.0, room_id="a", event_id="x0"))  # delivered
    for room in ("b", "c", "d"):
        i.put(DoorForcedOpen("door-1", "door_lock", 1.0, room_id=room, event_id=f"x-{room}"))
    await i.stop()
    assert [e.room_id for e in out] == ["a", "c", "d"]  # type: ignore[attr-defined]
    assert i.shed["dropped"] == 1


async def test_the_bucket_refills_with_time() -> None:
    out: list[DeviceEvent] = []
    clock = Clock()
    i = intake(out, clock, rate=100, burst=2, queue=10)
    for n in range(2):
        i.put(Reading("d", "k", value=n))
    clock.t += 0.05  # more than two tokens' worth: the bucket holds at most its burst
    i.put(Reading("d", "k", value=2))
    i.put(Reading("d", "k", value=3))
    assert [e.value for e in out] == [0, 1, 2, 3]  # type: ignore[attr-defined]
    await i.stop()
