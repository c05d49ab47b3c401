import asyncio

import pytest

from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from bus.topics import CONTACT_EVENTS
from tests.support.kafka_io import read_events
from tests.support.settings import settings_with_topics
from tests.support.samples import identifiers_observed

pytestmark = pytest.mark.kafka

CALLERS = 8
PER_CALL = 40


async def test_concurrent_callers_share_batches_and_each_record_keeps_its_offset(bootstrap_servers: str) -> None:
    """Eight callers publishing at once through ``send_batched`` (as eight adapter requests do): their records
    travel in shared batches, fewer than one batch per call and partition, and none waits so long that
    aiokafka gives up on it (a batch per call made callers wait behind each other, #9 build 6). Every record
    answers its own partition and offset, and each key keeps its order."""
    settings = await settings_with_topics(bootstrap_servers, partitions=3, producer={"max_batch_size": 8 * 1024})
    serializer, _ = build_serde(settings.registry)
    topic = CONTACT_EVENTS.name(settings.topics)
    calls = [[Outgoing(topic, f"customer-{n % 5}", identifiers_observed(f"+86139{c:04d}{n:04d}", sequence=n))
              for n in range(PER_CALL)] for c in range(CALLERS)]
    async with EventProducer(settings, serializer) as producer:
        encoded = [[await producer.encode(item) for item in call] for call in calls]
        handed = 0
        send_batch = producer._producer.send_batch  # noqa: SLF001 - counting the batches handed to aiokafka

        async def counted(*args: object, **kwargs: object) -> object:
            nonlocal handed
            handed += 1
            return await send_batch(*args, **kwargs)

        producer._producer.send_batch = counted  # type: ignore[method-assign]  # noqa: SLF001
        metadata = await asyncio.gather(*(producer.publish_many(call, records, batched=True)
                                          for call, records in zip(calls, encoded, strict=True)))
    assert handed < CALLERS * 3, f"{handed} batches for {CALLERS} calls on 3 partitions: nothing was shared"
    landed = {(r.partition, r.offset): r for r in await read_events(settings, CONTACT_EVENTS)}
    assert len(landed) == CALLERS * PER_CALL
    for call, answers in zip(calls, metadata, strict=True):
        for item, meta in zip(call, answers, strict=True):
            record = landed[(meta.partition, meta.offset)]
            assert record.event.value["envelope"]["event_id"] == item.event.value["envelope"]["event_id"]
            assert record.key == item.key
        for k in range(5):  # a key's records of one call land in the order it gave them
            offsets = [answers[n].offset for n in range(k, PER_CALL, 5)]
            assert offsets == sorted(offsets)
