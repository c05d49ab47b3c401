import json
from datetime import timedelta

import pytest

from processors.handoffs.state import HandoffState, Status, Timer, TimerKind
from processors.handoffs.transitions import apply
from tests.processors.handoffs.factories import T0, accepted, context, created, waiting

H = timedelta(hours=1)


def state_after(*events) -> HandoffState:
    ctx, state = context(), None
    for event in events:
        state = apply(state, event, ctx).state
    return state


def test_state_survives_the_table_codec() -> None:
    state = state_after(created("h1"), accepted("h1", T0 + H), waiting("h1", T0 + 2 * H))
    data = json.loads(json.dumps(state.to_dict()))
    assert HandoffState.from_dict(data) == state
    assert data["next_due_us"] == state.next_due_us and data["partition"] == 0


def test_a_paused_clock_holds_back_only_what_was_not_yet_due() -> None:
    state = state_after(created("h1")).with_(paused_at_us=100)
    assert state.eligible(Timer(TimerKind.WARNING, 50, 99, "a"))
    assert not state.eligible(Timer(TimerKind.BREACH, 0, 101, "b"))
    assert state.eligible(Timer(TimerKind.ACK, 0, 101, "c"))  # acknowledgement runs on wall-clock time


def test_with_copies_and_refuses_unknown_fields() -> None:
    state = state_after(created("h1"))
    changed = state.with_(status=Status.CLOSED)
    assert changed.status is Status.CLOSED and state.status is Status.ROUTED and changed.timers == state.timers
    with pytest.raises(TypeError):
        state.with_(colour="blue")
    assert state.evolve(event_id="e").version == state.version + 1
