"""Third-party compatibility proof: Confluent's own client works against the local registry.

confluent-kafka's ``SchemaRegistryClient`` + ``AvroSerializer``/``AvroDeserializer`` register a
schema through the Confluent API, read it back by id, and round-trip a record (in memory, then
through the real broker).
"""

from __future__ import annotations

import json
import uuid

import pytest

from bus.stack.registry import SchemaRegistryServer
from tests.fixtures.stack import ExternalServer, TopicFactory

try:
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext
except ImportError as exc:  # fail, do not skip: this file is the compatibility proof
    raise ImportError(
        f"{exc}: confluent-kafka's registry client needs its extras; "
        "pip install 'confluent-kafka[avro,schemaregistry]' (the project's test extra)"
    ) from exc

pytestmark = pytest.mark.registry

PING = {
    "type": "record",
    "name": "Ping",
    "namespace": "io.omnibus.test",
    "fields": [{"name": "id", "type": "string"}, {"name": "count", "type": "long"}],
}


def _client(registry: SchemaRegistryServer | ExternalServer) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": registry.url})


def test_register_and_read_back_by_id(schema_registry: SchemaRegistryServer | ExternalServer) -> None:
    client = _client(schema_registry)
    subject = f"pings-{uuid.uuid4().hex[:8]}-value"
    schema_id = client.register_schema(subject, Schema(json.dumps(PING), "AVRO"))
    fetched = client.get_schema(schema_id)
    assert fetched.schema_type in ("AVRO", None)
    assert json.loads(fetched.schema_str) == PING
    assert client.get_latest_version(subject).schema_id == schema_id
    assert subject in client.get_subjects()


def test_avro_serializer_round_trip(schema_registry: SchemaRegistryServer | ExternalServer) -> None:
    client = _client(schema_registry)
    topic = f"pings-{uuid.uuid4().hex[:8]}"
    serializer = AvroSerializer(client, json.dumps(PING))
    deserializer = AvroDeserializer(client)
    context = SerializationContext(topic, MessageField.VALUE)
    payload = serializer({"id": "p-1", "count": 42}, context)
    assert payload[0] == 0  # Confluent wire format: magic byte, then the 4-byte schema id
    schema_id = int.from_bytes(payload[1:5], "big")
    assert json.loads(client.get_schema(schema_id).schema_str) == PING
    assert deserializer(payload, context) == {"id": "p-1", "count": 42}


@pytest.mark.kafka
def test_round_trip_through_the_broker(
    schema_registry: SchemaRegistryServer | ExternalServer, bootstrap_servers: str, topic_factory: TopicFactory
) -> None:
    client = _client(schema_registry)
    topic = topic_factory(partitions=1, prefix="avro")
    serializer = AvroSerializer(client, json.dumps(PING))
    deserializer = AvroDeserializer(client)
    context = SerializationContext(topic, MessageField.VALUE)

    producer = Producer({"bootstrap.servers": bootstrap_servers, "enable.idempotence": True, "acks": "all"})
    records = [{"id": f"p-{i}", "count": i} for i in range(5)]
    for record in records:
        producer.produce(topic, key=record["id"].encode(), value=serializer(record, context))
    assert producer.flush(30) == 0

    consumer = Consumer({
        "bootstrap.servers": bootstrap_servers, "group.id": f"g-{uuid.uuid4().hex[:8]}",
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
    })  # fmt: skip
    consumer.subscribe([topic])
    received = []
    try:
        for _ in range(120):
            message = consumer.poll(0.5)
            if message is None:
                continue
            assert message.error() is None, message.error()
            received.append(deserializer(message.value(), context))
            if len(received) == len(records):
                break
    finally:
        consumer.close()
    assert received == records
