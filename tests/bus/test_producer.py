import pytest

from bus.errors import PublishError, SerializationError
from bus.producer import EventProducer, Outgoing
from bus.serde import Event, build_serde
from bus.topics import CONTACT_EVENTS
from tests.support.kafka_io import read_events
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


async def test_unacknowledged_publish_raises_a_retriable_error(bootstrap_servers: str) -> None:
    settings = isolated_settings(bootstrap_servers, kafka={"request_timeout_ms": 1500})
    serializer, _ = build_serde(settings.registry)
    async with EventProducer(settings, serializer) as producer:
        with pytest.raises(PublishError) as caught:
            await producer.publish(Outgoing("never.created.topic", "k", identifiers_observed("+8613800000000")))
    assert caught.value.retriable


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
