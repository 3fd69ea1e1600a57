"""The stay's state machine (controller/domain/stay.py): every drawn edge is taken, every other move refused."""

from __future__ import annotations

import pytest

from controller.domain.errors import RuleViolation
from controller.domain.stay import EDGES, OPEN_STATES, TRANSITIONS, StayState, ensure_open, next_state

S = StayState

# The machine as DESIGN.md draws it, written out independently of the table under test.
DRAWN = {
    ("search", S.REGISTERED, S.SEARCHED),
    ("search", S.RETURNED, S.WAITING),  # searched again on return from a temporary leave
    ("collection", S.SEARCHED, S.COLLECTED),
    ("property", S.COLLECTED, S.PROPERTY_STORED),
    ("placement", S.PROPERTY_STORED, S.WAITING),
    ("placement", S.WAITING, S.WAITING),  # a move to another waiting room
    ("interview_start", S.WAITING, S.IN_INTERVIEW),
    ("interview_end", S.IN_INTERVIEW, S.WAITING),
    ("activity_start", S.WAITING, S.IN_ACTIVITY),
    ("activity_end", S.IN_ACTIVITY, S.WAITING),
    ("leave", S.WAITING, S.ON_TEMPORARY_LEAVE),
    ("return", S.ON_TEMPORARY_LEAVE, S.RETURNED),
    ("exit", S.WAITING, S.EXITING),
    ("exit_complete", S.EXITING, S.EXITED),
}


def test_the_table_draws_exactly_the_designed_machine() -> None:
    table = {(cmd, a, b) for cmd, moves in TRANSITIONS.items() for a, b in moves.items()}
    assert table == DRAWN
    assert {(a, b) for _, a, b in DRAWN} == EDGES
    assert S.EXITED not in OPEN_STATES and len(OPEN_STATES) == len(StayState) - 1


@pytest.mark.parametrize(("command", "current", "expected"), sorted(DRAWN))
def test_each_allowed_transition(command: str, current: StayState, expected: StayState) -> None:
    assert next_state(current, command) is expected


REFUSED = sorted((cmd, state) for cmd in TRANSITIONS for state in OPEN_STATES if state not in TRANSITIONS[cmd])


@pytest.mark.parametrize(("command", "current"), REFUSED)
def test_every_other_move_of_an_open_stay_is_out_of_order(command: str, current: StayState) -> None:
    with pytest.raises(RuleViolation) as err:
        next_state(current, command)
    assert err.value.code == "STEP_OUT_OF_ORDER" and err.value.status == 409
    assert err.value.details == {"state": current.value, "allowed_from": [s.value for s in TRANSITIONS[command]]}
    assert "当前状态不能进行" in err.value.message


@pytest.mark.parametrize("command", sorted(TRANSITIONS))
def test_nothing_leaves_exited(command: str) -> None:
    with pytest.raises(RuleViolation) as err:
        next_state(S.EXITED, command)
    assert err.value.code == "STAY_CLOSED"


def test_ensure_open_refuses_only_a_closed_stay() -> None:
    for state in OPEN_STATES:
        ensure_open(state)
    with pytest.raises(RuleViolation, match="STAY_CLOSED"):
        ensure_open(S.EXITED)


def test_every_state_is_reachable_from_registration() -> None:
    seen, frontier = {S.REGISTERED}, [S.REGISTERED]
    while frontier:
        here = frontier.pop()
        for a, b in EDGES:
            if a is here and b not in seen:
                seen.add(b)
                frontier.append(b)
    assert seen == set(StayState)
