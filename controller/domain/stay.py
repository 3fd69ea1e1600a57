"""The stay's state machine: the only transitions DESIGN.md allows, one command each.

REGISTERED -> SEARCHED -> COLLECTED -> PROPERTY_STORED -> WAITING <-> IN_INTERVIEW
WAITING <-> IN_ACTIVITY;  WAITING -> ON_TEMPORARY_LEAVE -> RETURNED -> (search again) -> WAITING
WAITING -> EXITING -> EXITED;  nothing leaves EXITED.

A witness or victim (``LIGHT_ROLES``) takes the light path (``LIGHT_TRANSITIONS``): no information collection, an
optional property step, and from the check (or from registration where the site requires no check) straight to
their own waiting room, to an interview, or out.
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


# A witness or victim is under no coercive measure: 《刑事诉讼法》第124条 lets a witness be inquired where he is or at a
# place he names, and 第127条 applies the same to a victim; nothing holds them. So they are not collected or held as
# suspects are. After the check (or at registration where the site requires none) they may wait in their own room,
# be inquired, store property, or leave.
LIGHT_ROLES = frozenset({"witness", "victim"})
# Steps for suspects only: 《刑事诉讼法》第132条 lets fingerprints and biological samples be taken by compulsion from a
# suspect only (a victim only with consent, a witness not at all), so 信息采集 is no step of the light path.
SUSPECT_ONLY_STEPS = {"collection": ("证人、被害人不进行信息采集", "a witness or victim is not subject to information "
                                                                   "collection")}
_LIGHT_FROM = (S.SEARCHED, S.PROPERTY_STORED)


def light_transitions(check_required: bool) -> dict[str, dict[StayState, StayState]]:
    """The light path's table; ``check_required`` is the site's choice (a light or full check before going on)."""
    start: tuple[StayState, ...] = _LIGHT_FROM if check_required else (S.REGISTERED, *_LIGHT_FROM)
    table = {cmd: dict(moves) for cmd, moves in TRANSITIONS.items() if cmd not in SUSPECT_ONLY_STEPS}
    table["property"] = {s: S.PROPERTY_STORED for s in start if s is not S.PROPERTY_STORED}
    table["placement"] = {**{s: S.WAITING for s in start}, S.WAITING: S.WAITING}
    table["interview_start"] = {**{s: S.IN_INTERVIEW for s in start}, S.WAITING: S.IN_INTERVIEW}
    table["exit"] = {**{s: S.EXITING for s in start}, S.WAITING: S.EXITING}
    return table


LIGHT_TRANSITIONS = light_transitions(True)
LIGHT_EDGES: frozenset[tuple[StayState, StayState]] = frozenset(
    (a, b) for moves in light_transitions(False).values() for a, b in moves.items()
)


def transitions_for(role: str, check_required: bool = True) -> dict[str, dict[StayState, StayState]]:
    return light_transitions(check_required) if role in LIGHT_ROLES else TRANSITIONS


def ensure_step_for_role(role: str, command: str, current: StayState | None = None) -> None:
    """Refuses a suspect-only step (information collection, face capture) for a witness or victim."""
    if role in LIGHT_ROLES and command in SUSPECT_ONLY_STEPS:
        zh, en = SUSPECT_ONLY_STEPS[command]
        raise RuleViolation("STEP_NOT_FOR_ROLE", zh, en, state=current.value if current else None, role=role,
                            step=command)


def next_state(current: StayState, command: str, role: str = "suspect", check_required: bool = True) -> StayState:
    """The state ``command`` moves a stay in ``current`` to; refuses any move the machine does not draw.

    ``role`` picks the machine (a witness or victim takes the light path); ``check_required`` is the site's choice
    of whether a witness or victim is checked before going on."""
    if current is S.EXITED:
        raise RuleViolation("STAY_CLOSED", "该人员已出区，记录不可更改", "the stay is closed", state=current.value)
    ensure_step_for_role(role, command, current)
    moves = transitions_for(role, check_required)[command]
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
