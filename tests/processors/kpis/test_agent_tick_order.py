"""Broker test of the order of KPI ticks and inputs (``bus.tick_gate``): a backlog read after a restart.

A handoff created and resolved within the same hour is open at no window end. After a restart the tick published
after its resolution is read among the first records (faust takes fetched records round-robin across topics);
before the gate it closed the hours with the handoff still open, and aggregates counting it open at every hour
end since went out (then a revision corrected them). Now the tick waits for the resolution: no aggregate ever
counts it open.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from bus.clock import SystemClock, to_micros
from bus.partitioner import murmur2_positive
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.ticks import encode_tick, key_for_partition
from bus.topic_admin import apply_topics
from bus.topics import HANDOFF_EVENTS, KPI_AGGREGATES, KPI_TICKS
from processors.kpis.agent import build_worker, changelogs
from processors.kpis.config import KpisSettings
from processors.kpis.windows import HOUR_US
from tests.processors.kpis.factories import handoff
from tests.processors.kpis.test_journeys import wait_for
from tests.support.kafka_io import read_events
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka
PARTITIONS = 2
FILLERS = 200  # records between the creation and the resolution: the tick overtakes them


def partition_of(key: str) -> int:
    return murmur2_positive(key.encode()) % PARTITIONS


async def end_offset(bootstrap_servers: str, topic: str, partition: int) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        return int((await consumer.end_offsets([tp]))[tp])
    finally:
        await consumer.stop()


async def test_a_tick_read_ahead_of_a_resolution_does_not_count_the_handoff_open(
    bootstrap_servers: str, tmp_path: Path,
) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=PARTITIONS)
    await apply_topics(settings, changelogs(settings))
    events_topic, ticks_topic = HANDOFF_EVENTS.name(settings.topics), KPI_TICKS.name(settings.topics)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)
    quick = "h-quick"
    partition = partition_of(quick)
    fillers = [key for key in (f"h-web-{n}" for n in range(10_000)) if partition_of(key) == partition][:FILLERS]
    backlog: list[Event] = [
        *(handoff("HandoffCreated", key, datetime.now(UTC), origin_channel="WEB") for key in fillers),
        handoff("HandoffResolved", quick, hour + timedelta(minutes=20), resolution="fixed", resolution_code=None,
                team="finance", actor={"kind": "EMPLOYEE", "id": "fin-1"}),
    ]
    serializer, _ = build_serde(settings.registry)

    def worker(run: str, tick_interval_s: float):  # noqa: ANN202 - a KpiWorker
        return build_worker(settings, KpisSettings(tick_interval_s=tick_interval_s, metrics_refresh_s=1.0),
                            SystemClock(), datadir=str(tmp_path / run), broker_commit_every=50,
                            broker_commit_interval=0.5)

    async with EventProducer(settings, serializer) as producer:
        async def publish(events: list[Event]) -> None:
            await producer.publish_many([Outgoing(events_topic, e.value["handoff_id"], e) for e in events])

        first = worker("first", 0)  # applies the creation, without ticks; then it is down while the rest comes
        await first.app.start()
        try:
            await publish([handoff("HandoffCreated", quick, hour + timedelta(minutes=5))])
            async def created() -> bool:
                return first.ledger.store.get(f"h:{quick}") is not None

            await wait_for(created, 120, "the creation counted")
        finally:
            await first.app.stop()
        await publish(backlog)
        end = await end_offset(bootstrap_servers, events_topic, partition)
        await producer.send_raw(ticks_topic, key_for_partition(partition, PARTITIONS),
                                encode_tick(to_micros(datetime.now(UTC)), {events_topic: end}))

    second = worker("second", 0.5)
    await second.app.start()
    try:
        closed_hour = to_micros(datetime.now(UTC)) // HOUR_US * HOUR_US

        async def settled() -> bool:
            cycles = (second.ledger.store.get(f"h:{quick}") or {}).get("cycles") or [[0, None]]
            return (all(second.ledger.store.get(f"h:{key}") for key in fillers) and cycles[-1][1] is not None
                    and second.ledger.closed_through(partition) >= closed_hour)

        await wait_for(settled, 240, "the backlog read and the hours closed")

        async def aggregates() -> list[dict]:
            return [landed.event.value for landed in await read_events(settings, KPI_AGGREGATES)
                    if landed.event.value["channel"] == "CALL_CENTER"]

        async def resolved_counted() -> bool:
            return any(a["handoffs_resolved"] for a in await aggregates() if a["granularity"] == "HOUR")

        await wait_for(resolved_counted, 120, "the resolution in the hour's aggregate")
    finally:
        await second.app.stop()
    counted_open = [(a["granularity"], a["window_start"], a["open_handoffs"]) for a in await aggregates()
                    if a["open_handoffs"]]
    assert not counted_open, f"h-quick was resolved 15 min after its creation, open at no window end: {counted_open}"
