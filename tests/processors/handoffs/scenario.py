"""A small month of handoffs, run through the real tracker with an in-memory table: the lifecycle events as
the channels and back offices sent them, interleaved with what the tracker emitted, in topic order."""

from __future__ import annotations

from datetime import timedelta

from bus.serde import Event
from bus.clock import ManualClock, to_micros
from processors.handoffs.config import HandoffPolicy, Team
from processors.handoffs.outputs import Emitter
from processors.handoffs.tracker import Destinations, HandoffTracker
from tests.processors.handoffs.factories import (
    AGENT, OTHER_AGENT, SYSTEM, T0, FakeDeadLetters, FakePublisher, accepted, acknowledged, closed, created,
    record, resolved, transferred,
)

H = timedelta(hours=1)
POLICY = HandoffPolicy(teams=(Team(name="back-office"), Team(name="repair")))


async def run_scenario() -> list[Event]:
    """h1 resolved by agent-1 in 5 h; h2 bounced by agent-1 to repair, resolved there by agent-2 in 30 h
    (breached, escalated once); h3 never acknowledged (alarms, re-sends), breached
    at +27 h with back-office and escalated, still open."""
    clock = ManualClock(T0)
    publisher = FakePublisher()
    tracker = HandoffTracker(POLICY, Emitter(SYSTEM, clock), {}, publisher, FakeDeadLetters(),
                             Destinations("events", "notifications"))
    topic: list[Event] = []

    async def send(event: Event) -> None:
        topic.append(event)
        start = len(publisher.published)
        await tracker.handle(event, record())
        topic.extend(o.event for o in publisher.published[start:] if o.topic == "events")

    async def tick(at) -> None:
        start = len(publisher.published)
        await tracker.tick(0, to_micros(at))
        topic.extend(o.event for o in publisher.published[start:] if o.topic == "events")

    await send(created("h1"))
    await send(acknowledged("h1", T0 + 0.1 * H))
    await send(accepted("h1", T0 + H))
    await send(created("h2", T0 + H))
    await send(acknowledged("h2", T0 + 1.1 * H))
    await send(accepted("h2", T0 + 2 * H))
    await send(transferred("h2", T0 + 3 * H, from_owner=AGENT, from_team="back-office", to_team="repair",
                           to_owner=OTHER_AGENT))
    await send(resolved("h1", T0 + 5 * H))
    await send(closed("h1", T0 + 6 * H))
    await send(created("h3", T0 + 7 * H))
    for hour in range(8, 31):
        await tick(T0 + hour * H)
    await send(resolved("h2", T0 + 31 * H, actor=OTHER_AGENT, team="repair"))
    return topic
