"""The state machine: every legal transition, the illegal ones refused with a reason, outputs on the contract."""

from datetime import timedelta

import pytest

from bus.serde import SerdeContext, SingleObjectSerializer
from bus.clock import to_micros
from processors.handoffs.config import HandoffPolicy, Team
from processors.handoffs.state import HandoffState, Status
from processors.handoffs.transitions import IllegalTransition, Transition, apply
from schemas.catalog import default_catalog
from tests.processors.handoffs.factories import (
    AGENT, OTHER_AGENT, T0, accepted, acknowledged, closed, context, created, escalated, reopened, resolved, resumed,
    transferred, waiting,
)

H = timedelta(hours=1)
SERIALIZER = SingleObjectSerializer(default_catalog())


def names(transition: Transition) -> list[str]:
    return [o.event.schema.rpartition(".")[2] for o in transition.outputs]


def assert_on_the_contract(transition: Transition) -> None:
    for output in transition.outputs:
        SERIALIZER(output.event, SerdeContext(topic="t"))  # raises if a value does not match its schema


def run(*events, ctx=None) -> HandoffState:
    ctx = ctx or context()
    state = None
    for event in events:
        transition = apply(state, event, ctx)
        assert_on_the_contract(transition)
        state = transition.state
    return state


def test_creation_routes_at_once_and_tells_the_customer() -> None:
    transition = apply(None, created("h1"), context())
    assert_on_the_contract(transition)
    state = transition.state
    assert state.status is Status.ROUTED and state.team == "back-office" and state.owner is None
    assert state.deadline_us == to_micros(T0 + 20 * H)
    assert names(transition) == ["HandoffRouted", "HandoffStatusChanged", "CustomerNotification"]
    routed = transition.outputs[0].event.value
    assert routed["resend_count"] == 0 and routed["case_type"] == "billing-dispute"
    assert routed["customer_identifiers"] == [{"type": "PHONE", "value": "+33612345678"}]
    notification = transition.outputs[2]
    assert notification.destination == "notifications"
    assert notification.event.value["kind"] == "RECEIVED" and notification.event.value["channel"] == "CALL_CENTER"
    assert state.version == 1 and transition.outputs[1].event.value["version"] == 1


def test_missing_service_tier_uses_the_default_tier() -> None:
    assert run(created("h1", tier=None)).service_tier == "standard"


def test_full_happy_path() -> None:
    state = run(
        created("h1"), acknowledged("h1", T0 + 0.1 * H), accepted("h1", T0 + H), waiting("h1", T0 + 2 * H),
        resumed("h1", T0 + 3 * H), resolved("h1", T0 + 4 * H), closed("h1", T0 + 5 * H),
    )
    assert state.status is Status.CLOSED and state.owner == AGENT and state.resolved_by == AGENT
    assert state.timers == () and state.version == 7


def test_acceptance_sets_the_single_owner_and_counts_as_acknowledgement() -> None:
    state = run(created("h1"), accepted("h1", T0 + H))
    assert state.status is Status.IN_PROGRESS and state.owner == AGENT and state.acknowledged
    assert not [t for t in state.timers if t.kind == "ack"]


def test_a_second_owner_is_illegal() -> None:
    state = run(created("h1"), accepted("h1", T0 + H))
    with pytest.raises(IllegalTransition) as error:
        apply(state, accepted("h1", T0 + 2 * H, owner=OTHER_AGENT), context())
    assert error.value.code == "second_owner"


def test_the_same_owner_accepting_again_changes_nothing() -> None:
    state = run(created("h1"), accepted("h1", T0 + H))
    transition = apply(state, accepted("h1", T0 + 2 * H), context())
    assert not transition.changed and transition.outputs == [] and transition.state is state


def test_acceptance_by_another_team_is_illegal() -> None:
    state = run(created("h1"))
    with pytest.raises(IllegalTransition, match="with 'back-office'"):
        apply(state, accepted("h1", T0 + H, team="finance"), context())


def test_redelivered_event_is_a_no_op() -> None:
    event = accepted("h1", T0 + H)
    state = run(created("h1"), event)
    again = apply(state, event, context())
    assert not again.changed and again.outputs == []


def test_resolving_a_closed_handoff_is_illegal() -> None:
    state = run(created("h1"), resolved("h1", T0 + H), closed("h1", T0 + 2 * H))
    with pytest.raises(IllegalTransition) as error:
        apply(state, resolved("h1", T0 + 3 * H), context())
    assert error.value.code == "not_open" and "closed" in error.value.reason


def test_closing_twice_and_confirming_an_unresolved_handoff_are_illegal() -> None:
    state = run(created("h1"), resolved("h1", T0 + H), closed("h1", T0 + 2 * H))
    with pytest.raises(IllegalTransition):
        apply(state, closed("h1", T0 + 3 * H), context())
    with pytest.raises(IllegalTransition) as error:
        apply(run(created("h2")), closed("h2", T0 + H, reason="CONFIRMED"), context())
    assert error.value.code == "not_resolved"


def test_an_open_handoff_can_be_withdrawn() -> None:
    state = run(created("h1"), closed("h1", T0 + H, reason="WITHDRAWN"))
    assert state.status is Status.CLOSED and state.timers == ()


def test_events_for_an_unknown_handoff_are_illegal() -> None:
    for event in (acknowledged("ghost", T0), accepted("ghost", T0), resolved("ghost", T0)):
        with pytest.raises(IllegalTransition) as error:
            apply(None, event, context())
        assert error.value.code == "unknown_handoff"


def test_a_second_creation_is_illegal() -> None:
    with pytest.raises(IllegalTransition) as error:
        apply(run(created("h1")), created("h1"), context())
    assert error.value.code == "duplicate_creation"


def _routed_by_hand(handoff_id: str):
    from bus.serde import Event
    from tests.processors.handoffs.factories import envelope

    return Event("omnibus.handoff.HandoffRouted", {
        "envelope": envelope(T0), "handoff_id": handoff_id, "team": "finance", "deadline_at": T0 + H,
        "routing_rule": None, "actor": AGENT})


def test_routing_by_hand_after_routing_is_illegal() -> None:
    with pytest.raises(IllegalTransition) as error:
        apply(run(created("h1")), _routed_by_hand("h1"), context())
    assert error.value.code == "already_routed"


def test_events_only_the_tracker_emits_are_refused_from_others() -> None:
    ctx = context()
    state = run(created("h1"), ctx=ctx)
    fired_warning = ctx.emitter.warning(state, state.timers[0]).event
    with pytest.raises(IllegalTransition) as error:
        apply(state, fired_warning, ctx)
    assert error.value.code == "tracker_only"


def test_transfer_passes_ownership_and_counts_a_bounce() -> None:
    policy = HandoffPolicy(teams=(Team(name="back-office"), Team(name="repair", receiving_system="dispatch")))
    ctx = context(policy)
    state = run(created("h1"), accepted("h1", T0 + H), ctx=ctx)
    transition = apply(state, transferred("h1", T0 + 2 * H, from_owner=AGENT, from_team="back-office",
                                          to_team="repair"), ctx)
    assert_on_the_contract(transition)
    new = transition.state
    assert new.team == "repair" and new.owner is None and new.status is Status.ROUTED
    assert transition.effects == [("bounce", "back-office")]
    # Another receiving system must confirm: a new work order goes out and the ack clock restarts.
    assert not new.acknowledged and new.route == 2 and new.receiving_system == "dispatch"
    assert names(transition)[0] == "HandoffRouted"
    assert transition.outputs[0].event.value["team"] == "repair"


def test_transfer_to_a_person_of_the_same_system_keeps_the_acknowledgement() -> None:
    state = run(created("h1"), accepted("h1", T0 + H))
    event = transferred("h1", T0 + 2 * H, from_owner=AGENT, from_team="back-office", to_team="back-office",
                        to_owner=OTHER_AGENT)
    new = apply(state, event, context()).state
    assert new.owner == OTHER_AGENT and new.status is Status.IN_PROGRESS and new.acknowledged and new.route == 1


@pytest.mark.parametrize(
    ("from_owner", "from_team"), [(OTHER_AGENT, "back-office"), (AGENT, "finance"), (None, "back-office")]
)
def test_stale_transfers_are_illegal(from_owner, from_team) -> None:
    state = run(created("h1"), accepted("h1", T0 + H))
    with pytest.raises(IllegalTransition) as error:
        apply(state, transferred("h1", T0 + 2 * H, from_owner=from_owner, from_team=from_team, to_team="x"), context())
    assert error.value.code == "stale_transfer"


def test_transfer_to_the_current_holder_is_illegal() -> None:
    state = run(created("h1"), accepted("h1", T0 + H))
    with pytest.raises(IllegalTransition) as error:
        apply(state, transferred("h1", T0 + 2 * H, from_owner=AGENT, from_team="back-office",
                                 to_team="back-office", to_owner=AGENT), context())
    assert error.value.code == "no_change"


def test_waiting_and_resuming() -> None:
    state = run(created("h1"), accepted("h1", T0 + H), waiting("h1", T0 + 2 * H))
    assert state.status is Status.WAITING_ON_CUSTOMER and state.paused
    with pytest.raises(IllegalTransition):
        apply(state, waiting("h1", T0 + 3 * H), context())
    resumed_state = apply(state, resumed("h1", T0 + 6 * H), context()).state
    assert resumed_state.status is Status.IN_PROGRESS and not resumed_state.paused
    assert resumed_state.deadline_us == to_micros(T0 + 24 * H)  # moved by the 4 hours of waiting
    with pytest.raises(IllegalTransition) as error:
        apply(resumed_state, resumed("h1", T0 + 7 * H), context())
    assert error.value.code == "not_waiting"


def test_reopening_starts_a_new_cycle_with_a_new_deadline() -> None:
    state = run(created("h1"), accepted("h1", T0 + H), resolved("h1", T0 + 2 * H))
    transition = apply(state, reopened("h1", T0 + 30 * H), context())
    new = transition.state
    assert new.status is Status.IN_PROGRESS and new.cycle == 1 and new.tier == 0 and new.owner == AGENT
    assert new.deadline_us == to_micros(T0 + 50 * H)
    assert {t.marker for t in new.timers} == {"c1:t0:w50", "c1:t0:w75", "c1:t0:breach"}
    assert names(transition) == ["HandoffStatusChanged", "CustomerNotification"]
    with pytest.raises(IllegalTransition):
        apply(new, reopened("h1", T0 + 31 * H), context())


def test_manual_escalation_moves_one_tier_up() -> None:
    state = run(created("h1"), accepted("h1", T0 + H))
    new = apply(state, escalated("h1", T0 + 2 * H, from_tier=0), context()).state
    assert new.tier == 1 and new.deadline_us == to_micros(T0 + 22 * H)
    with pytest.raises(IllegalTransition) as error:
        apply(new, escalated("h1", T0 + 3 * H, from_tier=0), context())
    assert error.value.code == "stale_escalation"
    top = run(created("h2"), escalated("h2", T0, 0), escalated("h2", T0, 1), escalated("h2", T0, 2))
    with pytest.raises(IllegalTransition) as error:
        apply(top, escalated("h2", T0, 3), context())
    assert error.value.code == "top_of_chain"


def test_duplicate_close_is_silent_to_the_customer() -> None:
    state = run(created("h1"))
    transition = apply(state, closed("h1", T0 + H, reason="DUPLICATE"), context())
    assert names(transition) == ["HandoffStatusChanged"]
