"""Warnings, breaches, escalation chains and lost-handoff alarms, fired from state exactly once."""

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bus.clock import UTC, from_micros, to_micros
from processors.handoffs.config import (
    AcknowledgementPolicy, EscalationStep, HandoffPolicy, RoutingRule, SlaPolicy, Team, TeamCalendar,
)
from processors.handoffs.deadlines import fire_due
from processors.handoffs.state import HandoffState
from processors.handoffs.transitions import apply
from tests.processors.handoffs.factories import (
    AGENT, T0, accepted, acknowledged, context, created, resolved, resumed, transferred, waiting,
)

H = timedelta(hours=1)


def facts(fired) -> list[tuple]:
    out = []
    for o in fired.outputs:
        v, name = o.event.value, o.event.schema.rpartition(".")[2]
        detail = (v.get("percent") or v.get("to_tier") or v.get("resend_count") or v.get("escalation_tier")
                  or v.get("kind"))
        out.append((name, detail, v["envelope"]["occurred_at"]))
    return out


def acked(*events, ctx=None) -> HandoffState:
    ctx = ctx or context()
    state = None
    for event in events:
        state = apply(state, event, ctx).state
    return state


def test_warnings_then_breach_then_escalation_in_due_order() -> None:
    ctx = context()
    state = acked(created("h1"), acknowledged("h1", T0), ctx=ctx)
    fired = fire_due(ctx.policy, ctx.emitter, state, to_micros(T0 + 25 * H))
    assert facts(fired) == [
        ("HandoffDeadlineWarning", 50, T0 + 10 * H),
        ("HandoffDeadlineWarning", 75, T0 + 15 * H),
        ("HandoffBreached", None, T0 + 20 * H),  # escalation_tier 0
        ("CustomerNotification", "DELAYED", T0 + 20 * H),
        ("HandoffEscalated", 1, T0 + 20 * H),
        ("HandoffStatusChanged", 1, T0 + 20 * H),
    ]
    escalation = fired.outputs[4].event.value
    assert escalation["to_team"] == "back-office/team-lead" and escalation["from_team"] == "back-office"
    assert escalation["deadline_at"] == T0 + 40 * H and escalation["trigger"] == "DEADLINE_BREACHED"
    assert fired.state.tier == 1 and fired.escalations == 1


def test_nothing_fires_twice_from_the_same_or_a_later_state() -> None:
    ctx = context()
    state = acked(created("h1"), acknowledged("h1", T0), ctx=ctx)
    first = fire_due(ctx.policy, ctx.emitter, state, to_micros(T0 + 16 * H))
    assert [f[1] for f in facts(first)] == [50, 75]
    assert fire_due(ctx.policy, ctx.emitter, first.state, to_micros(T0 + 16 * H)).outputs == []
    # Re-firing the *old* state (a crash before the state was saved) re-creates the same event ids.
    again = fire_due(ctx.policy, ctx.emitter, state, to_micros(T0 + 16 * H))
    ids = [o.event.value["envelope"]["event_id"] for o in first.outputs]
    assert ids == [o.event.value["envelope"]["event_id"] for o in again.outputs]


def test_escalation_climbs_the_whole_chain_then_stops() -> None:
    ctx = context()
    state = acked(created("h1"), accepted("h1", T0), ctx=ctx)
    fired = fire_due(ctx.policy, ctx.emitter, state, to_micros(T0 + 200 * H))
    escalations = [f for f in facts(fired) if f[0] == "HandoffEscalated"]
    breaches = [f for f in facts(fired) if f[0] == "HandoffBreached"]
    assert [(e[1], e[2]) for e in escalations] == [(1, T0 + 20 * H), (2, T0 + 40 * H), (3, T0 + 60 * H)]
    assert [b[2] for b in breaches] == [T0 + 20 * H, T0 + 40 * H, T0 + 60 * H, T0 + 80 * H]
    assert [f[0] for f in facts(fired)].count("HandoffDeadlineWarning") == 8
    assert [f for f in facts(fired) if f[1] == "DELAYED"] == [("CustomerNotification", "DELAYED", T0 + 20 * H)]
    assert fired.state.tier == 3 and fired.state.timers == ()
    assert fired.outputs[-1].event.value["owner"] == AGENT  # the owner stays; the chain is told


def test_escalation_to_a_named_person() -> None:
    chain = (EscalationStep(role="lead", team="finance-leads", owner_id="lead-9", resolve_within_hours=2),)
    policy = HandoffPolicy(teams=(Team(name="back-office", escalation_chain=chain),))
    ctx = context(policy)
    fired = fire_due(policy, ctx.emitter, acked(created("h1"), ctx=ctx), to_micros(T0 + 30 * H))
    escalation = next(o.event.value for o in fired.outputs if o.event.schema.endswith("Escalated"))
    assert escalation["to_team"] == "finance-leads"
    assert escalation["to_owner"] == {"kind": "EMPLOYEE", "id": "lead-9"}
    assert escalation["deadline_at"] == T0 + 22 * H


def test_deadlines_count_business_hours_of_the_owning_team() -> None:
    office = TeamCalendar(working_days=["mon", "tue", "wed", "thu", "fri"], opens="08:00", closes="18:00")
    policy = HandoffPolicy(
        calendars={"default": TeamCalendar(), "office": office},
        teams=(Team(name="back-office"), Team(name="finance", calendar="office")),
        routing=(RoutingRule(name="billing", case_types=("billing-*",), team="finance"),),
        sla=(SlaPolicy(service_tiers=("gold",), resolve_within_hours=4), SlaPolicy(resolve_within_hours=20)),
    )
    ctx = context(policy)
    friday_4pm = datetime(2026, 11, 6, 16, tzinfo=UTC)
    state = acked(created("h1", friday_4pm, tier="gold"), acknowledged("h1", friday_4pm), ctx=ctx)
    assert state.team == "finance" and from_micros(state.deadline_us) == datetime(2026, 11, 9, 10, tzinfo=UTC)
    # Half the time is used up as the office closes on Friday: the warning waits for Monday's opening.
    saturday = fire_due(policy, ctx.emitter, state, to_micros(datetime(2026, 11, 7, 12, tzinfo=UTC)))
    assert facts(saturday) == []
    monday = fire_due(policy, ctx.emitter, saturday.state, to_micros(datetime(2026, 11, 9, 10, tzinfo=UTC)))
    assert facts(monday)[0] == ("HandoffDeadlineWarning", 50, datetime(2026, 11, 9, 8, tzinfo=UTC))
    assert [f[:2] for f in facts(monday)][1:3] == [("HandoffDeadlineWarning", 75), ("HandoffBreached", None)]


def test_waiting_on_the_customer_stops_the_clock() -> None:
    ctx = context()
    state = acked(created("h1"), accepted("h1", T0), waiting("h1", T0 + 5 * H), ctx=ctx)
    assert fire_due(ctx.policy, ctx.emitter, state, to_micros(T0 + 30 * H)).outputs == []
    state = apply(state, resumed("h1", T0 + 30 * H), ctx).state
    assert from_micros(state.deadline_us) == T0 + 45 * H  # 25 hours of waiting added
    fired = fire_due(ctx.policy, ctx.emitter, state, to_micros(T0 + 41 * H))
    assert facts(fired) == [("HandoffDeadlineWarning", 50, T0 + 35 * H), ("HandoffDeadlineWarning", 75, T0 + 40 * H)]


def test_what_was_due_before_the_pause_still_fires() -> None:
    ctx = context()
    state = acked(created("h1"), accepted("h1", T0), waiting("h1", T0 + 12 * H), ctx=ctx)
    fired = fire_due(ctx.policy, ctx.emitter, state, to_micros(T0 + 13 * H))
    assert facts(fired) == [("HandoffDeadlineWarning", 50, T0 + 10 * H)]


def test_a_resolved_handoff_fires_nothing() -> None:
    ctx = context()
    state = acked(created("h1"), resolved("h1", T0 + H), ctx=ctx)
    assert state.next_due_us is None
    assert fire_due(ctx.policy, ctx.emitter, state, to_micros(T0 + 100 * H)).outputs == []


def test_unacknowledged_handoff_raises_alarms_and_is_re_sent() -> None:
    policy = HandoffPolicy(acknowledgement=AcknowledgementPolicy(timeout_minutes=30, max_resends=3))
    ctx = context(policy)
    fired = fire_due(policy, ctx.emitter, acked(created("h1"), ctx=ctx), to_micros(T0 + 3 * H))
    assert [f[:2] for f in facts(fired)] == [
        ("HandoffUnacknowledgedAlarm", None), ("HandoffRouted", 1),
        ("HandoffUnacknowledgedAlarm", None), ("HandoffRouted", 2),
        ("HandoffUnacknowledgedAlarm", None), ("HandoffRouted", 3),
        ("HandoffUnacknowledgedAlarm", None),
    ]
    alarms = [o.event.value for o in fired.outputs if o.event.schema.endswith("Alarm")]
    assert [a["unacknowledged_ms"] for a in alarms] == [1_800_000, 3_600_000, 5_400_000, 7_200_000]
    assert fired.resends == 3 and not [t for t in fired.state.timers if t.kind == "ack"]
    assert len({o.event.value["envelope"]["event_id"] for o in fired.outputs}) == 7


def test_acknowledgement_stops_the_alarms() -> None:
    ctx = context()
    state = acked(created("h1"), ctx=ctx)
    first = fire_due(ctx.policy, ctx.emitter, state, to_micros(T0 + 0.6 * H))
    assert [f[0] for f in facts(first)] == ["HandoffUnacknowledgedAlarm", "HandoffRouted"]
    state = apply(first.state, acknowledged("h1", T0 + 0.7 * H), ctx).state
    assert fire_due(ctx.policy, ctx.emitter, state, to_micros(T0 + 5 * H)).outputs == []


def test_transfer_recounts_the_time_left_in_the_new_team_hours() -> None:
    night = TeamCalendar(opens="00:00", closes="06:00")
    policy = HandoffPolicy(calendars={"default": TeamCalendar(), "night": night},
                           teams=(Team(name="back-office"), Team(name="night-desk", calendar="night")))
    ctx = context(policy)
    state = acked(created("h1"), accepted("h1", T0), ctx=ctx)  # deadline T0 + 20 h (Tue 05:00)
    moved = apply(state, transferred("h1", T0 + 18 * H, from_owner=AGENT, from_team="back-office",
                                     to_team="night-desk"), ctx).state
    # 2 hours were left at Tue 03:00; the night desk works 00:00-06:00, so Tue 05:00 still.
    assert from_micros(moved.deadline_us) == T0 + 20 * H
    early = apply(state, transferred("h1", T0 + 10 * H, from_owner=AGENT, from_team="back-office",
                                     to_team="night-desk"), ctx).state
    # 10 hours left at Mon 19:00: Tue 00:00-06:00, then Wed 00:00-04:00.
    assert from_micros(early.deadline_us) == T0 + 43 * H
    warnings = sorted(t.due_us for t in early.timers if t.kind == "warning")
    # The 50 % warning was due at the transfer and stays due; the 75 % one had 5 h left: Tue 05:00.
    assert [from_micros(w) for w in warnings] == [T0 + 10 * H, T0 + 20 * H]


def test_a_lunch_break_stops_the_clock_and_no_warning_falls_in_it() -> None:
    """Issue #10 case 5: 09-13 and 14-18 in Paris, created Monday 12:30 with 1 working hour: due 14:30."""
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    lunch = TeamCalendar(timezone="Europe/Paris", working_days=["mon", "tue", "wed", "thu", "fri"],
                         windows=["09:00-13:00", "14:00-18:00"])
    policy = HandoffPolicy(calendars={"default": lunch}, sla=(SlaPolicy(resolve_within_hours=1),))
    ctx = context(policy)
    state = acked(created("h1", datetime(2026, 11, 2, 12, 30, tzinfo=paris)), acknowledged("h1", T0), ctx=ctx)
    assert from_micros(state.deadline_us) == datetime(2026, 11, 2, 14, 30, tzinfo=paris)
    fired = fire_due(policy, ctx.emitter, state, to_micros(datetime(2026, 11, 2, 15, tzinfo=paris)))
    due = [(name, detail, at.astimezone(paris).time().isoformat("minutes")) for name, detail, at in facts(fired)]
    assert due[:3] == [("HandoffDeadlineWarning", 50, "14:00"), ("HandoffDeadlineWarning", 75, "14:15"),
                       ("HandoffBreached", None, "14:30")]
    calendar = policy.calendar_of(state.team)
    assert all(calendar.is_working(at) for name, _, at in facts(fired) if name == "HandoffDeadlineWarning")


def _lunch_policy(premium_hours: float) -> HandoffPolicy:
    lunch = TeamCalendar(timezone="Europe/Paris", working_days=["mon", "tue", "wed", "thu", "fri"],
                         windows=["09:00-13:00", "14:00-18:00"])
    return HandoffPolicy(calendars={"default": lunch},
                         sla=(SlaPolicy(service_tiers=("premium",), resolve_within_hours=premium_hours),))



@settings(max_examples=60, deadline=None)
@given(start_minute=st.integers(0, 7 * 24 * 60), used_minutes=st.integers(0, 30 * 60),
       premium_hours=st.sampled_from([1, 2.5, 4, 8, 30]))
def test_retiming_counts_the_working_time_used_and_never_lands_in_the_past(
    start_minute: int, used_minutes: int, premium_hours: float,
) -> None:
    from processors.handoffs.deadlines import retime_resolution_clock
    from processors.handoffs.state import DeadlineRule

    policy = _lunch_policy(premium_hours)
    calendar = policy.calendar_of(None)
    start = T0 + timedelta(minutes=start_minute)
    state = acked(created("h1", start, tier=None), ctx=context(policy))
    used = timedelta(minutes=min(used_minutes, 20 * 60 - 1))
    at = calendar.add_working(from_micros(state.clock_started_us), used)
    retimed = retime_resolution_clock(policy, state, to_micros(at), 20, premium_hours, DeadlineRule.CUSTOMER_RESOLVED,
                                      forward_only=False)
    if retimed is None:
        return  # the deadline did not move
    deadline = from_micros(retimed.deadline_us)
    assert deadline >= at
    if used < timedelta(hours=premium_hours):
        assert calendar.working_between(from_micros(state.clock_started_us), deadline) == timedelta(hours=premium_hours)
    else:
        assert deadline == at  # premium's time was already used up: due now, not in the past
    for timer in retimed.timers:
        if timer.kind.value == "warning":
            due = from_micros(timer.due_us)
            assert calendar.is_working(due) or due == deadline
