"""Broker test of the order of ticks and handoff events (``bus.tick_gate``): a backlog read after a restart.

faust takes fetched records round-robin across the agent's two topics, so a tick published after a backlog of
handoff events is read among the first records, before the acknowledgements and resolutions that sit further
down its partition. Before the gate, that tick resent work orders already acknowledged and breached cases
resolved in time; now its scan waits for every record published before it, and only the truly overdue handoff
fires (each fact under one event id).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import murmur2

from bus.clock import SystemClock, to_micros
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.ticks import encode_tick, key_for_partition
from bus.topics import HANDOFF_EVENTS, HANDOFF_TICKS
from processors.handoffs.config import HandoffPolicy
from tests.processors.handoffs.broker import Watcher, running_worker
from tests.processors.handoffs.factories import acknowledged, created, resolved
from tests.processors.handoffs.test_agent import fired
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka
PARTITIONS = 3
FILLERS = 200  # handoffs not yet due between h-done's creation and its acknowledgement: the tick overtakes them


def partition_of(key: str) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % PARTITIONS


def ids_in(partition: int, prefix: str, count: int) -> list[str]:
    found = (f"{prefix}-{n}" for n in range(100_000))
    return [key for key in found if partition_of(key) == partition][:count]


async def end_offset(bootstrap_servers: str, topic: str, partition: int) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        return int((await consumer.end_offsets([tp]))[tp])
    finally:
        await consumer.stop()


@pytest.mark.parametrize("timing", ["acknowledged-late", "acknowledged-in-time"])
async def test_a_tick_read_ahead_of_a_backlog_waits_for_it(bootstrap_servers: str, timing: str) -> None:
    """``acknowledged-late``: the replay test's original h-done (created 3 h ago, acknowledged 2 h ago, resolved
    1 h ago; its acknowledgement check fell due 2.5 h ago, while no tracker was reading). Either way, at the
    tick every record of the backlog says it is acknowledged and resolved: no alarm, no resend, no breach."""
    settings = await settings_with_topics(bootstrap_servers, partitions=PARTITIONS)
    events_topic, ticks_topic = HANDOFF_EVENTS.name(settings.topics), HANDOFF_TICKS.name(settings.topics)
    now = datetime.now(UTC)
    done = "h-done"
    partition = partition_of(done)
    late, *fillers = ids_in(partition, "h-other", FILLERS + 1)  # the truly overdue one, and the not yet due
    acked_at = now - timedelta(hours=2) if timing == "acknowledged-late" else now - timedelta(hours=2, minutes=50)
    first = [created(late, now - timedelta(hours=30)), created(done, now - timedelta(hours=3))]
    backlog = [*(created(handoff, now - timedelta(minutes=1)) for handoff in fillers),
               acknowledged(done, acked_at), resolved(done, now - timedelta(hours=1))]
    serializer, _ = build_serde(settings.registry)
    policy, clock = HandoffPolicy(), SystemClock()
    watcher = Watcher(settings)
    await watcher.start()
    try:
        async with EventProducer(settings, serializer) as producer:
            async def publish(events: list[Event]) -> None:
                await producer.publish_many([Outgoing(events_topic, e.value["handoff_id"], e) for e in events])

            # A first run applies the two creations, without ticks; then the worker is down while the rest comes.
            async with running_worker(settings, policy, clock, tick_interval_s=0) as worker:
                await publish(first)
                await watcher.until(lambda: all(worker.tracker.store.get(h) for h in (late, done)), timeout_s=120,
                                    what="the first run to apply the creations")
            await publish(backlog)
            end = await end_offset(bootstrap_servers, events_topic, partition)
            # What the worker's ticker publishes: the instant, and the end of the events partition before it.
            await producer.send_raw(ticks_topic, key_for_partition(partition, PARTITIONS),
                                    encode_tick(to_micros(datetime.now(UTC)), {events_topic: end}))

        # The restart reads the backlog and the tick round-robin: the tick comes among the first records.
        async with running_worker(settings, policy, clock, tick_interval_s=0.5) as worker:
            def settled() -> bool:
                store = worker.tracker.store
                return (all(store.get(h) for h in fillers) and (store.get(done) or {}).get("status") == "RESOLVED"
                        and (store.get(late) or {}).get("tier", 0) >= 1)

            await watcher.until(settled, timeout_s=240, what="the tracker to read the backlog and scan")
            await watcher.until(lambda: any(f[0] == late and f[1] == "breach" for f in fired(watcher)),
                                timeout_s=60, what="h-late's breach on the events topic")
    finally:
        await watcher.stop()
    facts = fired(watcher)
    assert not [f for f in facts if f[0] == done], f"h-done was acknowledged and resolved in time: {facts}"
    assert not [f for f in facts if f[0] in fillers]
    overdue = {f: n for f, n in facts.items() if f[0] == late}
    assert (late, "alarm", 1, None) in overdue and (late, "breach", 0, None) in overdue
    assert all(n == 1 for n in overdue.values()), f"each fact of the overdue handoff fires once: {overdue}"
    routed = {e.value["envelope"]["event_id"] for e in watcher.events("HandoffRouted") if e.value["handoff_id"] == done}
    assert len(routed) == 1, "h-done's work order was sent once, never resent"
