import pytest
from aiokafka import AIOKafkaProducer

from bus.consume import RecordDecoder, raw_record
from bus.dead_letter import DeadLetterWriter
from bus.errors import RawRecord
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import DEAD_LETTERS, IDENTIFIERS_OBSERVED
from tests.support.kafka_io import read_dead_letters, read_raw
from tests.support.samples import identifiers_observed
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka

POISON = b"\xc3\x01not-a-fingerprint-or-body"


async def test_undecodable_record_lands_in_the_dead_letter_topic_and_the_rest_flows(bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    serializer, deserializer = build_serde(settings.registry)
    topic = IDENTIFIERS_OBSERVED.name(settings.topics)
    good_before, good_after = identifiers_observed("+8613800000001"), identifiers_observed("+8613800000002")

    async with EventProducer(settings, serializer) as producer:
        await producer.publish(Outgoing(topic, "k", good_before))
        raw = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
        await raw.start()
        try:
            await raw.send_and_wait(topic, POISON, key=b"k", headers=[("trace", b"abc")])
        finally:
            await raw.stop()
        await producer.publish(Outgoing(topic, "k", good_after))

        decoder = RecordDecoder(deserializer, DeadLetterWriter(producer, DEAD_LETTERS.name(settings.topics), "test"))
        decoded = [await decoder.decode(raw_record(message)) for message in await read_raw(bootstrap_servers, topic)]

    assert [e.value["envelope"]["event_id"] if e else None for e in decoded] == [
        good_before.value["envelope"]["event_id"], None, good_after.value["envelope"]["event_id"]
    ]
    (letter,) = await read_dead_letters(settings)
    assert letter["value"] == POISON and letter["key"] == b"k"
    assert letter["headers"] == [{"key": "trace", "value": b"abc", "key_bytes": None}]
    assert (letter["source_topic"], letter["source_partition"], letter["source_offset"]) == (topic, 0, 1)
    assert letter["error_type"] == "DeserializationError"
    assert "fingerprint" in letter["reason"] and letter["source_component"] == "test"


async def test_http_rejects_have_no_offset(bootstrap_servers: str) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    serializer, _ = build_serde(settings.registry)
    async with EventProducer(settings, serializer) as producer:
        writer = DeadLetterWriter(producer, DEAD_LETTERS.name(settings.topics), "adapter.web")
        await writer.write(RawRecord(value=b"{bad json"), reason="body is not JSON", error_type="RejectedInput.bad_json")
    (letter,) = await read_dead_letters(settings)
    assert letter["source_topic"] is None and letter["source_offset"] is None
    assert letter["value"] == b"{bad json" and letter["reason"] == "body is not JSON"
