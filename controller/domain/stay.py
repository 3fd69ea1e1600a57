"""The stay's state machine: the only transitions DESIGN.md allows, one command each.

REGISTERED -> SEARCHED -> COLLECTED -> PROPERTY_STORED -> WAITING <-> IN_INTERVIEW
WAITING <-> IN_ACTIVITY;  WAITING -> ON_TEMPORARY_LEAVE -> RETURNED -> (search again) -> WAITING
WAITING -> EXITING -> EXITED;  nothing leaves EXITED.
"""

from __future__ import annotations

import enum

from .errors import RuleViolation


class StayState(enum.StrEnum):
    REGISTERED = "registered"
    SEARCHED = "searched"
    COLLECTED = "collected"
    PROPERTY_STORED = "property_stored"
    WAITING = "waiting"
    IN_INTERVIEW = "in_interview"
    IN_ACTIVITY = "in_activity"
    ON_TEMPORARY_LEAVE = "on_temporary_leave"
    RETURNED = "returned"
    EXITING = "exiting"
    EXITED = "exited"


S = StayState

# command -> {from state: to state}
TRANSITIONS: dict[str, dict[StayState, StayState]] = {
    "search": {S.REGISTERED: S.SEARCHED, S.RETURNED: S.WAITING},
    "collection": {S.SEARCHED: S.COLLECTED},
    "property": {S.COLLECTED: S.PROPERTY_STORED},
    "placement": {S.PROPERTY_STORED: S.WAITING, S.WAITING: S.WAITING},  # WAITING -> WAITING is a move
    "interview_start": {S.WAITING: S.IN_INTERVIEW},
    "interview_end": {S.IN_INTERVIEW: S.WAITING},
    "activity_start": {S.WAITING: S.IN_ACTIVITY},
    "activity_end": {S.IN_ACTIVITY: S.WAITING},
    "leave": {S.WAITING: S.ON_TEMPORARY_LEAVE},
    "return": {S.ON_TEMPORARY_LEAVE: S.RETURNED},
    "exit": {S.WAITING: S.EXITING},
    "exit_complete": {S.EXITING: S.EXITED},
}

# The set of edges, for invariant checks: (from, to).
EDGES: frozenset[tuple[StayState, StayState]] = frozenset(
    (a, b) for moves in TRANSITIONS.values() for a, b in moves.items()
)

OPEN_STATES = tuple(s for s in StayState if s is not S.EXITED)
# Commands that need no state change but must not touch a closed stay.
_STEP_ZH = {
    "search": "安全检查", "collection": "信息采集", "property": "物品保管", "placement": "候问安置",
    "interview_start": "开始讯问/询问", "interview_end": "结束讯问/询问", "activity_start": "开始活动",
    "activity_end": "结束活动", "leave": "临时出区", "return": "临时出区返回", "exit": "出区",
    "exit_complete": "完成出区",
}


def next_state(current: StayState, command: str) -> StayState:
    """The state ``command`` moves a stay in ``current`` to; refuses any move the machine does not draw."""
    if current is S.EXITED:
        raise RuleViolation("STAY_CLOSED", "该人员已出区，记录不可更改", "the stay is closed", state=current.value)
    moves = TRANSITIONS[command]
    if current not in moves:
        raise RuleViolation(
            "STEP_OUT_OF_ORDER",
            f"当前状态不能进行“{_STEP_ZH[command]}”",
            f"{command} is not allowed in state {current.value}",
            state=current.value, allowed_from=[s.value for s in moves],
        )
    return moves[current]


def ensure_open(current: StayState) -> None:
    if current is S.EXITED:
        raise RuleViolation("STAY_CLOSED", "该人员已出区，记录不可更改", "the stay is closed", state=current.value)
