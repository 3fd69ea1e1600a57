"""Alarm lifecycle (controller/domain/alarms.py): raised -> acknowledged -> resolved, escalation and repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from controller.domain.alarms import (
    ALARM_KINDS,
    SEVERITY_ORDER,
    AlarmState,
    acknowledge,
    due_for_escalation,
    due_for_repeat,
    resolve,
    severity_of,
)
from controller.domain.errors import RuleViolation

A = AlarmState
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_every_kind_has_a_known_severity_and_both_titles() -> None:
    for kind, (severity, zh, en) in ALARM_KINDS.items():
        assert severity_of(kind) == severity and severity in SEVERITY_ORDER
        assert zh and en, kind
    assert severity_of("panic") == "critical" and severity_of("placement_override") == "info"


def test_acknowledge_only_a_raised_alarm() -> None:
    assert acknowledge(A.RAISED) is A.ACKNOWLEDGED
    for state in (A.ACKNOWLEDGED, A.RESOLVED):
        with pytest.raises(RuleViolation) as err:
            acknowledge(state)
        assert err.value.code == "ALARM_NOT_RAISED" and err.value.details == {"state": state.value}


@pytest.mark.parametrize("state", [A.RAISED, A.ACKNOWLEDGED])
def test_resolve_a_raised_or_acknowledged_alarm_with_a_note(state: AlarmState) -> None:
    assert resolve(state, "已处置") is A.RESOLVED
    with pytest.raises(RuleViolation) as err:
        resolve(state, "   ")
    assert err.value.code == "NOTE_REQUIRED" and err.value.status == 422


def test_a_resolved_alarm_stays_resolved() -> None:
    with pytest.raises(RuleViolation, match="ALARM_RESOLVED"):
        resolve(A.RESOLVED, "again")


def test_escalation_once_after_the_limit_while_unacknowledged() -> None:
    limit = timedelta(minutes=5)
    assert not due_for_escalation(A.RAISED, T0, False, T0 + limit - timedelta(seconds=1), limit)
    assert due_for_escalation(A.RAISED, T0, False, T0 + limit, limit)
    assert not due_for_escalation(A.RAISED, T0, True, T0 + limit * 3, limit)  # already escalated
    assert not due_for_escalation(A.ACKNOWLEDGED, T0, False, T0 + limit * 3, limit)
    assert not due_for_escalation(A.RESOLVED, T0, False, T0 + limit * 3, limit)


def test_repeat_until_someone_acts() -> None:
    every = timedelta(minutes=10)
    assert not due_for_repeat(A.RAISED, T0, T0 + every - timedelta(seconds=1), every)
    assert due_for_repeat(A.RAISED, T0, T0 + every, every)
    assert not due_for_repeat(A.ACKNOWLEDGED, T0, T0 + every * 2, every)
