"""Building the events the tracker emits: envelopes, deterministic ids, one builder per event type.

Every output id is ``uuid5(handoff_id + seed)`` with a seed that names the fact (``c0:t1:w50`` for the
50 % warning of tier 1 in the first cycle, ``status:v7`` for the 7th status change...). Re-processing a
record or a tick after a crash therefore re-creates the same ids, which subscribers dedupe on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bus.clock import Clock, from_micros
from bus.envelope import HANDOFF_OUTPUT_IDS, PROCESSOR_CHANNEL, envelope
from bus.serde import Event
from processors.handoffs.state import Actor, DeadlineLineage, HandoffState, Timer

NS = "omnibus.handoff."
CREATED, ROUTED = NS + "HandoffCreated", NS + "HandoffRouted"
ACKNOWLEDGED, ACCEPTED = NS + "HandoffAcknowledged", NS + "HandoffAccepted"
TRANSFERRED, WAITING, RESUMED = NS + "HandoffTransferred", NS + "HandoffWaitingOnCustomer", NS + "HandoffResumed"
RESOLVED, CLOSED, REOPENED = NS + "HandoffResolved", NS + "HandoffClosed", NS + "HandoffReopened"
ESCALATED, WARNING, BREACHED = NS + "HandoffEscalated", NS + "HandoffDeadlineWarning", NS + "HandoffBreached"
ALARM, STATUS_CHANGED = NS + "HandoffUnacknowledgedAlarm", NS + "HandoffStatusChanged"
FOLLOWED_UP = NS + "HandoffFollowedUp"
NOTIFICATION = NS + "CustomerNotification"
RECALL = NS + "CustomerNotificationRecalled"  # on the notifications topic: drop the notification it names if unsent
TRACKER_ONLY = frozenset({WARNING, BREACHED, ALARM, STATUS_CHANGED})
LIFECYCLE = frozenset({CREATED, ROUTED, ACKNOWLEDGED, ACCEPTED, TRANSFERRED, WAITING, RESUMED, RESOLVED, CLOSED,
                       REOPENED, ESCALATED, FOLLOWED_UP}) | TRACKER_ONLY


@dataclass(frozen=True, slots=True)
class Output:
    """An event bound for the handoff events topic or the notifications topic."""

    destination: Literal["events", "notifications"]
    key: str
    event: Event


def output_id(handoff_id: str, seed: str) -> str:
    return HANDOFF_OUTPUT_IDS.derive(handoff_id, seed)


def short_name(schema: str) -> str:
    return schema.rpartition(".")[2]


@dataclass(frozen=True)
class Emitter:
    """Stamps outputs with the tracker's name, the handoff's correlation id and a deterministic id."""

    source_system: str
    clock: Clock

    def envelope(self, state: HandoffState, seed: str, occurred_us: int, causation_id: str | None) -> dict[str, Any]:
        return envelope(
            event_id=output_id(state.handoff_id, seed), occurred_at=from_micros(occurred_us),
            received_at=self.clock.now(), source_system=self.source_system, channel=PROCESSOR_CHANNEL,
            correlation_id=state.correlation_id, causation_id=causation_id,
        )

    def event(
        self, schema: str, state: HandoffState, seed: str, occurred_us: int, causation_id: str | None, **fields: Any
    ) -> Output:
        value = {"envelope": self.envelope(state, seed, occurred_us, causation_id), "handoff_id": state.handoff_id,
                 "customer_id": state.customer_id, **fields}
        return Output("events", state.handoff_id, Event(schema, value))

    # --- one builder per emitted fact -------------------------------------------------------------

    def routed(
        self, state: HandoffState, occurred_us: int, causation_id: str | None, rule: str | None = None
    ) -> Output:
        return self.event(
            ROUTED, state, f"routed:r{state.route}:s{state.resends}", occurred_us, causation_id,
            team=state.team, deadline_at=_instant(state.deadline_us), routing_rule=rule, actor=None,
            receiving_system=state.receiving_system, resend_count=state.resends, case_type=state.case_type,
            service_tier=state.service_tier, summary=state.summary, intake_facts=dict(state.intake_facts),
            customer_identifiers=[dict(i) for i in state.held_identifiers],
        )

    def status_changed(
        self, state: HandoffState, cause: str, occurred_us: int, causation_id: str | None, *, seed: str | None = None,
    ) -> Output:
        return self.event(
            STATUS_CHANGED, state, seed or f"status:v{state.version}", occurred_us, causation_id,
            version=state.version, status=state.status.value, cause=cause,
            customer_identifiers=[dict(i) for i in state.held_identifiers], case_type=state.case_type,
            summary=state.summary, service_tier=state.service_tier, team=state.team, owner=state.owner,
            escalation_tier=state.tier, deadline_at=_instant(state.deadline_us if state.is_open else None),
            acknowledged=state.acknowledged, origin_channel=state.origin_channel, origin_site=state.origin_site,
            created_at=from_micros(state.created_at_us), deadline_lineage=lineage_record(state.lineage),
            tier_source=state.tier_source.value, follow_ups=state.follow_ups, needs_contact=state.needs_contact,
        )

    def warning(self, state: HandoffState, timer: Timer) -> Output:
        return self.event(
            WARNING, state, timer.marker, timer.due_us, None, percent=timer.step,
            deadline_at=_instant(state.deadline_us), escalation_tier=state.tier, team=state.team, owner=state.owner,
        )

    def breached(self, state: HandoffState, timer: Timer) -> Output:
        return self.event(
            BREACHED, state, timer.marker, timer.due_us, None, deadline_at=from_micros(timer.due_us),
            escalation_tier=state.tier, team=state.team, owner=state.owner,
        )

    def escalated(
        self, state: HandoffState, seed: str, occurred_us: int, *, from_tier: int, to_team: str | None,
        to_owner: Actor | None, from_team: str | None, from_owner: Actor | None,
    ) -> Output:
        return self.event(
            ESCALATED, state, seed, occurred_us, None, from_tier=from_tier, to_tier=state.tier,
            deadline_at=_instant(state.deadline_us), trigger="DEADLINE_BREACHED", to_team=to_team, to_owner=to_owner,
            actor=None, from_team=from_team, from_owner=from_owner,
        )

    def alarm(self, state: HandoffState, timer: Timer) -> Output:
        since = state.routed_at_us if state.routed_at_us is not None else state.created_at_us
        return self.event(
            ALARM, state, timer.marker, timer.due_us, None, created_at=from_micros(state.created_at_us),
            unacknowledged_ms=(timer.due_us - since) // 1000, team=state.team,
            receiving_system=state.receiving_system,
        )


def lineage_record(lineage: DeadlineLineage | None) -> dict[str, Any] | None:
    """The ``omnibus.handoff.DeadlineLineage`` record of a state's lineage."""
    if lineage is None:
        return None
    return {
        "rule": lineage.rule.value, "service_tier": lineage.service_tier, "tier_source": lineage.tier_source.value,
        "tier_event_id": lineage.tier_event_id, "resolve_within_hours": float(lineage.resolve_within_hours),
        "calendar": lineage.calendar, "clock_started_at": from_micros(lineage.clock_started_us),
        "customer_id": lineage.customer_id, "previous_deadline_at": _instant(lineage.previous_deadline_us),
    }


def _instant(micros: int | None) -> Any:
    return from_micros(micros) if micros is not None else None


def named_by_held(outputs: list[Output], state: HandoffState) -> list[Output]:
    """``outputs`` with every ``customer_identifiers`` of an event or notification of ``state``'s handoff those
    ``state.held_identifiers`` names (a record applied before the directory's news was followed was
    computed with the number its customer has lost since)."""
    held = [dict(i) for i in state.held_identifiers]
    return [Output(o.destination, o.key, Event(o.event.schema, {**o.event.value, "customer_identifiers": held}))
            if "customer_identifiers" in o.event.value and o.event.value.get("handoff_id") == state.handoff_id
            else o for o in outputs]
