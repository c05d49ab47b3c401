"""A processor built the house way: a faust app from the factory, a thin agent, poison to dead letters."""

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from bus.app import create_app
from bus.consume import RecordDecoder, raw_record
from bus.dead_letter import DeadLetterWriter
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import DEAD_LETTERS, IDENTIFIERS_OBSERVED
from tests.support.kafka_io import read_dead_letters
from tests.support.samples import identifiers_observed
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka


async def test_poison_record_never_stalls_the_partition(bootstrap_servers: str, tmp_path: Path) -> None:
    settings = await settings_with_topics(bootstrap_servers, partitions=1)
    serializer, deserializer = build_serde(settings.registry)
    topic_name = IDENTIFIERS_OBSERVED.name(settings.topics)
    app = create_app("poison-test", settings, datadir=str(tmp_path))
    seen: list[str] = []
    all_seen = asyncio.Event()

    async with EventProducer(settings, serializer) as producer:
        decoder = RecordDecoder(deserializer, DeadLetterWriter(producer, DEAD_LETTERS.name(settings.topics), "test-agent"))

        @app.agent(app.topic(topic_name))
        async def count(stream):  # type: ignore[no-untyped-def]
            async for event in stream.events():
                decoded = await decoder.decode(raw_record(event.message))
                if decoded is not None:
                    seen.append(decoded.value["envelope"]["source_event_id"])
                if len(seen) == 2:
                    all_seen.set()

        await producer.publish(Outgoing(topic_name, "k", identifiers_observed("+8613800000001", sequence=1)))
        raw = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
        await raw.start()
        await raw.send_and_wait(topic_name, b"garbage", key=b"k")
        await raw.stop()
        await producer.publish(Outgoing(topic_name, "k", identifiers_observed("+8613800000002", sequence=2)))

        await app.start()
        try:
            await asyncio.wait_for(all_seen.wait(), 60)
        finally:
            await app.stop()

    assert seen == ["seq-1", "seq-2"]
    (letter,) = await read_dead_letters(settings)
    assert letter["value"] == b"garbage" and letter["source_offset"] == 1
    assert "single-object" in letter["reason"]
