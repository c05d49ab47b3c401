"""Reading what landed on a topic, for broker tests (a real consumer against the real broker)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from bus.config import OmnibusSettings
from bus.kafka_client import connection_options
from bus.serde import Event, SerdeContext, build_serde
from bus.topics import DEAD_LETTERS, TopicSpec


POISON_KEY = b"poison"  # the key of every poison record the fault tests write (``skip_poison`` leaves them out)


@dataclass(frozen=True)
class Landed:
    topic: str
    partition: int
    offset: int
    key: str | None
    event: Event


async def read_raw(bootstrap_servers: str, topic: str, timeout_s: float = 15.0, **options: Any) -> list:
    """Every record currently on ``topic``, from offset 0 up to the end offsets read at the start (``options``:
    more aiokafka options, e.g. ``connection_options`` for a secured broker)."""
    consumer = AIOKafkaConsumer(
        **{"bootstrap_servers": bootstrap_servers, **options}, enable_auto_commit=False, group_id=None,
        client_id=f"test-reader-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()  # noqa: SLF001 - fresh topic
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records = []
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=int(timeout_s * 1000))
            if not batch:
                raise TimeoutError(f"records of {topic} up to {ends} did not arrive in {timeout_s} s")
            for tp, messages in batch.items():
                records.extend(messages)
                if messages and messages[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return records
    finally:
        await consumer.stop()


async def read_events(settings: OmnibusSettings, spec: TopicSpec, *, skip_poison: bool = False) -> list[Landed]:
    """Every event on ``spec``'s topic; ``skip_poison``: leave out records that are not events (fault tests)."""
    _, deserializer = build_serde(settings.registry)
    topic = spec.name(settings.topics)
    landed = []
    options = connection_options(settings.kafka)
    del options["client_id"]
    for record in await read_raw(options.pop("bootstrap_servers"), topic, **options):
        ctx = SerdeContext(topic=topic, key=record.key, partition=record.partition, offset=record.offset)
        if skip_poison and record.key == POISON_KEY:
            continue
        landed.append(
            Landed(topic, record.partition, record.offset,
                   record.key.decode() if record.key is not None else None,
                   deserializer(record.value, ctx))
        )
    return landed


def one_per_event_id(landed: list[Landed]) -> list[Landed]:
    """The first copy of each event id, in topic order: what a subscriber sees after it drops the copies.

    Processors are at-least-once: a batch replayed after a rebalance or a restart publishes its outputs
    again under the same event ids (``bus/envelope.event_id``, UUID v5 of what decided them), so a test that
    counts a processor's outputs counts them as a subscriber does."""
    seen: set[str] = set()
    kept = []
    for item in landed:
        event_id = item.event.value["envelope"]["event_id"]
        if event_id not in seen:
            seen.add(event_id)
            kept.append(item)
    return kept


def one_per_dead_letter_id(letters: list[dict]) -> list[dict]:
    """The first copy of each dead letter, in topic order: a processor's batch redelivered after a rebalance
    dead-letters its poison again under the same ``dead_letter_id`` (``bus.dead_letter.dead_letter_id``)."""
    seen: set[str] = set()
    kept = []
    for letter in letters:
        if letter["dead_letter_id"] not in seen:
            seen.add(letter["dead_letter_id"])
            kept.append(letter)
    return kept


async def read_dead_letters(settings: OmnibusSettings) -> list[dict]:
    """Every dead letter on the topic, one per ``dead_letter_id`` (what an operator's reader sees)."""
    return one_per_dead_letter_id([landed.event.value for landed in await read_events(settings, DEAD_LETTERS)])


async def delete_topics(settings: OmnibusSettings, within_s: float = 30.0) -> None:
    """Delete every topic ``omnibus topics apply`` creates under ``settings``' prefix; return once the broker's
    metadata lists none of them (its delete is asynchronous), at most ``within_s`` seconds."""
    import asyncio
    import time

    from aiokafka.admin import AIOKafkaAdminClient

    from bus.topics import ALL_TOPICS

    names = {spec.name(settings.topics) for spec in ALL_TOPICS}
    admin = AIOKafkaAdminClient(**connection_options(settings.kafka))
    await admin.start()
    try:
        await admin.delete_topics(sorted(names))
        deadline = time.monotonic() + within_s
        while names & set(await admin.list_topics()):
            assert time.monotonic() < deadline, "the deleted topics are still listed"
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
