"""Broker tests of the tracker worker: 25 simulated hours with a restart in the middle; dead letters.

The worker runs in-process with a ``ManualClock``; its ticker publishes the clock's time to the tick
topic every 0.1 s, so moving the clock moves the deadline scan. Every warning, breach, escalation,
alarm and re-send must land exactly once in the events topic, including those that fell due while the
worker was down.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import timedelta

import pytest
from aiokafka.partitioner import murmur2
from typer.testing import CliRunner

from omnibus.cli import app as omnibus
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.topics import HANDOFF_EVENTS, HANDOFF_TICKS
from bus.clock import ManualClock
from processors.handoffs.config import (
    AcknowledgementPolicy, EscalationStep, HandoffPolicy, RoutingRule, SlaPolicy, Team, TeamCalendar,
)
from processors.handoffs.report import compute_report
from bus.ticks import encode_tick, key_for_partition
from tests.processors.handoffs.broker import Watcher, running_worker
from tests.processors.handoffs.factories import (
    AGENT, OTHER_AGENT, T0, accepted, acknowledged, created, resolved, resumed, waiting,
)
from tests.support.poison import send_with_header_key
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka
H = timedelta(hours=1)
SHORT_CHAIN = tuple(EscalationStep(role=r, resolve_within_hours=2) for r in ("team-lead", "manager", "head"))
POLICY = HandoffPolicy(
    calendars={"default": TeamCalendar(),
               "paris-office": TeamCalendar(timezone="Europe/Paris", working_days=["mon", "tue", "wed", "thu", "fri"],
                                            opens="09:00", closes="17:00")},
    teams=(Team(name="back-office", escalation_chain=SHORT_CHAIN),
           Team(name="finance", calendar="paris-office", receiving_system="finance-desk")),
    routing=(RoutingRule(name="billing", case_types=("billing-*",), team="finance"),),
    sla=(SlaPolicy(case_types=("billing-*",), service_tiers=("gold",), resolve_within_hours=8),
         SlaPolicy(service_tiers=("gold",), resolve_within_hours=4)),
    acknowledgement=AcknowledgementPolicy(timeout_minutes=30, max_resends=3),
)


def _chain(handoff: str, first_breach_h: float) -> list[tuple]:
    """Facts of a back-office handoff breaching every 2-hour tier after its first deadline, up to +25 h."""
    facts = []
    for tier in range(4):
        deadline = first_breach_h + 2 * tier
        start = deadline - (20 if tier == 0 else 2)
        for percent in (50, 75):
            due = start + (deadline - start) * percent / 100
            if due <= 25:
                facts.append((due, handoff, "warning", tier, percent))
        if deadline <= 25:
            facts.append((deadline, handoff, "breach", tier, None))
            if tier < 3:
                facts.append((deadline, handoff, "escalation", tier + 1, None))
    return facts


EXPECTED = sorted(
    _chain("A", 20)
    + [(2, "B", "warning", 0, 50)]
    + [f for f in _chain("C", 24) if f[0] >= 14]  # 4 hours on hold: everything 4 hours later
    + _chain("D", 20)
    + [(0.5 * n, "D", "alarm", n, None) for n in range(1, 5)] + [(0.5 * n, "D", "resend", n, None) for n in range(1, 4)]
    # finance works 09:00-17:00 Paris time: 8 gold hours from Monday 10:00 end on Tuesday 10:00 (T0 + 24 h).
    + [(4, "E", "warning", 0, 50), (6, "E", "warning", 0, 75), (24, "E", "breach", 0, None),
       (24, "E", "escalation", 1, None)],
    key=lambda f: (f[0], f[1], f[2], f[3]),
)
SCRIPT = {  # lifecycle events the channels and back offices send, by simulated hour
    2.5: [resolved("B", T0 + 2.5 * H)],
    5: [waiting("C", T0 + 5 * H)],
    9: [resumed("C", T0 + 9 * H)],
}


def fact_of(event: Event) -> tuple | None:
    v, name = event.value, event.schema.rpartition(".")[2]
    if v["envelope"]["source_system"] != "omnibus-handoffs":
        return None
    if name == "HandoffDeadlineWarning":
        return (v["handoff_id"], "warning", v["escalation_tier"], v["percent"])
    if name == "HandoffBreached":
        return (v["handoff_id"], "breach", v["escalation_tier"], None)
    if name == "HandoffEscalated":
        return (v["handoff_id"], "escalation", v["to_tier"], None)
    if name == "HandoffUnacknowledgedAlarm":
        return (v["handoff_id"], "alarm", v["unacknowledged_ms"] // 1_800_000, None)
    if name == "HandoffRouted" and v["resend_count"]:
        return (v["handoff_id"], "resend", v["resend_count"], None)
    return None


def first_copies(events: list[Event]) -> list[Event]:
    """The first copy of each event id: a batch replayed after a rebalance or restart publishes its outputs again
    under the same ids, and a subscriber drops them (at-least-once; ``tests.support.kafka_io.one_per_event_id``)."""
    seen: set[str] = set()
    return [e for e in events if not (e.value["envelope"]["event_id"] in seen or seen.add(e.value["envelope"]["event_id"]))]


def fired(watcher: Watcher) -> Counter:
    """Each fact once per event id: a fact under two ids is a real duplicate, a copy under one id is not."""
    return Counter(f for e in first_copies(watcher.events()) if (f := fact_of(e)) is not None)


async def test_25_hours_of_deadlines_exactly_once_across_a_restart(bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=3)
    topic = HANDOFF_EVENTS.name(settings.topics)
    clock = ManualClock(T0)
    watcher = Watcher(settings)
    await watcher.start()
    serializer, _ = build_serde(settings.registry)

    def statuses(handoff: str) -> list[dict]:
        return [e.value for e in watcher.events("HandoffStatusChanged") if e.value["handoff_id"] == handoff]

    async def send(*events: Event) -> None:
        await producer.publish_many([Outgoing(topic, e.value["handoff_id"], e) for e in events])
        for e in events:  # wait until the tracker applied it: its status change names it as the cause
            await watcher.until(lambda e=e: any(s["envelope"]["causation_id"] == e.value["envelope"]["event_id"]
                                                for s in statuses(e.value["handoff_id"])), what=e.schema)

    async def advance_to(hours: float) -> None:
        clock.set(T0 + hours * H)
        await send(*SCRIPT.get(hours, []))
        due = Counter((h, k, s, p) for at, h, k, s, p in EXPECTED if at <= hours)
        await watcher.until(lambda: fired(watcher) >= due,
                            what=lambda: f"facts due at +{hours} h; missing {due - fired(watcher)}")

    async with EventProducer(settings, serializer) as producer:
        async with running_worker(settings, POLICY, clock):
            await send(*(created(h, case_type="line-repair") for h in "ACD"),
                       created("B", case_type="line-repair", tier="gold"),
                       created("E", case_type="billing-dispute", tier="gold"))
            await send(*(acknowledged(h, T0 + 0.05 * H) for h in "ABCE"))
            await send(accepted("A", T0 + 0.1 * H), accepted("C", T0 + 0.1 * H))
            for quarter in range(1, 12 * 4 + 1):
                await advance_to(quarter / 4)
        # The worker is down from +12 h to +16 h: C's 50 % and A's and D's 75 % warnings fall due meanwhile.
        clock.set(T0 + 16 * H)
        async with running_worker(settings, POLICY, clock):
            for quarter in range(16 * 4, 25 * 4 + 1):
                await advance_to(quarter / 4)
            await asyncio.sleep(3)  # anything fired twice would have landed by now

        assert fired(watcher) == Counter((h, k, s, p) for _, h, k, s, p in EXPECTED)
        assert max(fired(watcher).values()) == 1
        copies: dict[str, set[str]] = {}  # event id -> every content published under it (the instants left out)
        for e in watcher.events():
            if e.schema != "omnibus.deadletter.DeadLetter":
                fields = {k: v for k, v in e.value.items() if k != "envelope"}
                copies.setdefault(e.value["envelope"]["event_id"], set()).add(repr((e.schema, sorted(fields.items()))))
        assert all(len(contents) == 1 for contents in copies.values()), "two different events under one event id"

        # Customer feedback went to the channel the case came from, once per change.
        notifications = first_copies(watcher.events("CustomerNotification"))
        kinds = Counter((e.value["handoff_id"], e.value["kind"]) for e in notifications)
        assert kinds[("B", "RESOLVED")] == 1 and kinds[("A", "DELAYED")] == 1 and kinds[("E", "RECEIVED")] == 1
        assert kinds[("C", "WAITING_ON_CUSTOMER")] == 1 and kinds[("C", "IN_PROGRESS")] == 2

        # The month report from the CLI equals the report of the replay this test watched from offset 0.
        env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix,
               "OMNIBUS_TOPICS__PARTITIONS": "3"}
        result = await asyncio.to_thread(CliRunner().invoke, omnibus,
                                         ["report", "handoffs", "--month", "2026-11", "--format", "json"], env=env)
        assert result.exit_code == 0, result.output
        replayed = [e for t, e in watcher.seen if t == topic]
        expected_rows = [r.__dict__ for r in compute_report(replayed, "2026-11")]
        assert [json.loads(line) for line in result.stdout.splitlines()] == [
            {"month": "2026-11", **row} for row in expected_rows]
        office = next(r for r in expected_rows if r["name"] == "back-office")
        assert (office["received"], office["resolved"], office["breached"], office["escalated"]) == (4, 1, 7, 7)
        agent = next(r for r in expected_rows if r["name"] == AGENT["id"])
        assert (agent["received"], agent["breached"], agent["escalated"]) == (2, 4, 4)

        result = await asyncio.to_thread(CliRunner().invoke, omnibus,
                                         ["handoffs", "reconcile", "--format", "json", "--strict"], env=env)
        assert result.exit_code == 1
        assert [(u["handoff_id"], u["resends"]) for u in map(json.loads, result.stdout.splitlines())] == [("D", 3)]
    await watcher.stop()


async def test_poison_and_illegal_records_are_dead_lettered(bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=3)
    topic, ticks = HANDOFF_EVENTS.name(settings.topics), HANDOFF_TICKS.name(settings.topics)
    clock = ManualClock(T0)
    watcher = Watcher(settings)
    await watcher.start()
    serializer, _ = build_serde(settings.registry)
    async with EventProducer(settings, serializer) as producer, running_worker(settings, POLICY, clock):
        await producer.publish_many([Outgoing(topic, "A", created("A")), Outgoing(topic, "A", accepted("A", T0))])
        await producer.send_raw(topic, b"A", b"\x00 not avro")
        # #13 case 5: a tick of 10**30 µs fired every breach at once; a non-UTF-8 header key crash-looped.
        of_a = (murmur2(b"A") & 0x7FFFFFFF) % 3  # the partition of handoff A, whose deadlines must not fire
        await producer.send_raw(ticks, key_for_partition(of_a, 3), encode_tick(10**30))
        await send_with_header_key(bootstrap_servers, ticks, of_a, key_for_partition(of_a, 3), encode_tick(10**18),
                                   b"\xff\xfe")
        await producer.publish_many([
            Outgoing(topic, "A", accepted("A", T0 + H, owner=OTHER_AGENT)),  # a second owner
            Outgoing(topic, "ghost", acknowledged("ghost", T0)),  # nobody created it
            Outgoing(topic, "A", resolved("A", T0 + 2 * H)),  # still fine after all that
        ])
        await watcher.until(lambda: any(e.value["status"] == "RESOLVED"
                                        for e in watcher.events("HandoffStatusChanged")))
        # one per dead_letter_id: a batch redelivered after a rebalance dead-letters its poison again under its id
        await watcher.until(lambda: len({d.value["dead_letter_id"] for d in watcher.events("DeadLetter")}) >= 5)
    letters = sorted({d.value["dead_letter_id"]: (d.value["error_type"], d.value["reason"])
                      for d in watcher.events("DeadLetter")}.values())
    assert [t for t, _ in letters] == ["BadTick", "BadTick", "DeserializationError", "IllegalTransition:second_owner",
                                       "IllegalTransition:unknown_handoff"]
    assert "nobody created" in letters[4][1]
    assert "implausible" in letters[0][1] and "header key is not UTF-8" in letters[1][1]
    fired = [e for e in watcher.events() if e.schema.rsplit(".", 1)[-1] in
             ("HandoffBreached", "HandoffEscalated", "HandoffDeadlineWarning", "HandoffUnacknowledgedAlarm")]
    assert fired == []
    await watcher.stop()

