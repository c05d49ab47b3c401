"""A case whose contact arrives late (a counter-agent offline for days, a late CTR, a Firehose backlog): reported, it
was breached and escalated along the whole chain within a second of its creation (warnings, three breaches and
escalations, unacknowledged alarms and re-sent work orders all at once) and the customer told "raised with a manager".
Its resolution clock still starts at the contact's time (the customer has waited since: the service level is theirs),
but warnings already due when the work order goes out are passed over, a breach already due fires once and the next
tier's clock starts at the sending, and the back office's acknowledgement is awaited from the sending."""

from __future__ import annotations

from datetime import timedelta

from bus.clock import to_micros
from bus.serde import Event
from processors.handoffs.deadlines import fire_due
from tests.processors.handoffs.factories import T0, context, created
from tests.processors.handoffs.test_deadlines import acked, facts

H = timedelta(hours=1)
LATE = 100 * H  # uploaded four days after the visit


def uploaded_late(handoff_id: str = "h1", late: timedelta = LATE) -> Event:
    event = created(handoff_id)
    return Event(event.schema, {**event.value, "envelope": {**event.value["envelope"], "received_at": T0 + late}})


def resolution(fired: object) -> list[tuple[str, object]]:
    """The resolution clock's facts fired: warnings, breaches, escalations."""
    return [(name, detail) for name, detail, _ in facts(fired)
            if name in ("HandoffDeadlineWarning", "HandoffBreached", "HandoffEscalated")]


def test_a_case_uploaded_after_its_deadline_is_breached_and_escalated_once() -> None:
    ctx = context()
    state = acked(uploaded_late(), ctx=ctx)
    assert state.routed_at_us == to_micros(T0 + LATE) and state.clock_started_us == to_micros(T0)
    fired = fire_due(ctx.policy, ctx.emitter, state, to_micros(T0 + LATE))
    assert [(name, detail) for name, detail, _ in facts(fired)] == [
        ("HandoffBreached", None), ("HandoffEscalated", 1), ("HandoffStatusChanged", 1),
        ("CustomerNotification", "RECEIVED")]  # its first message, with the new deadline: test_notifications_late_case
    escalation = fired.outputs[2].event.value
    assert escalation["deadline_at"] == T0 + LATE + 20 * H  # the tier's full time, from the sending
    later = fire_due(ctx.policy, ctx.emitter, fired.state, to_micros(T0 + LATE + H))
    assert resolution(later) == []  # (the work order's unacknowledged alarm is due by then, as for any case)


def test_its_work_order_is_awaited_from_its_sending() -> None:
    ctx = context()
    state = acked(uploaded_late(), ctx=ctx)
    (ack,) = [t for t in state.timers if t.kind.value == "ack"]
    assert ack.due_us == to_micros(T0 + LATE) + round(ctx.policy.acknowledgement.timeout_minutes * 60_000_000)


def test_a_case_uploaded_before_its_deadline_keeps_the_warnings_still_ahead() -> None:
    ctx = context()
    state = acked(uploaded_late(late=12 * H), ctx=ctx)  # 50 % was due at +10 h, 75 % at +15 h, breach at +20 h
    fired = fire_due(ctx.policy, ctx.emitter, state, to_micros(T0 + 16 * H))
    assert resolution(fired) == [("HandoffDeadlineWarning", 75)]
    assert state.deadline_us == to_micros(T0 + 20 * H)  # the deadline is the contact's


def test_a_case_received_as_it_happened_is_unchanged() -> None:
    ctx = context()
    state = acked(created("h1"), ctx=ctx)
    assert state.routed_at_us == state.clock_started_us == to_micros(T0)
    assert [t.marker for t in state.timers if t.kind.value == "warning"] == ["c0:t0:w50", "c0:t0:w75"]
