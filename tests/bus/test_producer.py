import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client import REGISTRY

from bus.config import OmnibusSettings
from bus.errors import MissingTopicError, SerializationError
from bus.kafka_client import connection_options
from bus.producer import START, EventProducer, LazyProducer, Outgoing
from bus.stack.kafka import KafkaBroker
from bus.serde import Event, build_serde
from bus.topics import CONTACT_EVENTS
from tests.support.kafka_io import read_events, read_raw
from tests.support.settings import isolated_settings, settings_with_topics
from tests.support.samples import identifiers_observed

pytestmark = pytest.mark.kafka


async def test_published_events_come_back_in_key_order(bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=6)
    serializer, _ = build_serde(settings.registry)
    topic = CONTACT_EVENTS.name(settings.topics)
    sent = [identifiers_observed(f"+86138{i % 3:08d}", sequence=i) for i in range(30)]
    async with EventProducer(settings, serializer) as producer:
        metadata = await producer.publish_many(
            [Outgoing(topic, f"customer-{i % 3}", event) for i, event in enumerate(sent)]
        )
    assert all(m.offset >= 0 for m in metadata)
    landed = await read_events(settings, CONTACT_EVENTS)
    assert len(landed) == 30
    by_key: dict[str, list[str]] = {}
    for record in sorted(landed, key=lambda r: (r.partition, r.offset)):
        by_key.setdefault(record.key, []).append(record.event.value["envelope"]["event_id"])
    for k in range(3):
        expected = [e.value["envelope"]["event_id"] for i, e in enumerate(sent) if i % 3 == k]
        assert by_key[f"customer-{k}"] == expected
    assert len({r.partition for r in landed if r.key == "customer-0"}) == 1


async def test_invalid_event_is_refused_before_sending(bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    serializer, _ = build_serde(settings.registry)
    async with EventProducer(settings, serializer) as producer:
        with pytest.raises(SerializationError):
            await producer.publish(Outgoing(CONTACT_EVENTS.name(settings.topics), "k", Event(
                "omnibus.contact.IdentifiersObserved", {"identifiers": "not a list"})))


async def test_a_publish_to_a_topic_never_created_is_a_missing_topic_not_an_outage(bootstrap_servers: str) -> None:
    """tester24 F8: retried for ``producer.give_up_after_s`` (600 s) as an outage before; the broker answers without
    the topic, so it is ``MissingTopicError`` (not retriable) once aiokafka's own wait for its metadata ends."""
    settings = isolated_settings(bootstrap_servers, kafka={"request_timeout_ms": 1500},
                                 producer={"delivery_timeout_ms": 1500, "give_up_after_s": 600})
    serializer, _ = build_serde(settings.registry)
    async with EventProducer(settings, serializer) as producer:
        with pytest.raises(MissingTopicError) as caught:
            await asyncio.wait_for(
                producer.publish(Outgoing("never.created.topic", "k", identifiers_observed("+8613800000000"))), 60)
    assert caught.value.topics == ("never.created.topic",) and not caught.value.retriable


async def test_batched_send_lands_like_send_with_its_own_offsets(bootstrap_servers: str) -> None:
    """``send_batched`` (records appended to Kafka batches per partition) puts every key on the partition ``send`` picks, keeps
    each key's order, and answers each record's own offset; a batch too small for the call is split."""
    settings = await settings_with_topics(bootstrap_servers, partitions=6, producer={"max_batch_size": 1024})
    serializer, _ = build_serde(settings.registry)
    topic = CONTACT_EVENTS.name(settings.topics)
    sent = [identifiers_observed(f"+86138{i % 7:08d}", sequence=i) for i in range(60)]
    async with EventProducer(settings, serializer) as producer:
        one_by_one = await producer.publish_many([Outgoing(topic, f"customer-{i % 7}", sent[i]) for i in range(7)])
        items = [Outgoing(topic, f"customer-{i % 7}", event) for i, event in enumerate(sent)]
        encoded = [await producer.encode(item) for item in items]
        assert sum(len(record.value) for record in encoded) > 6 * 1024  # some partition needs several batches
        metadata = await producer.publish_many(items, encoded, batched=True)
    landed = {(r.partition, r.offset): r for r in await read_events(settings, CONTACT_EVENTS)}
    assert len(landed) == 67
    for i, meta in enumerate(metadata):  # each record's own partition and offset
        record = landed[(meta.partition, meta.offset)]
        assert record.event.value["envelope"]["event_id"] == sent[i].value["envelope"]["event_id"]
        assert meta.partition == one_by_one[i % 7].partition  # where ``send`` put the same key
    for k in range(7):
        offsets = [metadata[i].offset for i in range(k, 60, 7)]
        assert offsets == sorted(offsets)


def failures(topic: str) -> float:
    """``omnibus_publish_failures_total`` of ``topic`` (``START``: failed starts), retriable ones."""
    return REGISTRY.get_sample_value("omnibus_publish_failures_total", {"topic": topic, "retriable": "true"}) or 0.0


async def until_more(count: float, topic: str, sending: asyncio.Future) -> None:
    """Until ``failures(topic)`` exceeds ``count``: the producer failed, and is still trying (``sending`` runs)."""
    while failures(topic) <= count:
        if sending.done():
            sending.result()  # raises what stopped it (the old code: KafkaConnectionError, PublishError)
            raise AssertionError("delivered while the broker was away")
        await asyncio.sleep(0.1)


async def test_a_topic_deleted_while_publishing_is_a_missing_topic_not_an_outage(bootstrap_servers: str) -> None:
    """tester24 F8 at run time: a topic deleted under a producer that published to it (its metadata still cached)
    failed like an outage (aiokafka retries the produce until ``delivery_timeout_ms``, then ``KafkaTimeoutError``)
    and was retried for ``producer.give_up_after_s``. The broker answers without it: ``MissingTopicError`` at once."""
    settings = isolated_settings(bootstrap_servers, kafka={"request_timeout_ms": 1500},
                                 producer={"delivery_timeout_ms": 1500, "give_up_after_s": 600})
    topic = f"gone-{settings.topics.prefix}"
    await create_topic(settings, topic)
    async with EventProducer(settings, build_serde(settings.registry)[0]) as producer:
        assert (await producer.send_raw(topic, b"k", b"before")).offset == 0
        await delete_topic(settings, topic)
        with pytest.raises(MissingTopicError) as caught:
            await asyncio.wait_for(producer.send_raw(topic, b"k", b"after"), 60)
    assert caught.value.topics == (topic,)


async def delete_topic(settings: OmnibusSettings, topic: str) -> None:
    admin = AIOKafkaAdminClient(**connection_options(settings.kafka))
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()


async def create_topic(settings: OmnibusSettings, topic: str) -> None:
    admin = AIOKafkaAdminClient(**connection_options(settings.kafka))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()


@pytest.mark.timeout(900)
async def test_a_producer_first_started_in_a_broker_outage_delivers_once_the_broker_is_back(tmp_path: Path) -> None:
    """A worker's producer starts on its first output (``LazyProducer``; identity's ``Lifecycle.ensure_started``):
    if no broker answers then, it keeps trying and delivers the output once the broker is back (before:
    ``KafkaConnectionError: Unable to bootstrap``, the worker stopped). A send while the broker is away again waits
    for it too (aiokafka retries an idempotent producer's batch on ``NodeNotReadyError`` itself)."""
    broker = KafkaBroker(tmp_path / "broker", keep_data=True)  # ports its own; started again, it keeps them
    await asyncio.to_thread(broker.start)
    lazy: LazyProducer | None = None
    try:
        settings = isolated_settings(broker.bootstrap_servers, kafka={"request_timeout_ms": 3000},
                                     producer={"delivery_timeout_ms": 3000, "retry_backoff_max_ms": 1000,
                                               "give_up_after_s": 400})
        topic = f"outage-{settings.topics.prefix}"
        await create_topic(settings, topic)
        serializer, _ = build_serde(settings.registry)
        lazy = LazyProducer(lambda: EventProducer(settings, serializer))
        await asyncio.to_thread(broker.stop)

        async def output(value: bytes) -> int:
            return (await (await lazy.ready()).send_raw(topic, b"k", value)).offset

        before = failures(START)
        first = asyncio.ensure_future(output(b"first output"))
        await until_more(before + 1, START, first)  # two starts failed, and it still tries
        await asyncio.to_thread(broker.start)
        assert await asyncio.wait_for(first, 300) == 0

        await asyncio.to_thread(broker.stop)
        second = asyncio.ensure_future(output(b"second output"))
        await asyncio.to_thread(broker.start)
        assert not second.done() or second.exception() is None
        await asyncio.wait_for(second, 300)
        values = [record.value for record in await read_raw(broker.bootstrap_servers, topic)]
        assert values[0] == b"first output" and set(values) == {b"first output", b"second output"}
    finally:
        if lazy is not None:
            await lazy.stop()
        await asyncio.to_thread(broker.stop)


async def test_a_topic_known_at_start_keeps_its_metadata_after_a_refresh_for_another(
    bootstrap_servers: str, topic_factory: Callable[..., str]
) -> None:
    """aiokafka tracked only the topics a send had found no metadata for: a record for a topic known from the
    start-up's all-topics answer (the dead-letter topic) was appended, then a refresh for a topic new to the
    producer dropped that topic's metadata, and the record waited for a leader until ``request_timeout_ms`` (the
    identity worker's dead letters, tests/processors/identity/test_poison.py, under load)."""
    from bus.topic import KafkaRecord

    settings = isolated_settings(bootstrap_servers, producer={"linger_ms": 500, "delivery_timeout_ms": 60_000})
    known = topic_factory(1)
    async with EventProducer(settings, build_serde(settings.registry)[0]) as producer:
        later = topic_factory(1)  # created after the producer's start: a send to it refreshes for it
        sends = asyncio.gather(producer.send([KafkaRecord(known, b"k", b"dead letter", ())]),
                               producer.send([KafkaRecord(later, b"k", b"v", ())]))
        sent = await asyncio.wait_for(sends, timeout=30)
    assert [len(batch) for batch in sent] == [1, 1]
