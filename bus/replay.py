"""Reading a whole topic from offset 0 to the end offsets seen at the start (report, reconcile)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from bus import undecodable
from bus.config import OmnibusSettings
from bus.consume import start_or_close
from bus.errors import DeserializationError
from bus.kafka_client import connection_options
from bus.serde import Event, SerdeContext, build_serde
from bus.topics import TopicSpec


@dataclass
class Replay:
    events: list[Event]  # in (partition, offset) order: each handoff's events in the order they happened
    undecodable: int = 0


async def replay_topic(settings: OmnibusSettings, spec: TopicSpec, *, timeout_s: float = 30.0) -> Replay:
    """Every event on the topic now; records that do not decode are counted (and noted: ``bus.undecodable``), not
    fatal; tombstones (records without a value) are no events and are left out."""
    topic = spec.name(settings.topics)
    _, deserializer = build_serde(settings.registry)
    client_id = f"{settings.kafka.client_id}-replay-{uuid.uuid4().hex[:6]}"
    options = {**connection_options(settings.kafka), "client_id": client_id}
    consumer = AIOKafkaConsumer(**options, enable_auto_commit=False, group_id=None)
    await start_or_close(consumer)
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            await consumer._client.force_metadata_update()  # noqa: SLF001 - a topic seen for the first time
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return Replay([])
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
        by_partition: dict[int, list] = {tp.partition: [] for tp in tps}
        remaining = {tp for tp in tps if ends[tp] > starts[tp]}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=int(timeout_s * 1000))
            if not batch:
                raise TimeoutError(f"{topic} did not deliver up to its end offsets within {timeout_s} s")
            for tp, messages in batch.items():
                by_partition[tp.partition].extend(m for m in messages if m.offset < ends[tp])
                if messages and messages[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    replay = Replay([])
    for partition in sorted(by_partition):
        for message in by_partition[partition]:
            if message.value is None:
                continue
            ctx = SerdeContext(topic=topic, key=message.key, partition=partition, offset=message.offset)
            try:
                replay.events.append(deserializer(message.value, ctx))
            except DeserializationError as exc:
                replay.undecodable += 1
                undecodable.note_error(exc, settings.registry.url)
    return replay
