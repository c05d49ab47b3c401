"""Through a real registry and a real broker: bus writes the Confluent wire format, and both bus and
confluent-kafka's own AvroDeserializer read it back."""

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.serde.confluent import subject_for
from bus.topics import IDENTIFIERS_OBSERVED
from tests.support.kafka_io import read_events, read_raw
from tests.support.samples import identifiers_observed
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.registry]


async def test_produce_and_consume_through_the_registry(bootstrap_servers: str, schema_registry) -> None:
    settings = await settings_with_topics(bootstrap_servers, registry={"url": schema_registry.url})
    serializer, _ = build_serde(settings.registry)
    topic = IDENTIFIERS_OBSERVED.name(settings.topics)
    sent = [identifiers_observed(f"+861380000000{i}", sequence=i, email=f"user{i}@example.com") for i in range(5)]
    async with EventProducer(settings, serializer) as producer:
        await producer.publish_many([Outgoing(topic, f"k{i}", event) for i, event in enumerate(sent)])

    landed = sorted(await read_events(settings, IDENTIFIERS_OBSERVED), key=lambda l: l.key)
    assert [l.event for l in landed] == sent

    # The schema is registered under the TopicRecordNameStrategy subject and ids are shared.
    client = SchemaRegistryClient({"url": schema_registry.url})
    subject = subject_for(topic, "omnibus.contact.IdentifiersObserved")
    assert subject in client.get_subjects()

    # confluent-kafka's deserializer, which never saw our code, decodes what bus wrote.
    deserialize = AvroDeserializer(client)
    for record in await read_raw(bootstrap_servers, topic):
        assert record.value[0] == 0
        value = deserialize(record.value, SerializationContext(topic, MessageField.VALUE))
        original = next(e for e in sent if e.value["envelope"]["event_id"] == value["envelope"]["event_id"])
        assert value["identifiers"] == original.value["identifiers"]
        assert value["envelope"]["occurred_at"] == original.value["envelope"]["occurred_at"]
